"""Stateful fuzzing of the distributor: random sequences of fund / force ETH / propose
(roots that raise or lower cumulatives, roots that pay the owner) / accept / revoke /
claim / claim_many / set_recipient (EOAs and contracts) / pause / role and period changes /
withdraw, by every role, the owner playing the attacker too. After each step the contract
is checked against a model of what it must hold.

Invariants: funded() is what was paid in minus surplus withdrawn, and the balance is that
plus forced ETH minus everything paid out; each account's `claimed` is exactly what was paid
for it, only ever to the account or the recipient it set, never above the largest cumulative
an accepted root gave it; no root is accepted before its window (in unpaused time) passed;
while no root has lowered a cumulative below what was claimed, the balance covers every
balance owed under the live root; only the right role changed anything.

Runs at least 200 sequences of 20 steps in CI; `make fuzz` (`--hypothesis-profile deep`)
runs 2,000.
"""

from __future__ import annotations

import os

import ape
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from livepool.merkle import MerkleTree

from .conftest import CHALLENGE_PERIOD, ETH, MIN_CHALLENGE_PERIOD

ZERO = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20
ROLES = ["owner", "poster", "guardian", "keeper", "attacker"]
MAX_CHALLENGE = 30 * 86_400
EXPIRY = 7 * 86_400
MAX_EPOCH_STEP = 1_000_000
PERIODS = [0, MIN_CHALLENGE_PERIOD - 1, MIN_CHALLENGE_PERIOD, CHALLENGE_PERIOD, MAX_CHALLENGE + 1]
RECIPIENT_RULE = "distributor: only the account or keeper may pay its recipient"
# CI runs at least 200 sequences; LIVEPOOL_STATEFUL_SEQUENCES overrides (e.g. for a quick look).
MIN_SEQUENCES = int(os.environ.get("LIVEPOOL_STATEFUL_SEQUENCES", "200"))


