"""Gas benchmark of LivepoolDistributor, each figure beside a floor measured in the same run.

The floor is `contracts/test/GasFloor.vy`: the same calldata, one `claimed` SSTORE and one
ETH transfer, no checks. Everything above it is what safety costs: reading the root, the
pause flag and the recipient, hashing the proof, keeping `total_claimed`, the event.

Run: `make bench` (or `.venv/bin/python bench/gas.py` with .venv/bin on PATH).
Proofs of depth 1, 10 and 20 are a real leaf's path with random siblings (all the contract
sees of a tree of 2**depth leaves); depth 17 and the batches use a real tree of 2**17
leaves built by livepool.merkle.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

os.chdir(Path(__file__).resolve().parent.parent)

from ape import accounts, chain, networks, project  # noqa: E402
from ape.logging import logger  # noqa: E402

from livepool.merkle import MerkleTree, hash_pair, leaf_hash  # noqa: E402

ETH = 10**18
DEPTHS = (1, 10, 17, 20)
BATCHES = (10, 100)
GOALS = {"first claim, depth 17": 12_000, "top-up claim, depth 17": 12_000}  # above floor
UNISWAP_MERKLE_DISTRIBUTOR = 78_598  # average claim in its own tests, for reference


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def synthetic_path(account: str, amount: int, siblings: list[bytes]) -> bytes:
    node = leaf_hash(account, amount)
    for sibling in siblings:
        node = hash_pair(node, sibling)
    return node


class Bench:
    def __init__(self) -> None:
        test_accounts = accounts.test_accounts
        self.owner, self.poster, self.keeper = test_accounts[0], test_accounts[1], test_accounts[2]
        self.distributor = project.LivepoolDistributor.deploy(
            self.poster, test_accounts[3], 1, 1, sender=self.owner
        )
        self.floor = project.GasFloor.deploy(sender=self.owner)
        for contract in (self.distributor, self.floor):
            self.owner.transfer(contract, 4_000 * ETH)
        self.epoch = 0
        self.total = 0
        self.rows: list[tuple[str, int, int | None]] = []

    def post(self, root: bytes, total: int) -> tuple[int, int]:
        self.epoch += 1
        self.total = max(self.total, total)
        proposed = self.distributor.propose_root(
            root, self.epoch, self.total, b"\x01" * 32, sender=self.poster
        )
        chain.pending_timestamp += 1  # the shortest window the contract allows
        accepted = self.distributor.accept_root(sender=self.keeper)
        return proposed.gas_used, accepted.gas_used

    def fresh_account(self) -> str:
        """An account that already exists on-chain (holds 1 wei), as a miner's wallet does."""
        account = accounts.test_accounts.generate_test_account()
        self.owner.transfer(account, 1)
        return account.address

    def single_claims(self, depth: int, tree: MerkleTree | None = None) -> None:
        rng = random.Random(depth)
        if tree is None:
            account = self.fresh_account()
            siblings = [rng.randbytes(32) for _ in range(depth)]
            first_amount, topup_amount = ETH, 2 * ETH
            self.post(synthetic_path(account, first_amount, siblings), self.total + 3 * ETH)
            first_proof = topup_proof = siblings
        else:
            account = tree.values[0][0]
            first_amount = tree.values[0][1]
            first_proof = tree.proof(0)
            topup_amount = topup_proof = None
        floor_account = self.fresh_account()
        first = self.distributor.claim(account, first_amount, first_proof, sender=self.keeper)
        floor_first = self.floor.claim(floor_account, first_amount, first_proof, sender=self.keeper)
        self.rows.append(
            (
                f"first claim, depth {depth}" + (" (real tree)" if tree else ""),
                first.gas_used,
                floor_first.gas_used,
            )
        )
        if tree is None:
            self.post(synthetic_path(account, topup_amount, siblings), self.total + 3 * ETH)
            topup = self.distributor.claim(account, topup_amount, topup_proof, sender=self.keeper)
            floor_topup = self.floor.claim(
                floor_account, topup_amount, topup_proof, sender=self.keeper
            )
            self.rows.append((f"top-up claim, depth {depth}", topup.gas_used, floor_topup.gas_used))

    def real_tree(self, depth: int, claimers: list[str], amount: int) -> MerkleTree:
        rng = random.Random(17)
        fillers = (1 << depth) - len(claimers)
        values = [(a, amount) for a in claimers]
        values += [
            ("0x" + rng.randbytes(20).hex(), rng.randrange(1, 10**15)) for _ in range(fillers)
        ]
        return MerkleTree.build(values)

    def batches(self, depth: int) -> None:
        # claimers[0] claims alone first (so total_claimed is non-zero, as in steady state),
        # then disjoint slices of claimers go in batches of each size.
        needed = 1 + sum(BATCHES)
        log(f"  funding {needed + sum(BATCHES)} recipient accounts")
        claimers = [self.fresh_account() for _ in range(needed)]
        floor_claimers = [self.fresh_account() for _ in range(sum(BATCHES))]
        for round_, amount in (("first", ETH), ("top-up", 2 * ETH)):
            log(f"  building a tree of 2**{depth} leaves ({round_})")
            tree = self.real_tree(depth, claimers, amount)
            self.post(tree.root, sum(v for _, v in tree.values))
            if round_ == "first":
                self.single_claims(depth, tree)
            else:
                tx = self.distributor.claim(claimers[0], amount, tree.proof(0), sender=self.keeper)
                self.rows.append((f"top-up claim, depth {depth} (real tree)", tx.gas_used, None))
            offset = 0
            for n in BATCHES:
                batch = claimers[1 + offset : 1 + offset + n]
                floor_batch = floor_claimers[offset : offset + n]
                offset += n
                proofs = [tree.proof(a) for a in batch]
                tx = self.distributor.claim_many(batch, [amount] * n, proofs, sender=self.keeper)
                floor_tx = self.floor.claim_many(
                    floor_batch, [amount] * n, proofs, sender=self.keeper
                )
                self.rows.append(
                    (
                        f"claim_many per recipient, {round_}, batch {n}, depth {depth}",
                        tx.gas_used // n,
                        floor_tx.gas_used // n,
                    )
                )

    def roots(self) -> None:
        proposed, accepted = self.post(b"\x77" * 32, self.total)
        self.rows.append(("propose_root (steady state)", proposed, None))
        self.rows.append(("accept_root (steady state)", accepted, None))


