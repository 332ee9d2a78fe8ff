"""LivepoolDistributor: every function's success path with its events, and every revert
with its exact reason. Names read as specs: test_<function>__<situation>__<outcome>."""

from __future__ import annotations

import ape
import pytest
from eth_utils import to_checksum_address

from livepool.merkle import leaf_hash

from .conftest import CHALLENGE_PERIOD, DATA_HASH, ETH, MIN_CHALLENGE_PERIOD

ROOT = b"\x11" * 32
ZERO_ADDRESS = "0x" + "00" * 20
MAX_CHALLENGE = 30 * 86_400


def paid(tx, contract) -> int:
    """Wei paid by a claim transaction, from its `Claimed` events."""
    return sum(e.amount for e in tx.events.filter(contract.Claimed))


def only(tx, event_type):
    """The single `event_type` log of `tx` (fails when there are none or several)."""
    logs = tx.events.filter(event_type)
    assert len(logs) == 1, f"expected one {event_type.name}, got {len(logs)}"
    return logs[0]


# DEPLOYMENT #


def test_deploy__sets_roles_period_and_owner(distributor, owner, poster, guardian):
    assert distributor.owner() == owner
    assert distributor.poster() == poster
    assert distributor.guardian() == guardian
    assert distributor.challenge_period() == CHALLENGE_PERIOD
    assert distributor.root() == b"\x00" * 32
    assert distributor.epoch() == 0
    assert distributor.total() == 0
    assert not distributor.paused()


def test_deploy__emits_role_events(project, owner, poster, guardian):
    contract = project.LivepoolDistributor.deploy(poster, guardian, 60, 30, sender=owner)
    tx = contract.creation_metadata.receipt
    assert only(tx, contract.PosterSet).new_poster == poster
    assert only(tx, contract.GuardianSet).new_guardian == guardian
    assert only(tx, contract.ChallengePeriodSet).new_period == 60
    assert contract.MIN_CHALLENGE_PERIOD() == 30


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("0x" + "00" * 20, "guardian", 60, 60), "distributor: zero poster"),
        (("poster", "0x" + "00" * 20, 60, 60), "distributor: zero guardian"),
        (("poster", "guardian", 0, 0), "distributor: zero minimum challenge period"),
        (("poster", "guardian", 59, 60), "distributor: challenge period too short"),
        (("poster", "guardian", MAX_CHALLENGE + 1, 60), "distributor: challenge period too long"),
    ],
)
def test_deploy__bad_arguments__revert(project, owner, poster, guardian, args, reason):
    roles = {"poster": poster, "guardian": guardian}
    resolved = [roles.get(a, a) if isinstance(a, str) else a for a in args]
    with ape.reverts(reason):
        project.LivepoolDistributor.deploy(*resolved, sender=owner)


# FUNDING #


def test_fund__plain_transfer__emits_funded_and_raises_funded(distributor, funder):
    balance, funded = distributor.balance, distributor.funded()
    tx = funder.transfer(distributor, 3 * ETH)
    event = only(tx, distributor.Funded)
    assert (event.sender, event.amount) == (funder, 3 * ETH)
    assert distributor.balance == balance + 3 * ETH
    assert distributor.funded() == funded + 3 * ETH


# PROPOSE #


def test_propose_root__poster__stores_pending_with_fixed_time(funded_distributor, poster, chain):
    tx = funded_distributor.propose_root(ROOT, 1, 5 * ETH, DATA_HASH, sender=poster)
    valid_at = tx.timestamp + CHALLENGE_PERIOD
    event = only(tx, funded_distributor.RootProposed)
    assert (event.epoch, event.root, event.total) == (1, ROOT, 5 * ETH)
    assert (event.data_hash, event.valid_at) == (DATA_HASH, valid_at)
    assert tuple(funded_distributor.pending_root()) == (ROOT, 1, 5 * ETH, DATA_HASH, valid_at)
    assert funded_distributor.root() == b"\x00" * 32, "a proposal is not active yet"


def test_propose_root__not_poster__reverts(funded_distributor, attacker, owner):
    for who in (attacker, owner):
        with ape.reverts("distributor: caller is not the poster"):
            funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=who)


