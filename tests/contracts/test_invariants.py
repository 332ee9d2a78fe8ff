"""Stateful fuzzing of the distributor: random sequences of fund / propose / accept /
revoke / claim / claim_many / pause / withdraw across every role, checked after each step
against a model of what the contract must hold.

Runs at least 200 sequences in CI; `--hypothesis-profile deep` runs 2,000.
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

from .conftest import CHALLENGE_PERIOD, ETH

ZERO = b"\x00" * 32
ROLES = ["owner", "poster", "guardian", "keeper", "attacker"]
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
    contract = project.LivepoolDistributor.deploy(poster, guardian, CHALLENGE_PERIOD, sender=owner)
    reader = project.StateReader.deploy(sender=owner)
    addresses = [m.address for m in miners]

    class DistributorMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.snapshot = chain.snapshot()
            self.funded = 0  # Σ ETH sent in, minus surplus withdrawn
            self.sent_in = 0
            self.withdrawn = 0
            self.claimed = dict.fromkeys(addresses, 0)
            self.active: dict[str, int] = {}
            self.active_tree: MerkleTree | None = None
            self.active_epoch = 0
            self.pending: tuple[MerkleTree, dict[str, int], int] | None = None
            self.paused = False

        def teardown(self):
            chain.restore(self.snapshot)

        # -- helpers --
        def total_claimed(self) -> int:
            return sum(self.claimed.values())

        # -- rules --
        @rule(amount=st.integers(1, 50 * ETH))
        def fund(self, amount):
            funder.transfer(contract, amount)
            self.funded += amount
            self.sent_in += amount

        @rule(
            who=st.sampled_from(ROLES),
            raises=st.lists(st.integers(0, 20 * ETH), min_size=4, max_size=4),
            epoch_step=st.integers(-1, 2),
        )
        def propose(self, who, raises, epoch_step):
            values = {a: self.active.get(a, 0) + r for a, r in zip(addresses, raises, strict=True)}
            total = sum(values.values())
            epoch = max(0, self.active_epoch + epoch_step)
            tree = MerkleTree.build(list(values.items()))
            reason = None
            if self.paused:
                reason = "pausable: contract is paused"
            elif who != "poster":
                reason = "distributor: caller is not the poster"
            elif self.pending is not None:
                reason = "distributor: root already pending"
            elif epoch <= self.active_epoch and self.active_tree is not None:
                reason = "distributor: epoch not increasing"
            elif total > self.funded:
                reason = "distributor: insolvent root"
            if reason:
                with ape.reverts(reason):
                    contract.propose_root(tree.root, epoch, total, ZERO, sender=actors[who])
            else:
                contract.propose_root(tree.root, epoch, total, ZERO, sender=actors[who])
                self.pending = (tree, values, epoch)

        @rule(wait=st.booleans(), who=st.sampled_from(ROLES))
        def accept(self, wait, who):
            if wait:
                chain.pending_timestamp += CHALLENGE_PERIOD
            reason = None
            if self.paused:
                reason = "pausable: contract is paused"
            elif self.pending is None:
                reason = "distributor: no pending root"
            elif not wait:
                reason = "distributor: challenge window open"
            if reason:
                with ape.reverts(reason):
                    contract.accept_root(sender=actors[who])
            else:
                contract.accept_root(sender=actors[who])
                self.active_tree, self.active, self.active_epoch = self.pending
                self.pending = None

        @rule(who=st.sampled_from(ROLES))
        def revoke(self, who):
            if who not in ("guardian", "owner"):
                with ape.reverts("distributor: caller is not the guardian"):
                    contract.revoke_pending_root(sender=actors[who])
            elif self.pending is None:
                with ape.reverts("distributor: no pending root"):
                    contract.revoke_pending_root(sender=actors[who])
            else:
                contract.revoke_pending_root(sender=actors[who])
                self.pending = None

        @precondition(lambda self: self.active_tree is not None)
        @rule(index=st.integers(0, 3), who=st.sampled_from(ROLES))
        def claim(self, index, who):
            account = addresses[index]
            cumulative = self.active[account]
            proof = self.active_tree.proof(account)
            due = cumulative - self.claimed[account]
            if self.paused:
                with ape.reverts("pausable: contract is paused"):
                    contract.claim(account, cumulative, proof, sender=actors[who])
            elif due <= 0:
                with ape.reverts("distributor: nothing to claim"):
                    contract.claim(account, cumulative, proof, sender=actors[who])
            else:
                before = miners[index].balance
                contract.claim(account, cumulative, proof, sender=actors[who])
                # The caller pays gas; the account only receives.
                if actors[who].address != account:
                    assert miners[index].balance == before + due
                self.claimed[account] = cumulative

        @precondition(lambda self: self.active_tree is not None)
        @rule(index=st.integers(0, 3), extra=st.integers(1, ETH), forge=st.booleans())
        def attacker_claims_without_valid_proof(self, index, extra, forge):
            account = addresses[index]
            cumulative = self.active[account] + extra
            proof = self.active_tree.proof(account)
            if forge:
                proof = [b"\x5a" * 32, *proof[1:]] if proof else [b"\x5a" * 32]
                cumulative -= extra
            with ape.reverts("pausable: contract is paused" if self.paused else None):
                contract.claim(account, cumulative, proof, sender=attacker)

        @precondition(lambda self: self.active_tree is not None)
        @rule(picks=st.lists(st.integers(0, 3), min_size=1, max_size=4, unique=True))
        def claim_many(self, picks):
            accounts = [addresses[i] for i in picks]
            cumulatives = [self.active[a] for a in accounts]
            proofs = [self.active_tree.proof(a) for a in accounts]
            if self.paused:
                with ape.reverts("pausable: contract is paused"):
                    contract.claim_many(accounts, cumulatives, proofs, sender=keeper)
                return
            expected = sum(
                max(0, c - self.claimed[a]) for a, c in zip(accounts, cumulatives, strict=True)
            )
            tx = contract.claim_many(accounts, cumulatives, proofs, sender=keeper)
            assert sum(e.amount for e in tx.events.filter(contract.Claimed)) == expected
            for a, c in zip(accounts, cumulatives, strict=True):
                self.claimed[a] = max(self.claimed[a], c)

        @rule(who=st.sampled_from(ROLES), pause=st.booleans())
        def toggle_pause(self, who, pause):
            if pause:
                if who not in ("guardian", "owner"):
                    with ape.reverts("distributor: caller is not the guardian"):
                        contract.pause(sender=actors[who])
                elif self.paused:
                    with ape.reverts("pausable: contract is paused"):
                        contract.pause(sender=actors[who])
                else:
                    contract.pause(sender=actors[who])
                    self.paused = True
            elif who != "owner":
                with ape.reverts("ownable: caller is not the owner"):
                    contract.unpause(sender=actors[who])
            elif not self.paused:
                with ape.reverts("pausable: contract is not paused"):
                    contract.unpause(sender=actors[who])
            else:
                contract.unpause(sender=actors[who])
                self.paused = False

        @rule(who=st.sampled_from(ROLES), fraction=st.integers(0, 100))
        def withdraw_surplus(self, who, fraction):
            pending_total = sum(self.pending[1].values()) if self.pending else 0
            liabilities = max(sum(self.active.values()), pending_total) - self.total_claimed()
            surplus = max(0, contract.balance - liabilities)
            amount = surplus * fraction // 100
            if who != "owner":
                with ape.reverts("ownable: caller is not the owner"):
                    contract.withdraw_surplus(funder, amount, sender=actors[who])
                return
            contract.withdraw_surplus(funder, amount, sender=actors[who])
            self.funded -= amount
            self.withdrawn += amount
            with ape.reverts("distributor: amount exceeds surplus"):
                contract.withdraw_surplus(funder, surplus - amount + 1, sender=actors[who])

        # -- invariants (one eth_call reads the whole state: see StateReader.vy) --
        @invariant()
        def state_matches_model(self):
            snap = reader.snapshot(contract, addresses)
            claimed = dict(zip(addresses, snap.claimed, strict=True))
            # Σ claimed ≤ Σ funded, and the contract's own ceiling agrees.
            assert snap.total_claimed <= self.sent_in - self.withdrawn
            assert snap.total_claimed <= snap.funded
            assert snap.total_claimed == self.total_claimed()
            # balance = funded − Σ claimed.
            assert snap.balance == self.funded - self.total_claimed()
            for account in addresses:
                # Nothing is paid without a valid proof of the active root.
                assert claimed[account] == self.claimed[account], "paid without a valid proof"
                assert claimed[account] <= self.active.get(account, 0)
            # Only the right roles changed anything.
            assert snap.root == (self.active_tree.root if self.active_tree else ZERO)
            assert snap.epoch == self.active_epoch
            assert snap.total == sum(self.active.values())
            assert snap.pending_root == (self.pending[0].root if self.pending else ZERO)
            assert snap.paused == self.paused
            assert (snap.owner, snap.poster, snap.guardian) == (owner, poster, guardian)

    examples = max(MIN_SEQUENCES, settings.default.max_examples if MIN_SEQUENCES >= 200 else 0)
    run_state_machine_as_test(
        DistributorMachine,
        settings=settings(
            settings.default, max_examples=examples, stateful_step_count=20, deadline=None
        ),
    )
