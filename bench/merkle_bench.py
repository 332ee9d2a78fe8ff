"""Benchmark: livepool.merkle against OpenZeppelin's StandardMerkleTree on the same leaves.

    .venv/bin/python bench/merkle_bench.py [--sizes 10000,100000,1000000] [--oz-max N]

For each size, builds the tree and every proof in Python, then hands the same values to
OZ in node (``tests/js/oz_tree.mjs``, op ``bench``), which times ``StandardMerkleTree.of``
and a sample of ``getProof`` calls spread over the tree; OZ's time for all proofs is that
sample extrapolated (OZ's proofs cost the same at every leaf: one walk plus a verify).
Prints markdown tables on stdout (keccak backends, tree + proofs, dump/load) and progress
on stderr.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "offchain"))

from livepool.hashing import KECCAK_BACKEND  # noqa: E402
from livepool.merkle import MerkleTree  # noqa: E402

OZ_CLI = REPO / "tests" / "js" / "oz_tree.mjs"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def keccak_backends() -> dict[str, Callable[[bytes], bytes]]:
    """Every keccak256 implementation importable here, as bytes -> digest."""
    backends: dict[str, Callable[[bytes], bytes]] = {}
    try:
        import sha3  # type: ignore[import-not-found,import-untyped,unused-ignore]

        new = sha3.keccak_256
        backends["pysha3 (safe-pysha3)"] = lambda data: new(data).digest()
    except ImportError:
        pass
    try:
        from Crypto.Hash import keccak

        backends["pycryptodome"] = lambda data: keccak.new(data=data, digest_bits=256).digest()
    except ImportError:
        pass
    try:
        from eth_hash.auto import keccak as eth_hash_keccak

        backends["eth_hash.auto"] = eth_hash_keccak
    except ImportError:
        pass
    return backends


def bench_keccak(count: int = 200_000) -> list[tuple[str, float]]:
    data = [os.urandom(64) for _ in range(count)]  # a node pair: the common input
    results = []
    for name, digest in keccak_backends().items():
        start = time.perf_counter()
        for item in data:
            digest(item)
        results.append((name, (time.perf_counter() - start) / count * 1e6))
    return results


def make_values(size: int) -> list[tuple[str, int]]:
    rng = random.Random(size)
    return [("0x" + rng.randbytes(20).hex(), rng.randrange(10**24)) for _ in range(size)]


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    gc.collect()
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def run_oz(values: list[tuple[str, int]], proof_sample: int) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (REPO / "node_modules" / "@openzeppelin" / "merkle-tree").is_dir():
        raise SystemExit("node and node_modules are needed for the OZ side: run `make setup`")
    request = {
        "op": "bench",
        "values": [[account, str(amount)] for account, amount in values],
        "proof_sample": proof_sample,
    }
    proc = subprocess.run(
        [node, "--max-old-space-size=16384", str(OZ_CLI)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"oz_tree.mjs failed: {proc.stderr}")
    answer: dict[str, Any] = json.loads(proc.stdout)
    if "error" in answer:
        raise SystemExit(f"OZ refused the values: {answer['error']}")
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10000,100000,1000000", help="leaf counts, comma-separated"
    )
    parser.add_argument(
        "--oz-max", type=int, default=1_000_000, help="skip OZ for sizes above this (it is slow)"
    )
    parser.add_argument("--proof-sample", type=int, default=1000, help="OZ proofs timed per size")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size]

    log("keccak backends ...")
    backends = bench_keccak()

    rows = []
    io_rows = []
    for size in sizes:
        values = make_values(size)
        log(f"{size:>9} leaves: Python build ...")
        tree, build_s = timed(lambda values=values: MerkleTree.build(values))
        log(f"{size:>9} leaves: Python proofs ...")
        proofs, proofs_s = timed(tree.proofs)
        assert len(proofs) == size
        del proofs
        log(f"{size:>9} leaves: Python dump / load ...")
        text, dump_s = timed(tree.dump_json)
        loaded, load_s = timed(lambda text=text: MerkleTree.load(text))
        assert loaded.root == tree.root
        del loaded, text
        io_rows.append((size, dump_s, load_s))
        oz: dict[str, Any] | None = None
        if size <= args.oz_max:
            log(f"{size:>9} leaves: OZ build + {args.proof_sample} sampled proofs (slow) ...")
            oz = run_oz(values, args.proof_sample)
            if oz["root"] != tree.root_hex:
                raise SystemExit(f"root mismatch at {size}: OZ {oz['root']} != {tree.root_hex}")
        rows.append((size, build_s, proofs_s, oz))
        del tree
        log(f"{size:>9} leaves: done")

    print(f"### keccak256 backends (64-byte input; livepool.merkle uses {KECCAK_BACKEND})\n")
    print("| backend | µs / hash |")
    print("|---|---:|")
    for name, micros in backends:
        print(f"| {name} | {micros:.3f} |")

    print("\n### Tree + all proofs: livepool.merkle vs @openzeppelin/merkle-tree 1.0.8\n")
    print(
        "| leaves | Py build s | Py all proofs s | Py total s "
        "| OZ build s | OZ all proofs s (extrapolated) | OZ total s | OZ / Py |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, build_s, proofs_s, oz in rows:
        py_total = build_s + proofs_s
        if oz is None:
            oz_cells = "| - | - | - | - |"
        else:
            per_proof = oz["proof_s"] / oz["proof_sample"]
            oz_proofs = per_proof * size
            oz_total = oz["build_s"] + oz_proofs
            oz_cells = (
                f"| {oz['build_s']:.2f} | {oz_proofs:.2f} ({per_proof * 1e6:.0f} µs x {size}) "
                f"| {oz_total:.2f} | {oz_total / py_total:.0f}x |"
            )
        print(f"| {size:,} | {build_s:.2f} | {proofs_s:.2f} | {py_total:.2f} {oz_cells}")
    print(
        f"\nOZ's all-proofs time is extrapolated from {args.proof_sample} getProof calls "
        "spread over the tree; sizes above --oz-max show - for OZ."
    )

    print("\n### livepool.merkle dump / load (standard-v1 JSON text, load fully validates)\n")
    print("| leaves | dump_json s | load s |")
    print("|---:|---:|---:|")
    for size, dump_s, load_s in io_rows:
        print(f"| {size:,} | {dump_s:.2f} | {load_s:.2f} |")


if __name__ == "__main__":
    main()