def test_propose_root__pending_exists__cannot_overwrite(funded_distributor, poster):
    funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=poster)
    with ape.reverts("distributor: root already pending"):
        funded_distributor.propose_root(b"\x22" * 32, 2, ETH, DATA_HASH, sender=poster)


def test_propose_root__empty_root__reverts(funded_distributor, poster):
    with ape.reverts("distributor: empty root"):
        funded_distributor.propose_root(b"\x00" * 32, 1, ETH, DATA_HASH, sender=poster)


def test_propose_root__epoch_not_increasing__reverts(funded_distributor, post_root, miner, poster):
    post_root(funded_distributor, [(miner, ETH)], epoch=5)
    for epoch in (5, 4, 0):
        with ape.reverts("distributor: epoch not increasing"):
            funded_distributor.propose_root(ROOT, epoch, 2 * ETH, DATA_HASH, sender=poster)


def test_propose_root__first_root__may_be_epoch_zero(funded_distributor, post_root, miner, poster):
    post_root(funded_distributor, [(miner, ETH)], epoch=0)
    assert funded_distributor.root() != b"\x00" * 32
    with ape.reverts("distributor: epoch not increasing"):
        funded_distributor.propose_root(ROOT, 0, 2 * ETH, DATA_HASH, sender=poster)


def test_propose_root__total_decreasing__reverts(funded_distributor, post_root, miner, poster):
    post_root(funded_distributor, [(miner, 2 * ETH)], epoch=1)
    with ape.reverts("distributor: total decreasing"):
        funded_distributor.propose_root(ROOT, 2, 2 * ETH - 1, DATA_HASH, sender=poster)


def test_propose_root__total_above_funded__reverts(funded_distributor, poster):
    with ape.reverts("distributor: insolvent root"):
        funded_distributor.propose_root(ROOT, 1, 100 * ETH + 1, DATA_HASH, sender=poster)
    funded_distributor.propose_root(ROOT, 1, 100 * ETH, DATA_HASH, sender=poster)


def test_propose_root__funded_counts_what_was_claimed(
    funded_distributor, post_root, miner, poster, keeper
):
    tree = post_root(funded_distributor, [(miner, 60 * ETH)], epoch=1)
    funded_distributor.claim(miner, 60 * ETH, tree.proof(miner.address), sender=keeper)
    assert funded_distributor.balance == 40 * ETH
    # Funded is claimed + balance: a root up to 100 ETH is still solvent.
    funded_distributor.propose_root(ROOT, 2, 100 * ETH, DATA_HASH, sender=poster)


def test_propose_root__paused__reverts(funded_distributor, guardian, poster):
    funded_distributor.pause(sender=guardian)
    with ape.reverts("pausable: contract is paused"):
        funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=poster)


# ACCEPT #


def test_accept_root__after_window__activates(funded_distributor, poster, keeper, chain):
    funded_distributor.propose_root(ROOT, 1, 5 * ETH, DATA_HASH, sender=poster)
    chain.pending_timestamp += CHALLENGE_PERIOD
    tx = funded_distributor.accept_root(sender=keeper)
    event = only(tx, funded_distributor.RootAccepted)
    assert (event.epoch, event.root, event.total, event.data_hash) == (1, ROOT, 5 * ETH, DATA_HASH)
    assert funded_distributor.root() == ROOT
    assert funded_distributor.epoch() == 1
    assert funded_distributor.total() == 5 * ETH
    assert funded_distributor.data_hash() == DATA_HASH
    assert funded_distributor.pending_root().root == b"\x00" * 32


def test_accept_root__inside_window__reverts(funded_distributor, poster, keeper, chain):
    funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=poster)
    chain.pending_timestamp += CHALLENGE_PERIOD - 10
    with ape.reverts("distributor: challenge window open"):
        funded_distributor.accept_root(sender=keeper)


def test_accept_root__nothing_pending__reverts(funded_distributor, keeper):
    with ape.reverts("distributor: no pending root"):
        funded_distributor.accept_root(sender=keeper)


