"""Each finding of the v2 review, played by the role that would exploit it: owner, poster,
miner, stranger. Every test ran the attack against the v1 contract's behaviour and shows
it fail now. Names read as specs: test_<who>__<attack>__<outcome>."""

from __future__ import annotations

import ape
import pytest

from livepool.merkle import MerkleTree

from .conftest import CHALLENGE_PERIOD, DATA_HASH, ETH, MIN_CHALLENGE_PERIOD

ROOT = b"\x11" * 32
ZERO_ADDRESS = "0x" + "00" * 20
EXPIRY = 7 * 86_400
MAX_EPOCH_STEP = 1_000_000


def only(tx, event_type):
    logs = tx.events.filter(event_type)
    assert len(logs) == 1, f"expected one {event_type.name}, got {len(logs)}"
    return logs[0]


# OWNER AS ATTACKER #


def test_owner__zero_challenge_period__refused(distributor, owner):
    for period in (0, MIN_CHALLENGE_PERIOD - 1):
        with ape.reverts("distributor: challenge period too short"):
            distributor.set_challenge_period(period, sender=owner)
    assert distributor.MIN_CHALLENGE_PERIOD() == MIN_CHALLENGE_PERIOD


def test_owner__takes_every_role_to_drain__waits_one_window_while_miners_claim(
    funded_distributor, post_root, miners, owner, keeper, chain
):
    d = funded_distributor
    owed = [(m, (i + 1) * ETH) for i, m in enumerate(miners)]  # 10 ETH under the active root
    tree = post_root(d, owed, epoch=1)
    # The owner becomes poster and guardian, shortens the window to the floor and
    # proposes a root that pays it everything the contract holds.
    d.set_challenge_period(MIN_CHALLENGE_PERIOD, sender=owner)
    d.set_guardian(owner, sender=owner)
    d.set_poster(owner, sender=owner)
    drain = MerkleTree.build([(owner.address, 100 * ETH), (miners[0].address, 0)])
    d.propose_root(drain.root, 2, 100 * ETH, DATA_HASH, sender=owner)
    with ape.reverts("distributor: challenge window open"):
        d.accept_root(sender=owner)
    # Pausing (so miners cannot claim) does not shorten the window: it stops the clock.
    d.pause(sender=owner)
    chain.pending_timestamp += 10 * CHALLENGE_PERIOD
    valid_at = only(d.unpause(sender=owner), d.RootDelayed).valid_at
    chain.pending_timestamp = valid_at - 5
    with ape.reverts("distributor: challenge window open"):
        d.accept_root(sender=owner)
    # Inside the window every miner claims from the active root (the keeper pushes).
    d.claim_many(
        [m for m, _ in owed],
        [v for _, v in owed],
        [tree.proof(m.address) for m, _ in owed],
        sender=keeper,
    )
    assert [d.claimed(m) for m, _ in owed] == [v for _, v in owed]
    chain.pending_timestamp = valid_at
    d.accept_root(sender=owner)
    # What the owner gets is only what was never owed under the active root.
    with ape.reverts():  # the contract holds 90 ETH: the 100 ETH leaf cannot be paid
        d.claim(owner, 100 * ETH, drain.proof(owner.address), sender=owner)
    assert d.balance == 90 * ETH


def test_owner__replace_guardian_while_root_pending__reverts(
    funded_distributor, poster, owner, guardian, keeper, chain
):
    funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=poster)
    with ape.reverts("distributor: root pending"):
        funded_distributor.set_guardian(owner, sender=owner)
    # The guardian in office when the window began still stops it at its very end.
    chain.pending_timestamp += CHALLENGE_PERIOD - 2
    funded_distributor.revoke_pending_root(sender=guardian)
    chain.pending_timestamp += 2
    with ape.reverts("distributor: no pending root"):
        funded_distributor.accept_root(sender=keeper)
    tx = funded_distributor.set_guardian(owner, sender=owner)
    assert only(tx, funded_distributor.GuardianSet).new_guardian == owner


def test_owner__withdraw_pending_or_active_promises__reverts(funded_distributor, poster, owner):
    funded_distributor.propose_root(ROOT, 1, 60 * ETH, DATA_HASH, sender=poster)
    assert funded_distributor.surplus() == 40 * ETH
    with ape.reverts("distributor: amount exceeds surplus"):
        funded_distributor.withdraw_surplus(owner, 40 * ETH + 1, sender=owner)


# POSTER AS ATTACKER #


def test_poster__leaked_key_rotated__its_pending_root_is_revoked(
    funded_distributor, poster, owner, attacker, keeper, chain
):
    funded_distributor.propose_root(ROOT, 1, 5 * ETH, DATA_HASH, sender=poster)
    tx = funded_distributor.set_poster(attacker, sender=owner)
    event = only(tx, funded_distributor.RootRevoked)
    assert (event.epoch, event.root, event.total, event.data_hash, event.by) == (
        1,
        ROOT,
        5 * ETH,
        DATA_HASH,
        owner,
    )
    chain.pending_timestamp += CHALLENGE_PERIOD
    with ape.reverts("distributor: no pending root"):
        funded_distributor.accept_root(sender=keeper)
    with ape.reverts("distributor: caller is not the poster"):
        funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=poster)


