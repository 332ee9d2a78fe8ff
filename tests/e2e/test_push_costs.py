"""Push costs stay with whoever caused them, and the push flow accepts a ripe root first.

A miner whose recipient burns gas costs the pool one failed push: the miners paid in the
same batch are charged none of it, and the keeper does not push to that miner again until
it claims or changes its recipient."""

from __future__ import annotations

import pytest

from livepool import epochs, operations
from livepool.audit import audit
from livepool.errors import ChainError
from livepool.publish import load_published, publish
from livepool.statement import load_statement

from .conftest import CHALLENGE_PERIOD, run_epoch


def post(ledger, distributor, poster, keeper, chain):
    operations.propose_latest(ledger, distributor, poster)
    chain.pending_timestamp += CHALLENGE_PERIOD
    operations.accept(ledger, distributor, keeper)


def test_push__gas_burning_recipient_over_two_epochs__pool_pays_one_failed_push(
    ledger, distributor, miners, poster, keeper, operator, project, chain
):
    burner = project.GasBurner.deploy(sender=operator)
    victim, others = miners[0], miners[1:4]
    workers = [victim, *others]
    distributor.set_recipient(victim, burner.address)
    run_epoch(ledger, workers, 0, seed=11)
    post(ledger, distributor, poster, keeper, chain)
    for worker in workers:
        ledger.set_payout(worker.address, "push", 0)

    # Epoch 0: the push to the victim's recipient fails; the batch goes on.
    report = operations.push(ledger, distributor, keeper)
    (batch,) = report.batches
    assert set(batch.failed) == {victim.address}
    assert sorted(batch.paid) == sorted(m.address for m in others)
    failed_gas = operations.failed_push_gas(batch, epochs.epoch_tree(ledger, 0))
    assert failed_gas > 40_000, "the burner took its whole stipend"
    charged_wei = (batch.sent.gas_used - failed_gas) * batch.sent.gas_price
    assert charged_wei > 0

    # Epoch 1: the paid miners share the batch's gas minus the failed push; the victim
    # is charged nothing for a push that paid it nothing.
    run_epoch(ledger, workers, 1, seed=12)
    statement = load_statement(epochs.epoch_statement(ledger, 1))
    overhead = {m.address: m.overhead for m in statement.miners}
    assert overhead[victim.address] == 0
    charged = sum(overhead[m.address] for m in others)
    assert charged_wei <= charged < charged_wei + len(others)
    assert charged < batch.sent.cost, "the failed push's gas is the pool's"
    post(ledger, distributor, poster, keeper, chain)

    # The victim is not pushed again while its recipient is unchanged.
    report = operations.push(ledger, distributor, keeper)
    assert "its push failed in block" in report.skipped[victim.address]
    assert all(not b.failed for b in report.batches)
    assert victim.address not in report.paid

    # Once it changes its recipient, it is pushed again.
    distributor.set_recipient(victim, "0x" + "00" * 20)
    before = victim.balance
    report = operations.push(ledger, distributor, keeper)
    assert list(report.paid) == [victim.address]
    assert victim.balance == before + epochs.epoch_tree(ledger, 1).amount(victim.address)


def test_push__ripe_root_pending__accepts_it_before_pushing(
    ledger, distributor, miners, poster, keeper, chain
):
    run_epoch(ledger, miners, 0, seed=21)
    post(ledger, distributor, poster, keeper, chain)
    run_epoch(ledger, miners, 1, seed=22)
    operations.propose_latest(ledger, distributor, poster)
    for miner in miners:
        ledger.set_payout(miner.address, "push", 0)
    chain.pending_timestamp += CHALLENGE_PERIOD
    report = operations.push(ledger, distributor, keeper)
    assert report.accepted is not None
    assert report.epoch == distributor.epoch == 1
    tree = epochs.epoch_tree(ledger, 1)
    assert report.paid == {m.address: tree.amount(m.address) for m in miners}
    assert ledger.chain_action("accept", "epoch:1")["state"] == "confirmed"


def test_push__root_pending_inside_window__pushes_the_active_root(
    ledger, distributor, miners, poster, keeper, chain
):
    run_epoch(ledger, miners, 0, seed=31)
    post(ledger, distributor, poster, keeper, chain)
    run_epoch(ledger, miners, 1, seed=32)
    operations.propose_latest(ledger, distributor, poster)
    for miner in miners:
        ledger.set_payout(miner.address, "push", 0)
    report = operations.push(ledger, distributor, keeper)
    assert report.accepted is None
    assert report.epoch == 0
    with pytest.raises(ChainError, match="challenge window is open"):
        operations.accept(ledger, distributor, keeper)


def test_push__not_the_keeper__skips_accounts_with_a_recipient(
    ledger, distributor, miners, poster, keeper, chain
):
    run_epoch(ledger, miners, 0, seed=41)
    post(ledger, distributor, poster, keeper, chain)
    distributor.set_recipient(miners[0], miners[1].address)
    for miner in miners:
        ledger.set_payout(miner.address, "push", 0)
    stranger = miners[2]
    report = operations.push(ledger, distributor, stranger)
    assert "only it or the keeper" in report.skipped[miners[0].address]
    assert miners[0].address not in report.paid
    assert len(report.paid) == len(miners) - 1


def test_audit__forced_eth__no_false_alarm(
    ledger, distributor, miners, poster, keeper, operator, project, chain, tmp_path
):
    forcer = project.ForceSender.deploy(sender=operator)
    forcer.force(distributor.address, value=10**18, sender=operator)
    assert distributor.balance == distributor.funded + 10**18
    run_epoch(ledger, miners, 0, seed=51)
    post(ledger, distributor, poster, keeper, chain)
    folder = tmp_path / "published"
    publish(ledger, folder)
    events = distributor.root_events()
    funded = distributor.funded_at_proposals(events)
    assert list(funded.values()) == [distributor.funded]
    report = audit(statements=load_published(folder), root_events=events, funded=funded)
    assert report.ok, report.render()