def test_accept_root__paused__reverts(funded_distributor, poster, guardian, keeper, chain):
    funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=poster)
    chain.pending_timestamp += CHALLENGE_PERIOD
    funded_distributor.pause(sender=guardian)
    with ape.reverts("pausable: contract is paused"):
        funded_distributor.accept_root(sender=keeper)


def test_set_challenge_period__does_not_move_pending_root(
    funded_distributor, poster, owner, keeper, chain
):
    funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=poster)
    funded_distributor.set_challenge_period(MAX_CHALLENGE, sender=owner)
    chain.pending_timestamp += CHALLENGE_PERIOD
    funded_distributor.accept_root(sender=keeper)
    assert funded_distributor.root() == ROOT


# REVOKE #


@pytest.mark.parametrize("role", ["guardian", "owner"])
def test_revoke_pending_root__guardian_or_owner__clears_it(
    funded_distributor, poster, keeper, chain, request, role
):
    who = request.getfixturevalue(role)
    funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=poster)
    tx = funded_distributor.revoke_pending_root(sender=who)
    event = only(tx, funded_distributor.RootRevoked)
    assert (event.epoch, event.root, event.by) == (1, ROOT, who)
    assert (event.total, event.data_hash) == (ETH, DATA_HASH)
    chain.pending_timestamp += CHALLENGE_PERIOD
    with ape.reverts("distributor: no pending root"):
        funded_distributor.accept_root(sender=keeper)
    # The poster may propose again, even the same epoch.
    funded_distributor.propose_root(b"\x33" * 32, 1, ETH, DATA_HASH, sender=poster)


def test_revoke_pending_root__other_roles__revert(funded_distributor, poster, attacker):
    funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=poster)
    for who in (attacker, poster):
        with ape.reverts("distributor: caller is not the guardian"):
            funded_distributor.revoke_pending_root(sender=who)


def test_revoke_pending_root__nothing_pending__reverts(funded_distributor, guardian):
    with ape.reverts("distributor: no pending root"):
        funded_distributor.revoke_pending_root(sender=guardian)


# CLAIM #


def test_claim__valid_proof__pays_account_and_emits(funded_distributor, post_root, miners, keeper):
    values = [(m, (i + 1) * ETH) for i, m in enumerate(miners)]
    tree = post_root(funded_distributor, values, epoch=1)
    miner = miners[2]
    before = miner.balance
    proof = tree.proof(miner.address)
    assert funded_distributor.claim.call(miner, 3 * ETH, proof, sender=keeper) == 3 * ETH
    tx = funded_distributor.claim(miner, 3 * ETH, proof, sender=keeper)
    assert miner.balance == before + 3 * ETH, "anyone may claim; the account is paid"
    event = only(tx, funded_distributor.Claimed)
    assert (event.account, event.recipient, event.caller) == (miner, miner, keeper)
    assert (event.amount, event.cumulative) == (3 * ETH, 3 * ETH)
    assert funded_distributor.claimed(miner) == 3 * ETH
    assert funded_distributor.balance == 97 * ETH
    assert funded_distributor.funded() == 100 * ETH, "claims do not change funded()"


def test_claim__second_root__pays_only_the_difference(funded_distributor, post_root, miner):
    tree = post_root(funded_distributor, [(miner, 2 * ETH)], epoch=1)
    funded_distributor.claim(miner, 2 * ETH, tree.proof(miner.address), sender=miner)
    tree = post_root(funded_distributor, [(miner, 5 * ETH)], epoch=2)
    tx = funded_distributor.claim(miner, 5 * ETH, tree.proof(miner.address), sender=miner)
    assert paid(tx, funded_distributor) == 3 * ETH
    assert only(tx, funded_distributor.Claimed).amount == 3 * ETH
    assert funded_distributor.claimed(miner) == 5 * ETH


def test_claim__wrong_proof__reverts(funded_distributor, post_root, miners):
    tree = post_root(funded_distributor, [(m, ETH) for m in miners], epoch=1)
    proof = tree.proof(miners[0].address)
    with ape.reverts("distributor: invalid proof"):
        funded_distributor.claim(miners[0], ETH, [*proof[:-1], b"\x44" * 32], sender=miners[0])


