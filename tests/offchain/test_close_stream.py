"""The streaming close (issue 10) gives the roots and statements the old close gave.

The expected figures below were produced by the close as it was before the streaming
rewrite (commit 66b8d14: SQL ``GROUP BY`` per exact price, digests sorted in memory) on
the same receipts: the simulator's 40 miners over three one-day epochs, every fifth
receipt re-priced with ``pixels_per_unit = 3`` and prices near 7·10¹⁵, duplicates,
conflicts, failed segments, late receipts and verdicts (some late, charged in two later
epochs that only claw back), ingested in two halves with a close in between. Both
databases gave the same bytes then; they must now.
"""

from __future__ import annotations

import hashlib
import os
import random
from typing import Any

import pytest

from livepool import epochs, ingest
from livepool.errors import ValidationError
from livepool.ledger import Ledger, queries
from livepool.simulate import simulate
from livepool.statement import DigestSorter, digest_set

#: (epoch, root, data_hash, total, sha256 of the statement bytes), from the old close.
FROZEN = [
    (
        20417,
        "0xdf30528fd08d2305e369291af39948e5ff2bceeac648e6e155170f960622963b",
        "0x188ac3ff680e6267611291624721e2f194114062e87d941525211e60237f257b",
        90370035192462874263801600,
        "b95750c4a3ecb4999f06c7996114a05a038f3c49b1409b9958093b5396fd30cc",
    ),
    (
        20418,
        "0x0664f119628b13830a099c20aa56ee7413447bb1d71b42f25e0aa2e97c19656e",
        "0x14a12c43e3cbcfa7e90c7449d9572e5640b268e134ffc8990fbe3c1cbd43ce7a",
        176739141633941865566971200,
        "a792f0b004e284335e59dec0960b338874c183c6a4ea49c920351bbad6367158",
    ),
    (
        20419,
        "0x325c141092c1696d471725bd3a8be6e47ae1b7ff0a4047e2402959759f9020bf",
        "0x13b0c36c7ed5523533149535a48097a76b659dd9ad66d1c64d56007af2da518d",
        266097196350398444750251200,
        "e58e02372df040c0cdc7596f308e9784b9856d63dc772e63cdf12f90eadcb8d1",
    ),
    (
        20420,
        "0x325c141092c1696d471725bd3a8be6e47ae1b7ff0a4047e2402959759f9020bf",
        "0xaa61728514c3de1bb915aac9c3c56ee0f86a2187371d8c210ab6a2a643aa761e",
        266097196350398444750251200,
        "2292813b43ab59ec48c9371beb39d73284239b49be56ee911ee1e153f4e58f3c",
    ),
    (
        20421,
        "0x325c141092c1696d471725bd3a8be6e47ae1b7ff0a4047e2402959759f9020bf",
        "0x7d59c964281ac666fc952eeb628eea31c9135e947ab68bf564d8ea350665e3b1",
        266097196350398444750251200,
        "11e96751ca1dbef10002b8c713b71116d06aff52df3cfb5a18051293c28bf26a",
    ),
]


def _items() -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(simulate(40, 6000, seed=7, days=3.0, epoch_seconds=86_400)):
        if "verdict" not in item and i % 5 == 0:
            item = dict(item, pixels_per_unit=3, price_per_unit=10**15 * 7 + i * 1_000_003)
        out.append(item)
    return out


def test_streaming_close_gives_the_old_roots_and_statements(database_url: str) -> None:
    ledger = Ledger(database_url)  # a fresh pool: defaults, configured as the frozen run was
    items = _items()
    last = max(i["finished_at"] for i in items if "finished_at" in i)
    epochs.configure(
        ledger,
        fee_address="0x" + "ee" * 20,
        commission_bps=250,
        penalty_multiplier="3/2",
        decode_weight="1/10",
    )
    half = len(items) // 2
    ingest.ingest_receipts(ledger, items[:half])
    closed = epochs.close_due(ledger, now=items[half]["finished_at"])
    ingest.ingest_receipts(ledger, items[half:])
    closed += epochs.close_due(ledger, now=last + 3 * 86_400)
    ledger.close()
    got = [
        (c.number, c.root, c.data_hash, c.total, hashlib.sha256(c.statement).hexdigest())
        for c in closed
    ]
    assert got == FROZEN


