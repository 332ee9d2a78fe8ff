"""Issue 9: `livepool status` says what is open, closed, proposed, pending until when,
active, not yet confirmed on-chain, what the contract holds and owes, and what to do."""

from __future__ import annotations

import json
import re

import pytest

from livepool import operations
from livepool.humantime import human_time, relative
from livepool.ledger import Ledger
from livepool.status import pool_status, render

from .conftest import CHALLENGE_PERIOD, run_epoch


def test_human_time__iso_utc_and_relative():
    assert human_time(1_764_000_000, now=1_764_000_000 - 3 * 3_600) == (
        "2025-11-24T16:00:00Z (in 3 h)"
    )
    assert relative(100, now=100 + 90 * 60) == "1.5 h ago"
    assert relative(5, now=5) == "now"


def test_status__unconfigured_ledger__says_config_first(tmp_path):
    status = pool_status(Ledger(data_dir=tmp_path / "data"), now=1_764_000_000)
    assert not status["configured"]
    assert status["next"][0].startswith("livepool config")
    assert "not configured" in render(status)


def test_status__pending_root__until_iso_time_in_hours(ledger, distributor, miners, poster, chain):
    run_epoch(ledger, miners, 0)
    operations.propose_latest(ledger, distributor, poster)
    status = pool_status(ledger, distributor)
    pending = status["chain"]["pending"]
    assert status["epochs"][-1]["state"] == "pending"
    assert isinstance(pending["valid_at"], int), "unix seconds in JSON"
    json.dumps(status)
    text = render(status)
    assert f"pending until {human_time(pending['valid_at'], status['chain']['now'])}" in text
    assert re.search(r"\(in (1 h|59 min)\)", text), text
    assert "wait: epoch 0 becomes valid" in text
    # The genesis is a year back: a year of empty epochs is due, and status warns.
    assert status["due"]["count"] > 300 and "most of them likely empty" in text
    assert status["chain"]["liabilities"] == status["chain"]["pending"]["total"]
    assert status["chain"]["surplus"] == status["chain"]["balance"] - pending["total"]


def test_status__active_and_closed__next_is_propose(
    ledger, distributor, miners, poster, keeper, chain
):
    run_epoch(ledger, miners, 0)
    operations.propose_latest(ledger, distributor, poster)
    chain.pending_timestamp += CHALLENGE_PERIOD
    operations.accept(ledger, distributor, keeper)
    run_epoch(ledger, miners, 1, seed=3)
    status = pool_status(ledger, distributor)
    assert [e["state"] for e in status["epochs"]] == ["active", "closed"]
    assert any(step.startswith("ape run propose") for step in status["next"])


def test_status__prepared_action__listed_as_unconfirmed(ledger, distributor, miners, poster):
    run_epoch(ledger, miners, 0)
    ledger.set_chain_action("propose", "epoch:0", "prepared", block=1)
    status = pool_status(ledger, distributor)
    assert status["unconfirmed_actions"][0]["key"] == "epoch:0"
    assert "propose epoch:0: prepared since" in render(status)
    assert "reconcile" in status["next"][0]


@pytest.mark.parametrize("as_json", [False, True])
def test_status__no_chain__shows_the_ledger_and_why(ledger, miners, as_json):
    run_epoch(ledger, miners, 0)
    status = pool_status(ledger, None, chain_error="no deployment recorded")
    assert status["chain"] is None
    assert "contract: not read (no deployment recorded)" in render(status)