def test_claim__wrong_account__reverts(funded_distributor, post_root, miners, attacker):
    tree = post_root(funded_distributor, [(m, ETH) for m in miners], epoch=1)
    with ape.reverts("distributor: invalid proof"):
        funded_distributor.claim(attacker, ETH, tree.proof(miners[0].address), sender=attacker)


def test_claim__inflated_amount__reverts(funded_distributor, post_root, miners):
    tree = post_root(funded_distributor, [(m, ETH) for m in miners], epoch=1)
    with ape.reverts("distributor: invalid proof"):
        funded_distributor.claim(
            miners[0], ETH + 1, tree.proof(miners[0].address), sender=miners[0]
        )


def test_claim__replayed__reverts(funded_distributor, post_root, miner):
    tree = post_root(funded_distributor, [(miner, ETH)], epoch=1)
    funded_distributor.claim(miner, ETH, tree.proof(miner.address), sender=miner)
    with ape.reverts("distributor: nothing to claim"):
        funded_distributor.claim(miner, ETH, tree.proof(miner.address), sender=miner)


def test_claim__zero_leaf__nothing_to_claim(funded_distributor, post_root, miners):
    tree = post_root(funded_distributor, [(miners[0], 0), (miners[1], ETH)], epoch=1)
    with ape.reverts("distributor: nothing to claim"):
        funded_distributor.claim(miners[0], 0, tree.proof(miners[0].address), sender=miners[0])


def test_claim__no_root_yet__reverts(funded_distributor, miner):
    with ape.reverts("distributor: invalid proof"):
        funded_distributor.claim(miner, ETH, [], sender=miner)


def test_claim__pending_root__old_root_still_pays(funded_distributor, post_root, miner):
    tree1 = post_root(funded_distributor, [(miner, ETH)], epoch=1)
    tree2 = post_root(funded_distributor, [(miner, 2 * ETH)], epoch=2, accept=False)
    with ape.reverts("distributor: invalid proof"):
        funded_distributor.claim(miner, 2 * ETH, tree2.proof(miner.address), sender=miner)
    tx = funded_distributor.claim(miner, ETH, tree1.proof(miner.address), sender=miner)
    assert paid(tx, funded_distributor) == ETH


def test_claim__revoked_root__proofs_do_not_pay(funded_distributor, post_root, miner, guardian):
    tree = post_root(funded_distributor, [(miner, ETH)], epoch=1, accept=False)
    funded_distributor.revoke_pending_root(sender=guardian)
    with ape.reverts("distributor: invalid proof"):
        funded_distributor.claim(miner, ETH, tree.proof(miner.address), sender=miner)


def test_claim__paused__reverts(funded_distributor, post_root, miner, guardian):
    tree = post_root(funded_distributor, [(miner, ETH)], epoch=1)
    funded_distributor.pause(sender=guardian)
    with ape.reverts("pausable: contract is paused"):
        funded_distributor.claim(miner, ETH, tree.proof(miner.address), sender=miner)


def test_claim__recipient_set__pays_recipient(funded_distributor, post_root, miner, funder):
    tx = funded_distributor.set_recipient(funder, sender=miner)
    event = only(tx, funded_distributor.RecipientSet)
    assert (event.account, event.previous, event.recipient) == (miner, ZERO_ADDRESS, funder)
    assert funded_distributor.recipient(miner) == funder
    tree = post_root(funded_distributor, [(miner, ETH)], epoch=1)
    before = funder.balance
    tx = funded_distributor.claim(miner, ETH, tree.proof(miner.address), sender=miner)
    assert funder.balance == before + ETH
    event = only(tx, funded_distributor.Claimed)
    assert (event.recipient, event.caller) == (funder, miner), "a self-claim"


def test_claim__smart_contract_wallet__receives(
    funded_distributor, post_root, project, owner, keeper
):
    wallet = project.SafeLikeWallet.deploy(sender=owner)
    tree = post_root(funded_distributor, [(wallet.address, ETH)], epoch=1)
    funded_distributor.claim(wallet, ETH, tree.proof(wallet.address), sender=keeper)
    assert wallet.received() == ETH
    assert wallet.balance == ETH