def test_digest_sorter_spills_and_agrees_with_digest_set(tmp_path: Any) -> None:
    rng = random.Random(3)
    digests = [rng.randbytes(32) for _ in range(5_000)]
    digests += [bytes([7]) + rng.randbytes(31) for _ in range(500)]  # one crowded bucket
    # NULs where fixed-width strings pad: trailing, leading, and prefixes of one another
    digests += [bytes([9]) + bytes(30) + bytes([k]) for k in range(4)]
    digests += [bytes([9]) + bytes([k]) + bytes(30) for k in range(1, 4)]
    digests += [bytes(32), bytes(31) + b"\x01", b"\x01" + bytes(31)]
    sorter = DigestSorter(memory=32 * 700, directory=str(tmp_path))  # spills ~8 times
    for d in digests[:100]:
        sorter.add(d)
    sorter.add_many(digests[100:])
    assert sorter._spill is not None and os.listdir(sorter._spill.name)  # it did spill
    assert sorter.result() == digest_set(digests)
    assert os.listdir(tmp_path) == []  # the spill files are gone
    assert DigestSorter().result() == digest_set([])


def test_digest_sorter_refuses_duplicates_and_bad_lengths(tmp_path: Any) -> None:
    sorter = DigestSorter(memory=64, directory=str(tmp_path))
    sorter.add_many([b"\x01" * 32, b"\x02" * 32, b"\x01" * 32])  # the repeat is spilled
    with pytest.raises(ValidationError, match="duplicate: 0x0101"):
        sorter.result()
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValidationError, match="not 32 bytes"):
        DigestSorter().add(b"\x01" * 31)


def _oracle(items: list[dict[str, Any]]) -> dict[tuple[str, int, str, bool], list[int]]:
    """Per (miner, ppu, status, flag): [Σ enc·price, Σ dec·price, Σ enc, Σ dec, n], one
    receipt at a time (these receipts carry no renditions: none is flagged)."""
    out: dict[tuple[str, int, str, bool], list[int]] = {}
    for r in items:
        acc = out.setdefault(
            (r["transcoder"], r["pixels_per_unit"], r["status"], False), [0, 0, 0, 0, 0]
        )
        enc, dec, price = r["pixels_encoded"], r["pixels_decoded"], r["price_per_unit"]
        for i, v in enumerate((enc * price, dec * price, enc, dec, 1)):
            acc[i] += v
    return out


@pytest.mark.parametrize(
    "case",
    ["ordinary", "prices past 18 digits and pixels past 2**43", "64-bit sums overflow"],
)
def test_epoch_sums_are_exact_on_every_path(ledger: Ledger, make_receipt: Any, case: str) -> None:
    """SQLite sums in SQL what it can sum exactly, in Python the rest, and all in Python
    when a sum would overflow 64 bits; PostgreSQL in NUMERIC. Each gives the oracle's."""
    items = [make_receipt(n, status="failed" if n % 11 == 0 else "ok") for n in range(60)]
    if case != "ordinary":
        big = 10**13 if case.startswith("prices") else (1 << 42) + 5
        for n in range(60, 72):
            price = 2**100 + n if (case.startswith("prices") and n % 2) else 10**18 - 1 - n
            items.append(
                make_receipt(n, pixels_encoded=big, pixels_decoded=big - n, price_per_unit=price)
            )
    report = ingest.ingest_receipts(ledger, items)
    assert report.receipts == len(items)
    with ledger.read() as conn:
        got = queries.epoch_sums(conn, 0)
    assert got == _oracle(items)
