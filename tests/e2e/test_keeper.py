"""The keeper as a real process against a real anvil node, killed and restarted.

Epochs are 25 seconds long on the wall clock and the challenge window 2 seconds, so the
keeper closes, publishes, proposes, accepts and pushes three epochs by itself. It is
SIGKILLed right after a proposal, an acceptance and a push are mined and before each is
recorded (``LIVEPOOL_KEEPER_KILL_AFTER``), then at an arbitrary moment, and finally stopped
with SIGTERM. Whatever was interrupted, the chain and the ledger must show each epoch
proposed and accepted once, each push paid once, each push's gas charged once.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from collections import Counter

import pytest
from sqlalchemy import select

from livepool import epochs
from livepool.accounting import split_overhead
from livepool.chain import Distributor
from livepool.errors import LivepoolError
from livepool.ingest import ingest_receipts
from livepool.keeper import FolderPublisher, Intervals, Keeper, KeeperMetrics
from livepool.ledger import Ledger, push_batches
from livepool.publish import statement_path
from livepool.statement import load_statement

from .conftest import CHALLENGE_PERIOD, ETH, SETTLE_SECONDS, epoch_start, free_port
from .procs import (
    BIN,
    contract,
    deploy,
    env_for,
    events,
    lines,
    net,
    receipts_for,
    start,
    wait_for,
)

EPOCH = 25
SETTLE = 1
CHALLENGE = 2
POSTER = "TEST::1"
FEE = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # TEST::3


# --- in-process, on ape's local chain ---------------------------------------------------------

DAY = 86_400
AFTER_EPOCH_0 = epoch_start(1) + SETTLE_SECONDS  # epoch 0 is due, epoch 1 is not


def keeper_for(ledger, distributor, account, folder, **kwargs):
    kwargs.setdefault("clock", lambda: AFTER_EPOCH_0)
    return Keeper(ledger, distributor, account, publishers=[FolderPublisher(folder)], **kwargs)


def feed(ledger, miners, epoch: int) -> None:
    wallets = [m.address for m in miners]
    report = ingest_receipts(ledger, receipts_for(epoch, epoch_start(epoch), DAY, wallets))
    assert report.rejected == 0, report.summary()


def failures(metrics: KeeperMetrics, step: str) -> float:
    return metrics.registry.get_sample_value("livepool_keeper_step_failures_total", {"step": step})


def test_intervals__validated__and_backoff_doubles_to_its_cap():
    with pytest.raises(LivepoolError, match="push: must be > 0"):
        Intervals(push=0)
    with pytest.raises(LivepoolError, match="retry_min 10 exceeds retry_max 5"):
        Intervals(retry_min=10, retry_max=5)
    i = Intervals(retry_min=30, retry_max=100)
    assert [i.backoff(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]
    assert Intervals.demo().accept == 1


def test_keeper_once__insolvent__propose_fails_nothing_sent__after_funding_it_proposes(
    ledger, operator, poster, guardian, miners, chain, tmp_path
):
    poor = Distributor.deploy(
        operator, poster=poster.address, guardian=guardian.address, challenge_period=60
    )
    poor.fund(operator, 1_000)
    feed(ledger, miners, 0)
    metrics = KeeperMetrics()
    keeper = keeper_for(ledger, poor, poster, tmp_path / "pub", metrics=metrics)
    height = chain.blocks.height
    results = {r.step: r for r in keeper.run_once()}
    assert [s for s, r in results.items() if not r.ok] == ["propose"]
    assert "insolvent" in results["propose"].error
    assert results["close"].changed and results["publish"].changed
    assert statement_path(tmp_path / "pub", 0).exists(), "published before any proposal"
    assert chain.blocks.height == height, "nothing was sent"
    assert failures(metrics, "propose") == 1
    assert metrics.registry.get_sample_value("livepool_keeper_epoch_lag") == 1

    poor.fund(operator, 10 * ETH)
    results = {r.step: r for r in keeper.run_once()}
    assert all(r.ok for r in results.values()), results
    assert results["propose"].changed and not results["close"].changed
    assert poor.pending.epoch == 0
    again = {r.step: r for r in keeper.run_once()}
    assert not again["propose"].changed, "proposed once"
    assert "ripe in" in again["accept"].detail


def test_keeper_run__failing_step_backs_off__loop_survives__stops_when_asked(
    ledger, distributor, poster, miners, tmp_path
):
    import threading

    feed(ledger, miners, 0)
    stop = threading.Event()
    folder = tmp_path / "pub"
    calls = []

    class Flaky(FolderPublisher):
        def publish(self, ledger):
            calls.append(1)
            if len(calls) <= 2:
                raise OSError("disk full")
            stop.set()  # the step under way still finishes
            return super().publish(ledger)

    metrics = KeeperMetrics()
    keeper = Keeper(
        ledger,
        distributor,
        poster,
        publishers=[Flaky(folder)],
        intervals=Intervals(
            close=0.01,
            publish=0.01,
            propose=0.01,
            accept=0.01,
            push=0.01,
            retry_min=0.01,
            retry_max=0.02,
        ),
        metrics=metrics,
        clock=lambda: AFTER_EPOCH_0,
    )
    keeper.run(stop)
    assert len(calls) == 3
    assert failures(metrics, "publish") == 2
    assert statement_path(folder, 0).exists()
    assert distributor.pending.exists is False, "nothing proposed before publication"


def test_keeper_accept__pending_root_not_the_ledgers__refused(
    ledger, distributor, poster, miners, chain, tmp_path
):
    feed(ledger, miners, 0)
    keeper = keeper_for(ledger, distributor, poster, tmp_path / "pub")
    keeper.close()
    closed = load_statement(epochs.epoch_statement(ledger, 0))
    distributor.propose(
        poster, root=b"\x42" * 32, epoch=0, total=closed.total, data_hash=b"\x00" * 32
    )
    chain.pending_timestamp += CHALLENGE_PERIOD
    result = keeper.run_step("accept")
    assert not result.ok and "not the ledger's root" in result.error
    assert distributor.pending.exists, "left for the guardian to revoke"
    assert distributor.root == b"\x00" * 32


def test_keeper_reconcile__proposal_mined_not_recorded__later_epoch_closed__records_it(
    ledger, distributor, poster, miners, chain, tmp_path, monkeypatch
):
    from livepool import operations

    feed(ledger, miners, 0)
    feed(ledger, miners, 1)

    def crash(kind, sent):
        raise RuntimeError(f"killed after {kind}")

    monkeypatch.setattr(operations, "after_send", crash)
    keeper = keeper_for(ledger, distributor, poster, tmp_path / "pub")
    results = {r.step: r for r in keeper.run_once()}
    assert not results["propose"].ok and "killed after propose" in results["propose"].error
    assert ledger.chain_action("propose", "epoch:0")["state"] == "prepared"
    monkeypatch.setattr(operations, "after_send", None)

    # Meanwhile epoch 1 closed (a cron `livepool epoch close`, say): it is not what was sent.
    epochs.close_due(ledger, now=epoch_start(2) + SETTLE_SECONDS)
    height = chain.blocks.height
    restarted = keeper_for(ledger, distributor, poster, tmp_path / "pub")
    (line,) = restarted.reconcile()
    proposed = next(e for e in distributor.root_events() if e.kind == "RootProposed")
    assert line == (
        f"propose epoch 0: found on-chain in {proposed.tx_hash} (block {proposed.block}), recorded"
    )
    action = ledger.chain_action("propose", "epoch:0")
    assert action["state"] == "confirmed"
    assert (action["tx_hash"], action["block"]) == (proposed.tx_hash, proposed.block)
    assert chain.blocks.height == height, "nothing sent"
    assert restarted.run_step("propose").detail.startswith("epoch 0 is pending")
    proposals = [e for e in distributor.root_events() if e.kind == "RootProposed"]
    assert [e.epoch for e in proposals] == [0]


# --- a real process against anvil -----------------------------------------------------------


def keeper_argv(anvil: str, *extra: str, via_livepool: bool = False) -> list[str]:
    head = (
        [str(BIN / "livepool"), "keeper"] if via_livepool else [str(BIN / "ape"), "run", "keeper"]
    )
    return [
        *head,
        "--account",
        POSTER,
        "--intervals",
        "demo",
        "--log-format",
        "json",
        "--confirmations",
        "0",
        *extra,
        *net(anvil),
    ]


def killed_after(kind: str, anvil: str, env: dict, log) -> None:
    proc = start(keeper_argv(anvil), {**env, "LIVEPOOL_KEEPER_KILL_AFTER": kind}, log)
    try:
        proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text(errors="replace")
    assert proc.returncode == -signal.SIGKILL, f"expected SIGKILL after {kind}:\n{text[-4000:]}"
    assert f"killed after {kind}" in text


def test_keeper__killed_at_every_send_and_restarted__each_effect_exactly_once(
    anvil, networks, accounts, tmp_path
):
    data = tmp_path / "data"
    miners = [accounts[i].address for i in range(5, 10)]
    pushed, high, claimer = miners[:3], miners[3], miners[4]
    address = deploy(networks, anvil, data, challenge_period=CHALLENGE, fund=10 * ETH)
    ledger = Ledger(data_dir=data)
    genesis = int(time.time()) - EPOCH - SETTLE - 1  # epoch 0 is due now, 1 and 2 later
    epochs.configure(
        ledger,
        fee_address=FEE,
        genesis=genesis,
        epoch_seconds=EPOCH,
        settle_seconds=SETTLE,
        commission_bps=500,
    )
    for n in range(3):
        report = ingest_receipts(ledger, receipts_for(n, genesis + n * EPOCH, EPOCH, miners))
        assert report.rejected == 0 and report.conflict == 0, report.summary()
    for m in pushed:
        ledger.set_payout(m, "push", 0)
    ledger.set_payout(high, "push", 10**30)
    ledger.set_payout(claimer, "claim")
    env = env_for(data)
    c = contract(anvil, address)
    logs = [tmp_path / f"keeper-{i}.log" for i in range(5)]

    # 1. Killed right after its proposal is mined: on-chain, recorded only as prepared.
    #    (The first epoch proposed is 0, or a later one when start-up was slow.)
    killed_after("propose", anvil, env, logs[0])
    (action,) = ledger.chain_actions("propose", state="prepared")
    key, first = action["key"], int(action["key"].split(":")[1])
    assert c.functions.pending_root().call()[1] == first
    assert c.functions.pending_root().call()[0] != b"\x00" * 32
    assert (data / "published" / f"epoch-{first}.json").exists()

    # 2. Restarted: recognises the proposal, waits out the window, killed after accepting.
    killed_after("accept", anvil, env, logs[1])
    assert ledger.chain_action("propose", key)["state"] == "confirmed"
    assert ledger.chain_action("accept", key)["state"] == "prepared"
    assert c.functions.epoch().call() == first
    assert c.functions.root().call() != b"\x00" * 32

    # 3. Restarted: records the acceptance, killed after the push batch is mined.
    killed_after("push", anvil, env, logs[2])
    assert ledger.chain_action("accept", key)["state"] == "confirmed"
    assert [a["state"] for a in ledger.chain_actions("push")] == ["prepared"]
    assert {e.args.account for e in events(c, "Claimed")} == set(pushed)

    # 4. Restarted through `livepool keeper`: killed at an arbitrary moment, once a
    #    later epoch has been proposed.
    port = free_port()
    proc = start(keeper_argv(anvil, "--metrics-port", str(port), via_livepool=True), env, logs[3])
    try:
        wait_for(
            "a later epoch's proposal",
            lambda: any(
                e.get("event") == "root_proposed" and e["epoch"] > first for e in lines(logs[3])
            ),
            proc,
            logs[3],
            timeout=180,
        )
        assert any(e.get("event") == "reconciled" for e in lines(logs[3]))
    finally:
        proc.kill()
        proc.wait(timeout=30)

    # 5. Restarted: runs until epoch 2 is closed; then a long settle window keeps later
    #    epochs from falling due, so the last closed epoch (2, or 3 on a slow machine)
    #    is proposed, accepted and pushed; serves metrics; stops on SIGTERM with 0.
    proc = start(keeper_argv(anvil, "--metrics-port", str(port)), env, logs[4])
    try:
        wait_for(
            "epoch 2 closed",
            lambda: any(
                e["number"] >= 2 and e["state"] == "closed" for e in epochs.list_epochs(ledger)
            ),
            proc,
            logs[4],
            timeout=180,
        )
        epochs.configure(ledger, settle_seconds=10**6)

        def last_closed() -> int:
            return max(e["number"] for e in epochs.list_epochs(ledger) if e["state"] == "closed")

        def done() -> bool:
            last = last_closed()
            tree = epochs.epoch_tree(ledger, last)
            return (
                c.functions.epoch().call() == last
                and c.functions.pending_root().call()[0] == b"\x00" * 32
                and all(c.functions.claimed(m).call() == tree.amount(m) for m in pushed)
            )

        wait_for("the last closed epoch accepted and pushed", done, proc, logs[4], timeout=180)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, logs[4].read_text()[-4000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert any(e.get("event") == "keeper_stopped" for e in lines(logs[4]))
    last = last_closed()
    final = epochs.epoch_tree(ledger, last)
    assert c.functions.epoch().call() == last

    # One more pass (`--once`, as cron runs it) finds everything done and sends nothing.
    height = c.w3.eth.block_number
    once_log = tmp_path / "keeper-once.log"
    proc = start(keeper_argv(anvil, "--once"), env, once_log)
    assert proc.wait(timeout=120) == 0, once_log.read_text()[-4000:]
    assert f"propose: epoch {last} was proposed before" in once_log.read_text()
    assert c.w3.eth.block_number == height, "an idle pass sends nothing"
    assert 'livepool_keeper_steps_total{step="push"}' in metrics
    assert 'livepool_keeper_last_success_timestamp_seconds{step="accept"}' in metrics
    assert "livepool_keeper_liabilities_wei" in metrics
    assert "livepool_keeper_epoch_lag" in metrics

    # Each epoch proposed once, and every proposal accepted once; nothing revoked.
    proposed = [e.args.epoch for e in events(c, "RootProposed")]
    accepted = [e.args.epoch for e in events(c, "RootAccepted")]
    assert len(proposed) == len(set(proposed)), proposed
    assert sorted(accepted) == sorted(proposed)
    assert first in proposed and last in proposed
    assert events(c, "RootRevoked") == []
    for n in proposed:
        assert ledger.chain_action("propose", f"epoch:{n}")["state"] == "confirmed"
        assert ledger.chain_action("accept", f"epoch:{n}")["state"] == "confirmed"

    # Each push paid once: push miners got exactly their cumulative, the others nothing.
    claimed = events(c, "Claimed")
    paid = Counter()
    for e in claimed:
        paid[e.args.account] += e.args.amount
    assert dict(paid) == {m: final.amount(m) for m in pushed}
    assert len({(e.args.account, e.args.cumulative) for e in claimed}) == len(claimed)
    assert c.functions.claimed(high).call() == 0 and c.functions.claimed(claimer).call() == 0

    # Each push batch recorded once, with the gas its transaction really cost …
    with ledger.read() as conn:
        batches = [dict(r._mapping) for r in conn.execute(select(push_batches))]
    txs = {e.transactionHash.to_0x_hex() for e in claimed}
    assert sorted(b["tx_hash"] for b in batches) == sorted(txs)
    w3 = c.w3
    for b in batches:
        receipt = w3.eth.get_transaction_receipt(b["tx_hash"])
        assert int(b["gas_cost"]) == receipt.gasUsed * receipt.effectiveGasPrice
    assert {a["state"] for a in ledger.chain_actions("push")} == {"confirmed"}

    # … and charged once: each closed epoch's overhead is the split of its batches.
    for row in epochs.list_epochs(ledger):
        if row["state"] != "closed":
            continue
        statement = load_statement(epochs.epoch_statement(ledger, row["number"]))
        expected = Counter()
        for b in batches:
            if b["charged_epoch"] == row["number"]:
                expected.update(split_overhead(int(b["gas_cost"]), json.loads(b["miners"])))
        got = {m.address: m.overhead for m in statement.miners if m.overhead}
        assert got == dict(expected), (row["number"], got, expected)
    charged = [b for b in batches if b["charged_epoch"] is not None]
    assert charged, "at least the first push was charged at a later close"