def test_claim__rejecting_wallet__reverts_until_it_sets_a_recipient(
    funded_distributor, post_root, project, owner, keeper, funder
):
    wallet = project.RejectingReceiver.deploy(sender=owner)
    tree = post_root(funded_distributor, [(wallet.address, ETH)], epoch=1)
    proof = tree.proof(wallet.address)
    with ape.reverts():
        funded_distributor.claim(wallet, ETH, proof, sender=keeper)
    assert funded_distributor.claimed(wallet) == 0
    wallet.set_recipient_on(funded_distributor, funder, sender=owner)
    before = funder.balance
    funded_distributor.claim(wallet, ETH, proof, sender=keeper)
    assert funder.balance == before + ETH


def test_claim__reentrant_recipient__reverts(
    funded_distributor, post_root, project, owner, keeper, miner
):
    thief = project.ReentrantClaimer.deploy(sender=owner)
    tree = post_root(funded_distributor, [(thief.address, ETH), (miner, ETH)], epoch=1)
    thief.arm(funded_distributor, miner, ETH, tree.proof(miner.address), sender=owner)
    with ape.reverts():
        funded_distributor.claim(thief, ETH, tree.proof(thief.address), sender=keeper)
    assert funded_distributor.claimed(thief) == 0
    assert funded_distributor.balance == 100 * ETH


def test_claimable__reports_due_amount(funded_distributor, post_root, miner):
    tree = post_root(funded_distributor, [(miner, 7 * ETH)], epoch=1)
    proof = tree.proof(miner.address)
    assert funded_distributor.claimable(miner, 7 * ETH, proof) == 7 * ETH
    funded_distributor.claim(miner, 7 * ETH, proof, sender=miner)
    assert funded_distributor.claimable(miner, 7 * ETH, proof) == 0


def test_leaf__matches_python_and_openzeppelin_encoding(distributor, miners):
    for i, miner in enumerate(miners):
        for amount in (0, 1, 10**18 + i, 2**256 - 1):
            assert distributor.leaf(miner, amount) == leaf_hash(miner.address, amount)


# CLAIM_MANY #


def test_claim_many__pays_everyone_and_emits(funded_distributor, post_root, miners, keeper):
    values = [(m, (i + 1) * ETH) for i, m in enumerate(miners)]
    tree = post_root(funded_distributor, values, epoch=1)
    before = [m.balance for m in miners]
    args = (
        [m for m, _ in values],
        [v for _, v in values],
        [tree.proof(m.address) for m, _ in values],
    )
    assert funded_distributor.claim_many.call(*args, sender=keeper) == 10 * ETH
    tx = funded_distributor.claim_many(*args, sender=keeper)
    assert paid(tx, funded_distributor) == 10 * ETH
    assert [m.balance - b for m, b in zip(miners, before, strict=True)] == [v for _, v in values]
    events = tx.events.filter(funded_distributor.Claimed)
    assert [(e.account, e.amount) for e in events] == [(m.address, v) for m, v in values]
    assert funded_distributor.balance == 90 * ETH


def test_claim_many__already_claimed__is_skipped(funded_distributor, post_root, miners, keeper):
    tree = post_root(funded_distributor, [(m, ETH) for m in miners], epoch=1)
    funded_distributor.claim(miners[0], ETH, tree.proof(miners[0].address), sender=miners[0])
    tx = funded_distributor.claim_many(
        miners, [ETH] * 4, [tree.proof(m.address) for m in miners], sender=keeper
    )
    assert paid(tx, funded_distributor) == 3 * ETH
    assert len(tx.events.filter(funded_distributor.Claimed)) == 3


@pytest.mark.parametrize("bad_wallet", ["RejectingReceiver", "GasBurner"])
def test_claim_many__bad_recipient__does_not_stop_batch(
    funded_distributor, post_root, project, owner, miners, keeper, bad_wallet
):
    bad = getattr(project, bad_wallet).deploy(sender=owner)
    accounts = [miners[0], bad, miners[1]]
    tree = post_root(funded_distributor, [(a.address, ETH) for a in accounts], epoch=1)
    proofs = [tree.proof(a.address) for a in accounts]
    tx = funded_distributor.claim_many(accounts, [ETH] * 3, proofs, sender=keeper)
    assert paid(tx, funded_distributor) == 2 * ETH
    failed = only(tx, funded_distributor.PayoutFailed)
    assert (failed.account, failed.recipient, failed.amount) == (bad, bad, ETH)
    # The item's own gas: proof, the claimed write and its undo, the bounded transfer.
    assert 0 < failed.gas < 100_000
    assert funded_distributor.claimed(bad) == 0, "the failed balance stays claimable"
    assert funded_distributor.claimed(miners[1]) == ETH
    assert funded_distributor.balance == 98 * ETH
    # A gas burner gets at most the bounded stipend: the batch stays cheap.
    assert tx.gas_used < 250_000


