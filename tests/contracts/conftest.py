"""Fixtures for the distributor's tests: role-named accounts, a deployed contract, and
helpers that post a root the way the operator does (propose, wait out the window, accept).

Every test runs under ape's chain isolation, so session-scoped deployments are cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from livepool.merkle import MerkleTree

CHALLENGE_PERIOD = 3_600
# The immutable floor of the window in the tests' deployments.
MIN_CHALLENGE_PERIOD = 600
DATA_HASH = b"\xda" * 32
ETH = 10**18


@pytest.fixture(scope="session")
def attacker(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def funder(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def miners(accounts):
    return [accounts[i] for i in range(6, 10)]


@pytest.fixture(scope="session")
def miner(miners):
    return miners[0]


@pytest.fixture(scope="session")
def distributor(project, owner, poster, guardian, keeper):
    contract = project.LivepoolDistributor.deploy(
        poster, guardian, CHALLENGE_PERIOD, MIN_CHALLENGE_PERIOD, sender=owner
    )
    contract.set_keeper(keeper, sender=owner)
    return contract


@pytest.fixture(scope="session")
def funded_distributor(distributor, funder):
    funder.transfer(distributor, 100 * ETH)
    return distributor


@pytest.fixture(scope="session")
def post_root(chain, poster, keeper) -> Callable[..., MerkleTree]:
    """Propose a tree of (account, cumulative) and accept it after the window."""

    def post(
        contract,
        values: Sequence[tuple[str, int]],
        epoch: int,
        *,
        accept: bool = True,
        data_hash: bytes = DATA_HASH,
    ) -> MerkleTree:
        tree = MerkleTree.build([(str(a), int(v)) for a, v in values])
        total = sum(v for _, v in values)
        contract.propose_root(tree.root, epoch, total, data_hash, sender=poster)
        if accept:
            chain.pending_timestamp += CHALLENGE_PERIOD
            contract.accept_root(sender=keeper)
        return tree

    return post
