"""End to end on ape's local chain: simulate → ingest → close → propose → window → accept
→ miners claim → keeper pushes → next epoch charges the push gas → second root → claims
of the difference only → the auditor's verify passes. Then crashes at every send."""

from __future__ import annotations

import json

import pytest

from livepool import epochs, operations
from livepool.audit import audit
from livepool.chain import Distributor
from livepool.errors import ChainError
from livepool.publish import load_published, publish
from livepool.statement import load_statement

from .conftest import CHALLENGE_PERIOD, run_epoch


def post(ledger, distributor, poster, keeper, chain):
    outcome = operations.propose_latest(ledger, distributor, poster)
    assert outcome.sent is not None
    with pytest.raises(ChainError, match="challenge window is open"):
        operations.accept(ledger, distributor, keeper)
    chain.pending_timestamp += CHALLENGE_PERIOD
    operations.accept(ledger, distributor, keeper)
    return outcome


def test_full_cycle__two_epochs__claims_pushes_overhead_and_audit(
    ledger, distributor, miners, poster, keeper, chain, tmp_path
):
    claimers, pushed = miners[:3], miners[3:]
    closed = run_epoch(ledger, miners, 0, seed=1)
    assert closed.miners == len(miners)
    post(ledger, distributor, poster, keeper, chain)
    assert distributor.epoch == 0
    assert "0x" + distributor.root.hex() == closed.root
    tree = epochs.epoch_tree(ledger, 0)

    # Miners claim from their own wallets.
    first_paid = {}
    for miner in claimers:
        before = miner.balance
        sent, paid = operations.claim(distributor, miner, tree, miner.address)
        assert paid == tree.amount(miner.address) > 0
        assert miner.balance == before + paid - sent.cost
        first_paid[miner.address] = paid

    # The others asked for push payouts; one threshold is out of reach.
    for miner in pushed:
        ledger.set_payout(miner.address, "push", 0)
    ledger.set_payout(pushed[-1].address, "push", 10**30)
    report = operations.push(ledger, distributor, keeper)
    assert sorted(report.paid) == sorted(m.address for m in pushed[:-1])
    assert pushed[-1].address in report.skipped
    gas_cost = report.gas_cost
    assert gas_cost > 0
    again = operations.push(ledger, distributor, keeper)
    assert again.batches == [], "nothing is due twice"

    # Epoch 1: the push gas is charged to the pushed miners, split and rounded up.
    run_epoch(ledger, miners, 1, seed=2)
    statement = load_statement(epochs.epoch_statement(ledger, 1))
    overhead = {m.address: m.overhead for m in statement.miners}
    charged = [overhead[m.address] for m in pushed[:-1]]
    assert sum(charged) >= gas_cost
    assert sum(charged) - gas_cost < len(charged)
    assert all(overhead[m.address] == 0 for m in claimers)
    post(ledger, distributor, poster, keeper, chain)
    tree2 = epochs.epoch_tree(ledger, 1)
    for miner in claimers:
        sent, paid = operations.claim(distributor, miner, tree2, miner.address)
        assert paid == tree2.amount(miner.address) - first_paid[miner.address]

    # The auditor: publish, then verify against the chain.
    folder = tmp_path / "published"
    assert len(publish(ledger, folder)) == 4
    assert publish(ledger, folder) == [], "publishing again changes nothing"
    events = distributor.root_events()
    result = audit(
        statements=load_published(folder),
        root_events=events,
        funded=distributor.funded_at_proposals(events),
    )
    assert result.ok, result.render()
    assert result.roots_checked == [0, 1]
    assert result.statements_checked == [0, 1]


def test_propose__insolvent__refused_before_sending(
    ledger, operator, poster, guardian, miners, chain
):
    poor = Distributor.deploy(
        operator, poster=poster.address, guardian=guardian.address, challenge_period=60
    )
    poor.fund(operator, 1_000)
    run_epoch(ledger, miners, 0)
    height = chain.blocks.height
    with pytest.raises(ChainError, match=r"insolvent: total \d+ wei exceeds funded 1000 wei"):
        operations.propose_latest(ledger, poor, poster)
    assert chain.blocks.height == height, "nothing was sent"
    assert ledger.chain_action("propose", "epoch:0") is None