def test_claim_many__length_mismatch__reverts(funded_distributor, post_root, miners, keeper):
    tree = post_root(funded_distributor, [(m, ETH) for m in miners], epoch=1)
    with ape.reverts("distributor: length mismatch"):
        funded_distributor.claim_many(
            miners[:2], [ETH], [tree.proof(m.address) for m in miners[:2]], sender=keeper
        )


def test_claim_many__one_bad_proof__reverts_whole_batch(
    funded_distributor, post_root, miners, keeper
):
    tree = post_root(funded_distributor, [(m, ETH) for m in miners], epoch=1)
    proofs = [tree.proof(m.address) for m in miners]
    with ape.reverts("distributor: invalid proof"):
        funded_distributor.claim_many(miners, [ETH, ETH, 2 * ETH, ETH], proofs, sender=keeper)
    assert funded_distributor.balance == 100 * ETH


def test_claim_many__paused__reverts(funded_distributor, post_root, miners, keeper, guardian):
    tree = post_root(funded_distributor, [(m, ETH) for m in miners], epoch=1)
    funded_distributor.pause(sender=guardian)
    with ape.reverts("pausable: contract is paused"):
        funded_distributor.claim_many(
            miners, [ETH] * 4, [tree.proof(m.address) for m in miners], sender=keeper
        )


# ROLES #


def test_set_poster__owner__replaces_and_emits(distributor, owner, poster, attacker):
    tx = distributor.set_poster(attacker, sender=owner)
    event = only(tx, distributor.PosterSet)
    assert (event.old_poster, event.new_poster) == (poster, attacker)
    assert distributor.poster() == attacker


def test_set_guardian__owner__replaces_and_emits(distributor, owner, guardian, keeper):
    tx = distributor.set_guardian(keeper, sender=owner)
    event = only(tx, distributor.GuardianSet)
    assert (event.old_guardian, event.new_guardian) == (guardian, keeper)
    assert distributor.guardian() == keeper


def test_set_challenge_period__owner__sets_and_emits(distributor, owner):
    tx = distributor.set_challenge_period(7_200, sender=owner)
    event = only(tx, distributor.ChallengePeriodSet)
    assert (event.old_period, event.new_period) == (CHALLENGE_PERIOD, 7_200)
    with ape.reverts("distributor: challenge period too long"):
        distributor.set_challenge_period(MAX_CHALLENGE + 1, sender=owner)
    with ape.reverts("distributor: challenge period too short"):
        distributor.set_challenge_period(MIN_CHALLENGE_PERIOD - 1, sender=owner)
    distributor.set_challenge_period(MIN_CHALLENGE_PERIOD, sender=owner)


@pytest.mark.parametrize(
    ("setter", "arg"),
    [("set_poster", "attacker"), ("set_guardian", "attacker"), ("set_challenge_period", 0)],
)
def test_setters__not_owner__revert(distributor, attacker, poster, guardian, setter, arg):
    value = attacker if arg == "attacker" else arg
    for who in (attacker, poster, guardian):
        with ape.reverts("ownable: caller is not the owner"):
            getattr(distributor, setter)(value, sender=who)


def test_setters__zero_address__revert(distributor, owner):
    zero = "0x" + "00" * 20
    with ape.reverts("distributor: zero poster"):
        distributor.set_poster(zero, sender=owner)
    with ape.reverts("distributor: zero guardian"):
        distributor.set_guardian(zero, sender=owner)


