"""Statements: canonical bytes, data_hash, loading, and the auditor's check."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_hash.auto import keccak

from livepool.accounting import EpochResult, EpochTally, MinerBalance, PoolSettings, settle_epoch
from livepool.audit import check_statement
from livepool.errors import ValidationError
from livepool.hashing import checksum_address
from livepool.merkle import MerkleTree
from livepool.statement import (
    Statement,
    build_statement,
    canonical_bytes,
    data_hash,
    digest_set,
    load_statement,
)

FEE = checksum_address("0x" + "fe" * 20)
ALICE = checksum_address("0x" + "a1" * 20)
BOB = checksum_address("0x" + "b0" * 20)
SETTINGS = PoolSettings(
    fee_address=FEE,
    genesis=1_700_000_000,
    commission_bps=250,
    penalty_multiplier=(3, 2),
    decode_weight="1/10",
)
NO_ITEMS = digest_set([])


def first_epoch() -> EpochResult:
    t = EpochTally()
    t.credit(ALICE, 10**13, 5 * 10**12, 3 * 10**6, 7)  # gross far above 2**53
    t.credit(BOB, 10, 0, 1, 3)
    t.charge(BOB, 100, 0, 5, 1, clawback=True)
    return settle_epoch(SETTINGS, t, overhead={ALICE: 5})


def second_epoch(first: EpochResult) -> EpochResult:
    t = EpochTally()
    t.credit(BOB, 10_000, 0, 1, 1)
    return settle_epoch(
        SETTINGS, t, previous=first.balances(), pool_cumulative=first.pool.cumulative
    )


def statement(epoch: int = 0, result: EpochResult | None = None) -> Statement:
    return build_statement(
        epoch,
        result or first_epoch(),
        receipts=digest_set([bytes([i]) * 32 for i in (3, 1, 2)]),
        verdicts=digest_set([b"\x09" * 32]),
    )


def tampered(s: Statement, edit: Any) -> Statement:
    data = json.loads(canonical_bytes(s))
    edit(data)
    return load_statement(data)


# --- canonical bytes and data_hash ----------------------------------------------------------


def test_canonical_bytes__stable_and_round_trip() -> None:
    s = statement()
    data = canonical_bytes(s)
    assert canonical_bytes(statement()) == data
    assert canonical_bytes(load_statement(data)) == data
    assert canonical_bytes(load_statement(data.decode())) == data
    assert data == json.dumps(json.loads(data), sort_keys=True, separators=(",", ":")).encode()


def test_canonical_bytes__amounts_are_decimal_strings() -> None:
    s = statement()
    doc = json.loads(canonical_bytes(s))
    alice = doc["miners"][0]
    assert alice["address"] == ALICE
    assert isinstance(alice["gross"], str) and int(alice["gross"]) > 2**53
    assert isinstance(alice["pixels"], str)
    assert isinstance(doc["total"], str)
    assert isinstance(doc["epoch"], int) and isinstance(alice["segments"], int)
    assert doc["settings"]["penalty_multiplier"] == "3/2"
    assert doc["window"] == {"start": 1_700_000_000, "end": 1_700_086_400}
    assert doc["version"] == "livepool-statement-v1"


def test_data_hash__keccak_of_canonical_bytes__known_answer() -> None:
    s = statement()
    assert data_hash(s) == keccak(canonical_bytes(s))
    # Pinned: any change to the schema, encoding or accounting changes this value.
    assert data_hash(s).hex() == KNOWN_DATA_HASH


KNOWN_DATA_HASH = "11bf0019e71f192ce7885b1a81e133f7e0b985468e9705f4eab636d99c787119"


def test_root__over_positive_miners_and_fee_leaf() -> None:
    result = first_epoch()
    s = statement(result=result)
    leaves = [(r.address, r.cumulative) for r in result.miners if r.cumulative > 0]
    assert len(leaves) == 1  # Bob is in debt: no leaf
    assert s.root == "0x" + MerkleTree.build([*leaves, (FEE, result.pool.cumulative)]).root.hex()
    assert s.total == sum(c for _, c in leaves) + result.pool.cumulative


# --- digest sets -----------------------------------------------------------------------------


def test_digest_set__sorted_concatenation() -> None:
    items = [bytes([i]) * 32 for i in (3, 1, 2)]
    d = digest_set(items)
    assert d.count == 3
    assert d.digest == "0x" + keccak(b"".join(sorted(items))).hex()
    assert digest_set(reversed(items)) == d
    assert digest_set(iter(sorted(items)), presorted=True) == d
    assert NO_ITEMS.digest == "0x" + keccak(b"").hex() and NO_ITEMS.count == 0


@pytest.mark.parametrize(
    ("items", "presorted", "message"),
    [
        ([b"\x01" * 32, b"\x01" * 32], False, "duplicate"),
        ([b"\x02" * 32, b"\x01" * 32], True, "out of order"),
        ([b"\x01" * 31], False, "not 32 bytes"),
    ],
)
def test_digest_set__invalid__refused(items: list[bytes], presorted: bool, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        digest_set(items, presorted=presorted)


# --- loading ---------------------------------------------------------------------------------


def set_(path: str, value: Any) -> Any:
    def edit(doc: Any) -> None:
        *parents, last = path.split(".")
        for p in parents:
            doc = doc[int(p)] if p.isdigit() else doc[p]
        doc[int(last) if last.isdigit() else last] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (set_("miners.0.gross", 5), "miners.0.gross: must be a decimal string"),
        (set_("miners.0.gross", "05"), "miners.0.gross: must be a decimal string"),
        (set_("miners.0.gross", "-5"), "miners.0.gross: must be a decimal string"),
        (set_("miners.0.penalty_base", "2/4"), "lowest terms"),
        (set_("miners.0.address", ALICE.lower()), "not EIP-55 checksummed"),
        (set_("root", "0x12"), "root: not 0x + 64 lower-case hex"),
        (set_("version", "v2"), "version"),
        (set_("epoch", "1"), "epoch"),
        (set_("settings.commission_bps", 10_001), "settings.commission_bps"),
        (set_("extra", 1), "extra: Extra inputs are not permitted"),
        (lambda d: d["miners"].reverse(), "must be sorted by address"),
    ],
)
def test_load_statement__not_canonical__refused(edit: Any, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        tampered(statement(), edit)
    assert message in str(info.value)


def test_load_statement__not_json__refused() -> None:
    with pytest.raises(ValidationError, match="not JSON"):
        load_statement(b"{")


# --- the auditor's check -------------------------------------------------------------------


def test_check_statement__consistent__no_discrepancy() -> None:
    first = first_epoch()
    s0 = statement(0, first)
    assert check_statement(s0) == []
    s1 = statement(1, second_epoch(first))
    assert check_statement(s1, s0) == []
    assert check_statement(s1) == []


def test_check_statement__tampered_delta__caught() -> None:
    s = statement()
    bad = tampered(s, set_("miners.0.delta", str(s.miners[0].delta + 1)))
    problems = check_statement(bad)
    assert any("delta is" in p for p in problems)
    assert any(p.startswith("totals.miner_delta") for p in problems)


def test_check_statement__tampered_cumulative__caught_by_root_and_total() -> None:
    s = statement()
    bump = str(s.miners[0].cumulative + 10**18)
    problems = check_statement(tampered(s, set_("miners.0.cumulative", bump)))
    assert any(p.startswith("root is") for p in problems)
    assert any(p.startswith("total is") for p in problems)


def test_check_statement__tampered_gross__caught_by_consequences() -> None:
    s = statement()
    problems = check_statement(tampered(s, set_("miners.0.gross", str(s.miners[0].gross + 1))))
    assert problems  # commission/delta no longer follow, totals.gross differs
    assert any(p.startswith("totals.gross") for p in problems)


def test_check_statement__tampered_root_or_window__caught() -> None:
    s = statement()
    assert check_statement(tampered(s, set_("root", "0x" + "00" * 32))) == [
        f"root is 0x{'00' * 32}, expected {s.root}"
    ]
    problems = check_statement(tampered(s, set_("window.start", 1)))
    assert problems[0].startswith("window:")


def test_check_statement__pool_overpaid__caught() -> None:
    s = statement()
    problems = check_statement(tampered(s, set_("pool.delta", str(s.pool.delta + 1))))
    assert any(p.startswith("pool.delta is") for p in problems)


def test_check_statement__continuity__caught() -> None:
    first = first_epoch()
    s0 = statement(0, first)
    s1 = statement(1, second_epoch(first))
    # Bob carried debt into epoch 1: a statement pretending otherwise is caught.
    bob = next(i for i, m in enumerate(s1.miners) if m.address == BOB)
    problems = check_statement(tampered(s1, set_(f"miners.{bob}.debt_in", "0")), s0)
    assert any("debt_in is 0" in p for p in problems)
    # A statement for the wrong epoch, or one dropping a paid miner.
    assert any(
        p.startswith("epoch:") for p in check_statement(statement(2, second_epoch(first)), s0)
    )
    only_bob = settle_epoch(SETTINGS, EpochTally(), previous={BOB: MinerBalance(0, 1)})
    problems = check_statement(statement(1, only_bob), s0)
    assert any("dropped" in p for p in problems)
    assert any(p.startswith("pool.cumulative") for p in problems)