def test_propose__not_the_poster__refused_before_sending(ledger, distributor, miners, keeper):
    run_epoch(ledger, miners, 0)
    with pytest.raises(ChainError, match="is not the poster"):
        operations.propose_latest(ledger, distributor, keeper)


class Crash(Exception):
    pass


@pytest.fixture
def crash_after(monkeypatch):
    """Make the next send of ``kind`` 'crash' after mining, before it is recorded."""

    def arm(kind: str) -> None:
        def hook(what, sent):
            if what == kind:
                monkeypatch.setattr(operations, "after_send", None)
                raise Crash(f"killed after sending {what} {sent.tx_hash}")

        monkeypatch.setattr(operations, "after_send", hook)

    return arm


def test_crash__between_propose_and_record__rerun_does_not_post_twice(
    ledger, distributor, miners, poster, crash_after
):
    run_epoch(ledger, miners, 0)
    crash_after("propose")
    with pytest.raises(Crash):
        operations.propose_latest(ledger, distributor, poster)
    assert ledger.chain_action("propose", "epoch:0")["state"] == "prepared"
    outcome = operations.propose_latest(ledger, distributor, poster)
    assert outcome.sent is None
    assert "already on-chain" in outcome.note
    assert ledger.chain_action("propose", "epoch:0")["state"] == "confirmed"
    proposals = [e for e in distributor.root_events() if e.kind == "RootProposed"]
    assert len(proposals) == 1


def test_crash__between_accept_and_record__rerun_recovers(
    ledger, distributor, miners, poster, keeper, chain, crash_after
):
    run_epoch(ledger, miners, 0)
    operations.propose_latest(ledger, distributor, poster)
    chain.pending_timestamp += CHALLENGE_PERIOD
    crash_after("accept")
    with pytest.raises(Crash):
        operations.accept(ledger, distributor, keeper)
    epoch, sent = operations.accept(ledger, distributor, keeper)
    assert (epoch, sent) == (0, None)
    assert ledger.chain_action("accept", "epoch:0")["state"] == "confirmed"
    accepted = [e for e in distributor.root_events() if e.kind == "RootAccepted"]
    assert len(accepted) == 1


def test_crash__between_push_and_record__no_double_payment_or_charge(
    ledger, distributor, miners, poster, keeper, chain, crash_after
):
    run_epoch(ledger, miners, 0)
    post(ledger, distributor, poster, keeper, chain)
    for miner in miners:
        ledger.set_payout(miner.address, "push", 0)
    balances = {m.address: m.balance for m in miners}
    crash_after("push")
    with pytest.raises(Crash):
        operations.push(ledger, distributor, keeper)
    report = operations.push(ledger, distributor, keeper)
    assert report.batches == [], "nothing is sent again"
    assert len(report.recovered) == 1 and "found on-chain" in report.recovered[0]
    tree = epochs.epoch_tree(ledger, 0)
    for miner in miners:
        assert miner.balance == balances[miner.address] + tree.amount(miner.address)
    # The batch's gas is recorded exactly once, to be charged at the next close.
    actions = ledger.chain_actions("push")
    assert [a["state"] for a in actions] == ["confirmed"]
    run_epoch(ledger, miners, 1, seed=3)
    statement = json.loads(epochs.epoch_statement(ledger, 1))
    assert sum(int(m["overhead"]) for m in statement["miners"]) > 0


