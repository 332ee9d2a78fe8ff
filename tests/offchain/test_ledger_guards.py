"""Issue 9's guards on the ledger: ingest refuses before `livepool config`, `--all-due`
asks before closing many epochs, long ids are cut, receipts and verdicts are counted
apart, implausible receipts are reported as flagged at ingest, `postgres://` works."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from livepool.cli import cli
from livepool.ledger.database import normalize_url

FEE = "0x00000000000000000000000000000000000000fe"
MINER = "0x2222222222222222222222222222222222222222"
ORCH = "0x1111111111111111111111111111111111111111"
GENESIS = 1_764_028_800


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), *args], input=input)

    return invoke


def receipt(rid: str, **changes):
    item = {
        "id": rid,
        "orchestrator": ORCH,
        "transcoder": MINER,
        "stream": "s",
        "seq": 0,
        "finished_at": GENESIS + 10,
        "duration_ms": 2_000,
        "latency_ms": 100,
        "pixels_decoded": 1_000,
        "pixels_encoded": 1_000,
        "price_per_unit": 1,
        "pixels_per_unit": 1,
        "status": "ok",
    }
    return {**item, **changes}


def write(tmp_path, *items):
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return str(path)


def test_ingest__before_config__refused_nothing_stored(run, tmp_path):
    # Before: it silently used genesis 0, which could not be changed afterwards.
    result = run("ingest", write(tmp_path, receipt("a")), "--no-progress")
    assert result.exit_code == 2
    assert "error: the pool is not configured: run `livepool config" in result.output
    assert run("config", "--genesis", str(GENESIS), "--fee-address", FEE).exit_code == 0


def test_ingest__counts_receipts_and_verdicts_apart(run, tmp_path):
    run("config", "--genesis", str(GENESIS), "--fee-address", FEE)
    verdict = {"verdict": {"receipt_id": "a", "ok": False, "reason": "bad"}}
    result = run("ingest", write(tmp_path, receipt("a"), receipt("b", seq=1), verdict))
    assert result.exit_code == 0, result.output
    assert "accepted 3 (2 receipts, 1 verdicts)" in result.output


def test_ingest__long_id__truncated_in_report(run, tmp_path):
    run("config", "--genesis", str(GENESIS), "--fee-address", FEE)
    long_id = "x" * 10_000
    result = run("ingest", write(tmp_path, receipt(long_id, seq=-1)), "--no-progress")
    assert result.exit_code == 1
    assert long_id not in result.output
    assert "(10000 chars)" in result.output
    assert len(max(result.output.splitlines(), key=len)) < 400


def test_ingest__implausible_receipt__reported_flagged(run, tmp_path):
    run("config", "--genesis", str(GENESIS), "--fee-address", FEE)
    rendition = {"profile": "240p30", "width": 426, "height": 240, "fps": 30, "pixels": 1}
    huge = receipt("big", pixels_encoded=10**12, renditions=[rendition])
    result = run("ingest", write(tmp_path, huge), "--no-progress")
    assert result.exit_code == 0, result.output
    assert "flagged 1 (implausible: credited nothing)" in result.output
    assert "item 1 big: flagged:" in result.output


def test_close_all_due__many_empty_epochs__asks_and_aborts(run, tmp_path):
    # Before: a genesis a year back silently closed 362 empty epochs.
    run("config", "--genesis", str(GENESIS), "--fee-address", FEE)
    run("ingest", write(tmp_path, receipt("a")), "--no-progress")  # in epoch 0
    now = str(GENESIS + 30 * 86_400)
    result = run("epoch", "close", "--all-due", "--now", now, input="n\n")
    assert result.exit_code == 1
    assert "29 epochs are due (0…28)" in result.output
    assert "closed" not in run("epoch", "list").output
    confirmed = run("epoch", "close", "--all-due", "--now", now, "--yes")
    assert confirmed.exit_code == 0, confirmed.output
    assert confirmed.output.count(" closed: ") == 29


def test_epoch_list__has_a_header_and_utc_times(run, tmp_path):
    run("config", "--genesis", str(GENESIS), "--fee-address", FEE)
    run("ingest", write(tmp_path, receipt("a")), "--no-progress")
    listed = run("epoch", "list").output.splitlines()
    assert listed[0].split()[:3] == ["epoch", "state", "window"]
    assert "2025-11-25T00:00:00Z" in listed[1]


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url__postgres_scheme__accepted(given, used):
    # Before: `postgres://` failed with a SQLAlchemy plugin error.
    assert normalize_url(given) == used