@pytest.mark.parametrize("role", ["guardian", "owner"])
def test_pause__guardian_or_owner__pauses_and_emits(distributor, request, role):
    who = request.getfixturevalue(role)
    tx = distributor.pause(sender=who)
    assert only(tx, distributor.Paused).account == who
    assert distributor.paused()


def test_pause__others__revert(distributor, attacker, poster):
    for who in (attacker, poster):
        with ape.reverts("distributor: caller is not the guardian"):
            distributor.pause(sender=who)


def test_unpause__owner_only(distributor, owner, guardian):
    distributor.pause(sender=guardian)
    with ape.reverts("ownable: caller is not the owner"):
        distributor.unpause(sender=guardian)
    tx = distributor.unpause(sender=owner)
    assert only(tx, distributor.Unpaused).account == owner
    assert not distributor.paused()
    with ape.reverts("pausable: contract is not paused"):
        distributor.unpause(sender=owner)


def test_ownership__two_step_transfer(distributor, owner, guardian, attacker):
    tx = distributor.transfer_ownership(guardian, sender=owner)
    event = only(tx, distributor.OwnershipTransferStarted)
    assert (event.previous_owner, event.new_owner) == (owner, guardian)
    assert distributor.owner() == owner, "nothing changes until the new owner accepts"
    assert distributor.pending_owner() == guardian
    with ape.reverts("ownable_2step: caller is not the new owner"):
        distributor.accept_ownership(sender=attacker)
    tx = distributor.accept_ownership(sender=guardian)
    event = only(tx, distributor.OwnershipTransferred)
    assert (event.previous_owner, event.new_owner) == (owner, guardian)
    assert distributor.owner() == guardian
    with ape.reverts("ownable: caller is not the owner"):
        distributor.set_challenge_period(1, sender=owner)


def test_ownership__transfer_by_non_owner__reverts(distributor, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        distributor.transfer_ownership(attacker, sender=attacker)


def test_ownership__cannot_be_renounced(distributor):
    assert not hasattr(distributor, "renounce_ownership")
    abi_names = {item.name for item in distributor.contract_type.abi if hasattr(item, "name")}
    assert "renounce_ownership" not in abi_names


# SURPLUS #


def test_withdraw_surplus__only_above_liabilities(
    funded_distributor, post_root, miner, owner, funder, keeper
):
    tree = post_root(funded_distributor, [(miner, 30 * ETH)], epoch=1)
    assert funded_distributor.surplus() == 70 * ETH
    funded_distributor.claim(miner, 30 * ETH, tree.proof(miner.address), sender=keeper)
    assert funded_distributor.surplus() == 70 * ETH, "claims do not change the surplus"
    with ape.reverts("distributor: amount exceeds surplus"):
        funded_distributor.withdraw_surplus(funder, 70 * ETH + 1, sender=owner)
    before = funder.balance
    tx = funded_distributor.withdraw_surplus(funder, 70 * ETH, sender=owner)
    event = only(tx, funded_distributor.SurplusWithdrawn)
    assert (event.to, event.amount) == (funder, 70 * ETH)
    assert funder.balance == before + 70 * ETH
    assert funded_distributor.surplus() == 0


def test_withdraw_surplus__pending_root_counts_as_liability(funded_distributor, poster, owner):
    funded_distributor.propose_root(ROOT, 1, 80 * ETH, DATA_HASH, sender=poster)
    assert funded_distributor.surplus() == 20 * ETH
    with ape.reverts("distributor: amount exceeds surplus"):
        funded_distributor.withdraw_surplus(owner, 20 * ETH + 1, sender=owner)


def test_withdraw_surplus__not_owner__reverts(funded_distributor, attacker, guardian):
    for who in (attacker, guardian):
        with ape.reverts("ownable: caller is not the owner"):
            funded_distributor.withdraw_surplus(who, 1, sender=who)


def test_withdraw_surplus__zero_address__reverts(funded_distributor, owner):
    with ape.reverts("distributor: zero address"):
        funded_distributor.withdraw_surplus("0x" + "00" * 20, 1, sender=owner)


def test_events__checksummed_addresses(distributor, miner):
    tx = distributor.set_recipient(miner, sender=miner)
    assert only(tx, distributor.RecipientSet).recipient == to_checksum_address(miner.address)