def test_crash__propose_mined_unrecorded__next_epoch_closed__rerun_says_own_and_recovers(
    ledger, distributor, miners, poster, crash_after
):
    # Before: the re-run said only "epoch 0 is already pending" and the record stayed
    # `prepared` for ever, without its tx hash or block.
    run_epoch(ledger, miners, 0)
    crash_after("propose")
    with pytest.raises(Crash):
        operations.propose_latest(ledger, distributor, poster)
    run_epoch(ledger, miners, 1, seed=3)  # the next epoch closes before the re-run
    with pytest.raises(ChainError) as refused:
        operations.propose_latest(ledger, distributor, poster)
    proposed = next(e for e in distributor.root_events() if e.kind == "RootProposed")
    message = str(refused.value)
    assert "epoch 0 is already pending: it is our own proposal" in message
    assert f"recovered now (tx {proposed.tx_hash}, block {proposed.block})" in message
    action = ledger.chain_action("propose", "epoch:0")
    assert action["state"] == "confirmed"
    assert (action["tx_hash"], action["block"]) == (proposed.tx_hash, proposed.block)


def test_reconcile__every_prepared_action__recorded_with_tx_and_block(
    ledger, distributor, miners, poster, keeper, chain, crash_after
):
    run_epoch(ledger, miners, 0)
    operations.propose_latest(ledger, distributor, poster)
    chain.pending_timestamp += CHALLENGE_PERIOD
    crash_after("accept")
    with pytest.raises(Crash):
        operations.accept(ledger, distributor, keeper)
    lines = operations.reconcile(ledger, distributor)
    accepted = next(e for e in distributor.root_events() if e.kind == "RootAccepted")
    assert lines == [
        f"accept epoch 0: found on-chain in {accepted.tx_hash} (block {accepted.block}), recorded"
    ]
    action = ledger.chain_action("accept", "epoch:0")
    assert (action["state"], action["tx_hash"], action["block"]) == (
        "confirmed",
        accepted.tx_hash,
        accepted.block,
    )
    assert operations.reconcile(ledger, distributor) == [], "nothing left prepared"


class _FakeNode:
    """A node that mines ``tx`` after ``polls`` receipt look-ups (None: never)."""

    def __init__(self, mined, polls, confirmations=0):
        from types import SimpleNamespace

        self.network = SimpleNamespace(required_confirmations=confirmations)
        self.mined, self.polls, self.asked = mined, polls, 0
        self.web3 = SimpleNamespace(eth=SimpleNamespace(get_transaction_receipt=self._raw))

    def _raw(self, tx_hash):
        self.asked += 1
        if self.polls is None or self.asked <= self.polls:
            return None
        return {"blockNumber": self.mined.block_number}

    def get_receipt(self, tx_hash, **_):
        return self.mined


def test_sent__receipt_without_block__waits_for_the_mined_one(monkeypatch):
    # Before: a receipt with no block (anvil --block-time: ape says block -1) was
    # recorded as mined, and a push read no `Claimed` events from it: "0 miners, gas 0".
    from types import SimpleNamespace

    from livepool import chain as chain_module

    unmined = SimpleNamespace(txn_hash="0x" + "aa" * 32, block_number=-1)
    mined = SimpleNamespace(txn_hash="0x" + "aa" * 32, block_number=7, gas_used=21_000, gas_price=3)
    node = _FakeNode(mined, polls=2, confirmations=1)
    monkeypatch.setattr(type(chain_module.ape.chain), "provider", property(lambda _: node))
    monkeypatch.setattr(chain_module.time, "sleep", lambda _: None)
    heights = iter([7, 8])
    monkeypatch.setattr(chain_module.Distributor, "height", staticmethod(lambda: next(heights)))
    sent = chain_module._sent(unmined)
    assert (sent.block, sent.gas_used, sent.cost) == (7, 21_000, 63_000)
    assert node.asked == 4, "polled until mined, then until one confirmation"


def test_sent__never_mined__not_recorded(monkeypatch):
    from types import SimpleNamespace

    from livepool import chain as chain_module

    unmined = SimpleNamespace(txn_hash="0x" + "bb" * 32, block_number=None)
    node = _FakeNode(unmined, polls=None)
    monkeypatch.setattr(type(chain_module.ape.chain), "provider", property(lambda _: node))
    monkeypatch.setattr(chain_module, "MINE_TIMEOUT", 0)
    monkeypatch.setattr(chain_module.time, "sleep", lambda _: None)
    with pytest.raises(ChainError, match="has no block after 0 s: not recorded"):
        chain_module._sent(unmined)