def test_distributor__random_sequences__keep_invariants(
    project, chain, owner, poster, guardian, keeper, attacker, funder, miners
):
    actors = {
        "owner": owner,
        "poster": poster,
        "guardian": guardian,
        "keeper": keeper,
        "attacker": attacker,
    }
    contract = project.LivepoolDistributor.deploy(
        poster, guardian, CHALLENGE_PERIOD, MIN_CHALLENGE_PERIOD, sender=owner
    )
    contract.set_keeper(keeper, sender=owner)
    reader = project.StateReader.deploy(sender=owner)
    # SELFDESTRUCT outside its creating transaction keeps the code (EIP-6780): one sender
    # forces ETH again and again.
    forcer = project.ForceSender.deploy(sender=attacker)
    safe = project.SafeLikeWallet.deploy(sender=owner)
    rejecting = project.RejectingReceiver.deploy(sender=owner)
    addresses = [m.address for m in miners]
    # Leaves: the miners, and the owner's own address (the owner as attacker posts roots
    # that pay itself).
    leaves = [*addresses, owner.address]
    recipient_choices = [ZERO_ADDRESS, addresses[1], safe.address, rejecting.address]

    class DistributorMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.snapshot = chain.snapshot()
            self.funded = 0  # contract's funded(): paid in through calls − withdrawn
            self.forced = 0
            self.paid_out = 0  # Σ Claimed amounts
            self.claimed = dict.fromkeys(leaves, 0)
            self.best = dict.fromkeys(leaves, 0)  # the largest cumulative ever accepted
            self.recipient = dict.fromkeys(leaves, ZERO_ADDRESS)
            self.active: dict[str, int] = {}
            self.active_tree: MerkleTree | None = None
            self.active_epoch = 0
            self.pending: tuple[MerkleTree, dict[str, int], int] | None = None
            self.valid_at = 0
            self.paused = False
            self.poster = poster.address
            self.guardian = guardian.address
            self.period = CHALLENGE_PERIOD
            self.lowered_below_claimed = False

        def teardown(self):
            chain.restore(self.snapshot)

        # -- helpers --
        def promised(self) -> int:
            pending = sum(self.pending[1].values()) if self.pending else 0
            return max(sum(self.active.values()), pending)

        def check_payouts(self, tx, sender):
            """Every Claimed pays the leaf's account or the recipient it set, at most
            what the live root owes it; every PayoutFailed leaves it owed."""
            for event in tx.events.filter(contract.Claimed):
                account = event.account
                expected = self.recipient[account]
                to = account if expected == ZERO_ADDRESS else expected
                assert event.recipient == to, "paid to someone else than account/recipient"
                if to != account:
                    assert sender in (account, keeper.address), "a stranger paid a recipient"
                assert event.amount == self.active[account] - self.claimed[account]
                assert event.caller == sender
                self.claimed[account] = event.cumulative
                self.paid_out += event.amount
            for event in tx.events.filter(contract.PayoutFailed):
                assert event.recipient == rejecting.address

        # -- funding --
        @rule(amount=st.integers(1, 50 * ETH))
        def fund(self, amount):
            funder.transfer(contract, amount)
            self.funded += amount

        @rule(amount=st.integers(1, 5 * ETH))
        def force_eth(self, amount):
            forcer.force(contract, value=amount, sender=attacker)
            self.forced += amount

        # -- roots --
        @rule(
            who=st.sampled_from(ROLES),
            changes=st.lists(st.integers(-3 * ETH, 20 * ETH), min_size=4, max_size=4),
            owner_take=st.sampled_from([0, 1, "all"]),
            epoch_step=st.sampled_from([-1, 0, 1, 2, MAX_EPOCH_STEP, MAX_EPOCH_STEP + 1]),
        )
        def propose(self, who, changes, owner_take, epoch_step):
            values = {
                a: max(0, self.active.get(a, 0) + c)
                for a, c in zip(addresses, changes, strict=True)
            }
            rest = max(0, self.funded - sum(values.values()))
            values[owner.address] = rest if owner_take == "all" else owner_take
            total = sum(values.values())
            epoch = max(0, self.active_epoch + epoch_step)
            tree = MerkleTree.build(list(values.items()))
            now = chain.pending_timestamp
            reason = None
            if self.paused:
                reason = "pausable: contract is paused"
            elif actors[who].address != self.poster:
                reason = "distributor: caller is not the poster"
            elif self.pending is not None and now < self.valid_at + EXPIRY:
                reason = "distributor: root already pending"
            elif epoch <= self.active_epoch and self.active_tree is not None:
                reason = "distributor: epoch not increasing"
            elif epoch > self.active_epoch + MAX_EPOCH_STEP:
                reason = "distributor: epoch step too large"
            elif total < sum(self.active.values()):
                reason = "distributor: total decreasing"
            elif total > self.funded:
                reason = "distributor: insolvent root"
            if reason:
                with ape.reverts(reason):
                    contract.propose_root(tree.root, epoch, total, ZERO, sender=actors[who])
                return
            tx = contract.propose_root(tree.root, epoch, total, ZERO, sender=actors[who])
            self.pending = (tree, values, epoch)
            self.valid_at = tx.timestamp + self.period

        @rule(wait=st.booleans(), who=st.sampled_from(ROLES))
        def accept(self, wait, who):
            if wait and self.pending is not None:
                chain.pending_timestamp = max(chain.pending_timestamp, self.valid_at)
            now = chain.pending_timestamp
            reason = None
            if self.paused:
                reason = "pausable: contract is paused"
            elif self.pending is None:
                reason = "distributor: no pending root"
            elif now < self.valid_at:
                reason = "distributor: challenge window open"
            elif now >= self.valid_at + EXPIRY:
                reason = "distributor: pending root expired"
            elif sum(self.pending[1].values()) > self.funded:
                reason = "distributor: insolvent root"
            if reason:
                with ape.reverts(reason):
                    contract.accept_root(sender=actors[who])
                return
            tx = contract.accept_root(sender=actors[who])
            assert tx.timestamp >= self.valid_at, "accepted before its window passed"
            self.active_tree, self.active, self.active_epoch = self.pending
            self.pending = None
            for account, cumulative in self.active.items():
                self.best[account] = max(self.best[account], cumulative)
                if cumulative < self.claimed[account]:
                    self.lowered_below_claimed = True

        @rule(who=st.sampled_from(ROLES))
        def revoke(self, who):
            address = actors[who].address
            if address not in (self.guardian, owner.address):
                with ape.reverts("distributor: caller is not the guardian"):
                    contract.revoke_pending_root(sender=actors[who])
            elif self.pending is None:
                with ape.reverts("distributor: no pending root"):
                    contract.revoke_pending_root(sender=actors[who])
            else:
                contract.revoke_pending_root(sender=actors[who])
                self.pending = None

        # -- claims --
        @precondition(lambda self: self.active_tree is not None)
        @rule(index=st.integers(0, 4), who=st.sampled_from([*ROLES, "self"]))
        def claim(self, index, who):
            account = leaves[index]
            sender = [*miners, owner][index] if who == "self" else actors[who]
            cumulative = self.active[account]
            proof = self.active_tree.proof(account)
            due = cumulative - self.claimed[account]
            recipient = self.recipient[account]
            if self.paused:
                reason = "pausable: contract is paused"
            elif due <= 0:
                reason = "distributor: nothing to claim"
            elif recipient != ZERO_ADDRESS and sender.address not in (account, keeper.address):
                reason = RECIPIENT_RULE
            elif recipient == rejecting.address:
                with ape.reverts():
                    contract.claim(account, cumulative, proof, sender=sender)
                return
            else:
                reason = None
            if reason:
                with ape.reverts(reason):
                    contract.claim(account, cumulative, proof, sender=sender)
                return
            tx = contract.claim(account, cumulative, proof, sender=sender)
            self.check_payouts(tx, sender.address)

        @precondition(lambda self: self.active_tree is not None)
        @rule(index=st.integers(0, 4), extra=st.integers(1, ETH), forge=st.booleans())
        def attacker_claims_without_valid_proof(self, index, extra, forge):
            account = leaves[index]
            cumulative = self.active[account] + extra
            proof = self.active_tree.proof(account)
            if forge:
                proof = [b"\x5a" * 32, *proof[1:]] if proof else [b"\x5a" * 32]
                cumulative -= extra
            reason = "pausable: contract is paused" if self.paused else "distributor: invalid proof"
            with ape.reverts(reason):
                contract.claim(account, cumulative, proof, sender=attacker)

        @precondition(lambda self: self.active_tree is not None)
        @rule(
            picks=st.lists(st.integers(0, 4), min_size=1, max_size=5, unique=True),
            who=st.sampled_from(["keeper", "attacker"]),
        )
        def claim_many(self, picks, who):
            sender = actors[who]
            accounts = [leaves[i] for i in picks]
            cumulatives = [self.active[a] for a in accounts]
            proofs = [self.active_tree.proof(a) for a in accounts]
            if self.paused:
                with ape.reverts("pausable: contract is paused"):
                    contract.claim_many(accounts, cumulatives, proofs, sender=sender)
                return
            blocked = [
                a
                for a, c in zip(accounts, cumulatives, strict=True)
                if c > self.claimed[a] and self.recipient[a] != ZERO_ADDRESS and who != "keeper"
            ]
            if blocked:
                with ape.reverts(RECIPIENT_RULE):
                    contract.claim_many(accounts, cumulatives, proofs, sender=sender)
                return
            failing = {
                a
                for a, c in zip(accounts, cumulatives, strict=True)
                if c > self.claimed[a] and self.recipient[a] == rejecting.address
            }
            tx = contract.claim_many(accounts, cumulatives, proofs, sender=sender)
            assert {e.account for e in tx.events.filter(contract.PayoutFailed)} == failing
            self.check_payouts(tx, sender.address)

        @rule(index=st.integers(0, 4), choice=st.integers(0, 4))
        def set_recipient(self, index, choice):
            sender = [*miners, owner][index]
            if choice == 4:
                with ape.reverts("distributor: recipient is the distributor"):
                    contract.set_recipient(contract, sender=sender)
                return
            recipient = recipient_choices[choice]
            tx = contract.set_recipient(recipient, sender=sender)
            event = tx.events.filter(contract.RecipientSet)[0]
            assert event.previous == self.recipient[leaves[index]]
            self.recipient[leaves[index]] = recipient

        # -- roles, period, pause: the owner as attacker --
        @rule(who=st.sampled_from(ROLES), new=st.sampled_from(["poster", "owner", "attacker"]))
        def set_poster(self, who, new):
            if who != "owner":
                with ape.reverts("ownable: caller is not the owner"):
                    contract.set_poster(actors[new], sender=actors[who])
                return
            tx = contract.set_poster(actors[new], sender=actors[who])
            revoked = tx.events.filter(contract.RootRevoked)
            assert len(revoked) == (1 if self.pending else 0)
            self.pending = None
            self.poster = actors[new].address

        @rule(who=st.sampled_from(ROLES), new=st.sampled_from(["guardian", "owner"]))
        def set_guardian(self, who, new):
            if who != "owner":
                reason = "ownable: caller is not the owner"
            elif self.pending is not None:
                reason = "distributor: root pending"
            else:
                contract.set_guardian(actors[new], sender=actors[who])
                self.guardian = actors[new].address
                return
            with ape.reverts(reason):
                contract.set_guardian(actors[new], sender=actors[who])

        @rule(who=st.sampled_from(ROLES), period=st.sampled_from(PERIODS))
        def set_challenge_period(self, who, period):
            if who != "owner":
                reason = "ownable: caller is not the owner"
            elif period < MIN_CHALLENGE_PERIOD:
                reason = "distributor: challenge period too short"
            elif period > MAX_CHALLENGE:
                reason = "distributor: challenge period too long"
            else:
                contract.set_challenge_period(period, sender=actors[who])
                self.period = period
                return
            with ape.reverts(reason):
                contract.set_challenge_period(period, sender=actors[who])

        @rule(who=st.sampled_from(ROLES), pause=st.booleans(), hold=st.integers(0, 2 * 3_600))
        def toggle_pause(self, who, pause, hold):
            address = actors[who].address
            if pause:
                if address not in (self.guardian, owner.address):
                    with ape.reverts("distributor: caller is not the guardian"):
                        contract.pause(sender=actors[who])
                elif self.paused:
                    with ape.reverts("pausable: contract is paused"):
                        contract.pause(sender=actors[who])
                else:
                    tx = contract.pause(sender=actors[who])
                    self.paused = True
                    self.paused_at = tx.timestamp
                    chain.pending_timestamp += hold
            elif who != "owner":
                with ape.reverts("ownable: caller is not the owner"):
                    contract.unpause(sender=actors[who])
            elif not self.paused:
                with ape.reverts("pausable: contract is not paused"):
                    contract.unpause(sender=actors[who])
            else:
                tx = contract.unpause(sender=actors[who])
                self.paused = False
                if self.pending is not None:
                    # The paused time is added to the window: a pause never shortens it.
                    self.valid_at += tx.timestamp - self.paused_at
                    delayed = tx.events.filter(contract.RootDelayed)[0]
                    assert delayed.valid_at == self.valid_at

        @rule(who=st.sampled_from(ROLES), fraction=st.integers(0, 100))
        def withdraw_surplus(self, who, fraction):
            surplus = max(0, self.funded - self.promised())
            amount = surplus * fraction // 100
            if who != "owner":
                with ape.reverts("ownable: caller is not the owner"):
                    contract.withdraw_surplus(funder, amount, sender=actors[who])
                return
            contract.withdraw_surplus(funder, amount, sender=actors[who])
            self.funded -= amount
            with ape.reverts("distributor: amount exceeds surplus"):
                contract.withdraw_surplus(funder, surplus - amount + 1, sender=actors[who])

        # -- invariants (one eth_call reads the whole state: see StateReader.vy) --
        @invariant()
        def state_matches_model(self):
            snap = reader.snapshot(contract, leaves)
            claimed = dict(zip(leaves, snap.claimed, strict=True))
            recipients = dict(zip(leaves, snap.recipients, strict=True))
            # Funded is what came in through calls, minus surplus withdrawn; the balance is
            # that plus forced ETH, minus every payout.
            assert snap.funded == self.funded
            assert snap.balance == self.funded + self.forced - self.paid_out
            for account in leaves:
                # Paid exactly what the model paid, only ever to the account or its recipient
                # (check_payouts), never above a cumulative an accepted root gave it.
                assert claimed[account] == self.claimed[account], "paid without a valid proof"
                assert claimed[account] <= self.best[account]
                assert recipients[account] == self.recipient[account]
            if not self.lowered_below_claimed:
                # Everything owed under the live root is held by the contract.
                owed = sum(max(0, c - self.claimed[a]) for a, c in self.active.items())
                assert snap.balance >= owed
            # Only the right roles changed anything.
            assert snap.root == (self.active_tree.root if self.active_tree else ZERO)
            assert snap.epoch == self.active_epoch
            assert snap.total == sum(self.active.values())
            assert snap.pending_root == (self.pending[0].root if self.pending else ZERO)
            if self.pending:
                assert snap.pending_valid_at == self.valid_at
            assert snap.paused == self.paused
            assert (snap.owner, snap.poster, snap.guardian, snap.keeper) == (
                owner,
                self.poster,
                self.guardian,
                keeper,
            )
            assert snap.challenge_period == self.period

    examples = max(MIN_SEQUENCES, settings.default.max_examples if MIN_SEQUENCES >= 200 else 0)
    run_state_machine_as_test(
        DistributorMachine,
        settings=settings(
            settings.default, max_examples=examples, stateful_step_count=20, deadline=None
        ),
    )