def test_poster__last_epoch_number__refused(funded_distributor, post_root, miner, poster):
    with ape.reverts("distributor: epoch step too large"):
        funded_distributor.propose_root(ROOT, 2**256 - 1, ETH, DATA_HASH, sender=poster)
    with ape.reverts("distributor: epoch step too large"):
        funded_distributor.propose_root(ROOT, MAX_EPOCH_STEP + 1, ETH, DATA_HASH, sender=poster)
    post_root(funded_distributor, [(miner, ETH)], epoch=MAX_EPOCH_STEP)
    with ape.reverts("distributor: epoch step too large"):
        funded_distributor.propose_root(ROOT, 2 * MAX_EPOCH_STEP + 1, ETH, DATA_HASH, sender=poster)
    funded_distributor.propose_root(ROOT, 2 * MAX_EPOCH_STEP, ETH, DATA_HASH, sender=poster)


def test_poster__stale_pending_root__expires(funded_distributor, poster, keeper, chain):
    tx = funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=poster)
    valid_at = tx.timestamp + CHALLENGE_PERIOD
    with ape.reverts("distributor: root already pending"):
        funded_distributor.propose_root(b"\x22" * 32, 2, ETH, DATA_HASH, sender=poster)
    chain.pending_timestamp = valid_at + EXPIRY
    with ape.reverts("distributor: pending root expired"):
        funded_distributor.accept_root(sender=keeper)
    # The poster may now replace it; the old one is logged as revoked.
    tx = funded_distributor.propose_root(b"\x22" * 32, 2, ETH, DATA_HASH, sender=poster)
    event = only(tx, funded_distributor.RootRevoked)
    assert (event.epoch, event.root, event.by) == (1, ROOT, poster)
    assert funded_distributor.pending_root().root == b"\x22" * 32


def test_accept_root__just_before_expiry__activates(funded_distributor, poster, keeper, chain):
    tx = funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=poster)
    chain.pending_timestamp = tx.timestamp + CHALLENGE_PERIOD + EXPIRY - 1
    funded_distributor.accept_root(sender=keeper)
    assert funded_distributor.root() == ROOT


# PAUSE #


def test_stranger__accept_right_after_unpause__reverts(
    funded_distributor, poster, guardian, owner, attacker, chain
):
    tx = funded_distributor.propose_root(ROOT, 1, ETH, DATA_HASH, sender=poster)
    valid_at = tx.timestamp + CHALLENGE_PERIOD
    chain.pending_timestamp += 100
    paused = funded_distributor.pause(sender=guardian)
    chain.pending_timestamp += 5 * CHALLENGE_PERIOD
    unpaused = funded_distributor.unpause(sender=owner)
    paused_for = unpaused.timestamp - paused.timestamp
    event = only(unpaused, funded_distributor.RootDelayed)
    assert (event.epoch, event.root, event.valid_at) == (1, ROOT, valid_at + paused_for)
    assert funded_distributor.pending_root().valid_at == valid_at + paused_for
    with ape.reverts("distributor: challenge window open"):
        funded_distributor.accept_root(sender=attacker)
    chain.pending_timestamp = valid_at + paused_for
    funded_distributor.accept_root(sender=attacker)


def test_pause__claims_revert_but_claimable_still_reports(
    funded_distributor, post_root, miner, guardian, owner
):
    tree = post_root(funded_distributor, [(miner, ETH)], epoch=1)
    proof = tree.proof(miner.address)
    funded_distributor.pause(sender=guardian)
    assert funded_distributor.claimable(miner, ETH, proof) == ETH
    with ape.reverts("pausable: contract is paused"):
        funded_distributor.claim(miner, ETH, proof, sender=miner)
    funded_distributor.unpause(sender=owner)
    funded_distributor.claim(miner, ETH, proof, sender=miner)
    assert funded_distributor.claimed(miner) == ETH


# STRANGER AS ATTACKER #


@pytest.mark.parametrize("value", [0, ETH])
def test_stranger__unknown_function_or_wrong_abi__reverts(distributor, attacker, value):
    balance, funded = distributor.balance, distributor.funded()
    renounce = bytes.fromhex("715018a6")  # renounce_ownership()
    for data in (renounce, renounce + b"\x00" * 32):
        with ape.reverts("distributor: unknown function"):
            attacker.transfer(distributor, value, data=data)
    assert (distributor.balance, distributor.funded()) == (balance, funded)


