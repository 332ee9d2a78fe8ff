"""Interop with clients nobody here wrote: trees and proofs made by OpenZeppelin's
`@openzeppelin/merkle-tree` (run with node) pay out on the contract, and the contract's
own proof loop agrees with snekmate's `merkle_proof_verification` on random trees."""

from __future__ import annotations

import random

import ape
from eth_utils import to_checksum_address

from livepool.merkle import MerkleTree, leaf_hash

from ..ozjs import oz_build
from .conftest import CHALLENGE_PERIOD, DATA_HASH, ETH


def random_address(rng: random.Random) -> str:
    return to_checksum_address(rng.randbytes(20))


def test_claim__openzeppelin_tree_and_proofs__pay_out(
    funded_distributor, miners, poster, keeper, chain
):
    rng = random.Random(7)
    values = [(m.address, rng.randrange(1, ETH)) for m in miners]
    values += [(random_address(rng), rng.randrange(1, ETH)) for _ in range(60)]
    tree = oz_build(values)
    total = sum(v for _, v in values)
    funded_distributor.propose_root(tree["root"], 1, total, DATA_HASH, sender=poster)
    chain.pending_timestamp += CHALLENGE_PERIOD
    funded_distributor.accept_root(sender=keeper)

    # Miners claim for themselves; the keeper claims for accounts without a key here.
    for i in [0, 1, 2, 3, 10, 33, 63]:
        account, amount = values[i]
        before = chain.provider.get_balance(account)
        funded_distributor.claim(account, amount, tree["proofs"][i], sender=keeper)
        assert chain.provider.get_balance(account) == before + amount
        assert funded_distributor.claimed(account) == amount
    # The same proofs in one batch push.
    batch = [4, 5, 6, 7, 8]
    funded_distributor.claim_many(
        [values[i][0] for i in batch],
        [values[i][1] for i in batch],
        [tree["proofs"][i] for i in batch],
        sender=keeper,
    )
    for i in batch:
        assert funded_distributor.claimed(values[i][0]) == values[i][1]


def test_proof_loop__agrees_with_snekmate_on_random_trees(
    project, owner, funded_distributor, post_root, keeper
):
    parity = project.ProofParity.deploy(sender=owner)
    rng = random.Random(11)
    for epoch, size in enumerate((1, 2, 3, 5, 8, 13, 64, 200), start=1):
        values = [(random_address(rng), rng.randrange(1, 10**12)) for _ in range(size)]
        tree = post_root(funded_distributor, values, epoch=epoch)
        assert tree.root == MerkleTree.build(values).root
        for account, amount in rng.sample(values, min(size, 6)):
            proof = tree.proof(account)
            leaf = leaf_hash(account, amount)
            assert parity.verify(proof, tree.root, leaf)
            assert funded_distributor.claimable(account, amount, proof) == amount
            # A tampered proof or amount: snekmate says no, and so does the contract.
            if proof:
                bad = [*proof]
                bad[rng.randrange(len(bad))] = rng.randbytes(32)
                assert not parity.verify(bad, tree.root, leaf)
                with ape.reverts("distributor: invalid proof"):
                    funded_distributor.claimable(account, amount, bad)
            assert not parity.verify(proof, tree.root, leaf_hash(account, amount + 1))
            with ape.reverts("distributor: invalid proof"):
                funded_distributor.claimable(account, amount + 1, proof)