def table(rows: list[tuple[str, int, int | None]]) -> str:
    out = ["| operation | gas | floor | above floor | goal |", "|---|---:|---:|---:|---|"]
    for name, gas, floor in rows:
        goal = GOALS.get(name)
        met = floor is not None and gas - floor <= (goal or 0)
        verdict = "" if goal is None else f"≤ floor + {goal:,}: {'met' if met else 'NOT met'}"
        above = "" if floor is None else f"{gas - floor:,} ({gas / floor:.2f}×)"
        floor_s = "" if floor is None else f"{floor:,}"
        out.append(f"| {name} | {gas:,} | {floor_s} | {above} | {verdict} |")
    return "\n".join(out)


def main() -> None:
    logger.set_level("WARNING")  # one INFO line per transaction would bury the table
    with networks.ethereum.local.use_provider("test"):
        bench = Bench()
        log("first-ever claim (total_claimed 0 -> non-zero), then steady state")
        bench.single_claims(1)
        first_ever = bench.rows[0]
        bench.rows = [("first-ever claim of the contract, depth 1", *first_ever[1:])]
        for depth in DEPTHS:
            log(f"single claims at depth {depth}")
            bench.single_claims(depth)
        log("claims and batches on a real tree, depth 17")
        bench.batches(17)
        bench.roots()
    rows = sorted(bench.rows, key=lambda r: (r[0].split(",")[0], r[0]))
    print("\n### Gas (LivepoolDistributor vs. floor, same calldata, same run)\n")
    print(table(rows))
    print(
        f"\nReference: Uniswap's MerkleDistributor averages {UNISWAP_MERKLE_DISTRIBUTOR:,} gas "
        "per (ERC20) claim in its own tests."
    )


if __name__ == "__main__":
    main()