def test_stranger__pays_leaving_recipient_first__reverts(
    funded_distributor, post_root, miners, attacker, funder, keeper
):
    miner, old, new = miners[0], funder, miners[1]
    funded_distributor.set_recipient(old, sender=miner)
    tree = post_root(funded_distributor, [(miner, ETH), (miners[2], ETH)], epoch=1)
    proof = tree.proof(miner.address)
    reason = "distributor: only the account or keeper may pay its recipient"
    with ape.reverts(reason):
        funded_distributor.claim(miner, ETH, proof, sender=attacker)
    with ape.reverts(reason):
        funded_distributor.claim_many([miner], [ETH], [proof], sender=attacker)
    tx = funded_distributor.set_recipient(new, sender=miner)
    event = only(tx, funded_distributor.RecipientSet)
    assert (event.account, event.previous, event.recipient) == (miner, old, new)
    before = new.balance
    tx = funded_distributor.claim(miner, ETH, proof, sender=keeper)
    assert new.balance == before + ETH
    event = only(tx, funded_distributor.Claimed)
    assert (event.recipient, event.caller) == (new, keeper), "a claim on the account's behalf"
    # Accounts without a recipient stay claimable by anyone, paid to themselves.
    other = miners[2]
    before = other.balance
    funded_distributor.claim(other, ETH, tree.proof(other.address), sender=attacker)
    assert other.balance == before + ETH


def test_set_keeper__owner_only_and_emits(distributor, owner, keeper, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        distributor.set_keeper(attacker, sender=attacker)
    tx = distributor.set_keeper(attacker, sender=owner)
    event = only(tx, distributor.KeeperSet)
    assert (event.old_keeper, event.new_keeper) == (keeper, attacker)
    assert distributor.keeper() == attacker


def test_miner__recipient_is_the_distributor__reverts(distributor, miner):
    with ape.reverts("distributor: recipient is the distributor"):
        distributor.set_recipient(distributor, sender=miner)
    assert distributor.recipient(miner) == ZERO_ADDRESS


@pytest.mark.parametrize("who", ["zero", "distributor"])
def test_stranger__claims_unpayable_leaf__reverts(
    funded_distributor, post_root, miner, attacker, who
):
    account = ZERO_ADDRESS if who == "zero" else funded_distributor.address
    tree = post_root(funded_distributor, [(account, ETH), (miner, ETH)], epoch=1)
    with ape.reverts("distributor: unpayable account"):
        funded_distributor.claim(account, ETH, tree.proof(account), sender=attacker)
    with ape.reverts("distributor: unpayable account"):
        funded_distributor.claim_many([account], [ETH], [tree.proof(account)], sender=attacker)
    assert funded_distributor.balance == 100 * ETH


def test_claim__cumulative_above_96_bits__reverts(funded_distributor, poster, keeper, miner, chain):
    tree = MerkleTree.build([(miner.address, 2**96), (ZERO_ADDRESS, 0)])
    funded_distributor.propose_root(tree.root, 1, 0, DATA_HASH, sender=poster)
    chain.pending_timestamp += CHALLENGE_PERIOD
    funded_distributor.accept_root(sender=keeper)
    with ape.reverts("distributor: cumulative too large"):
        funded_distributor.claim(miner, 2**96, tree.proof(miner.address), sender=miner)


def test_stranger__forces_eth__funded_and_surplus_unchanged(
    funded_distributor, project, attacker, owner
):
    forcer = project.ForceSender.deploy(sender=attacker)
    forcer.force(funded_distributor, value=3 * ETH, sender=attacker)
    assert funded_distributor.balance == 103 * ETH
    assert funded_distributor.funded() == 100 * ETH, "forced ETH is not counted"
    assert funded_distributor.surplus() == 100 * ETH
    with ape.reverts("distributor: amount exceeds surplus"):
        funded_distributor.withdraw_surplus(owner, 100 * ETH + 1, sender=owner)


# VIEWS #


def test_views__read_by_a_recipient_mid_batch__are_consistent(
    funded_distributor, post_root, project, owner, miners, keeper
):
    probes = [project.ViewProbe.deploy(sender=owner) for _ in range(2)]
    accounts = [probes[0], miners[0], probes[1]]
    tree = post_root(funded_distributor, [(a.address, ETH) for a in accounts], epoch=1)
    tx = funded_distributor.claim_many(
        accounts, [ETH] * 3, [tree.proof(a.address) for a in accounts], sender=keeper
    )
    assert len(tx.events.filter(funded_distributor.Claimed)) == 3
    seen = [log for log in tx.events if log.event_name == "Seen"]
    assert len(seen) == 2
    for index, log in enumerate(seen):
        assert log.funded == funded_distributor.funded() == 100 * ETH
        assert log.surplus == funded_distributor.surplus() == 97 * ETH
        assert log.claimed == ETH, "its own claim is recorded before it is paid"
        # Paid so far: this probe, plus the miner for the second probe.
        assert log.balance == 100 * ETH - ETH * (1 + 2 * index)
