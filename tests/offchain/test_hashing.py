"""The one keccak and the one address policy (livepool.hashing), and that every entry
point that reads an address applies that policy."""

from __future__ import annotations

import random

import pytest
from eth_utils import keccak, to_checksum_address

from livepool.errors import ValidationError
from livepool.hashing import (
    address_bytes,
    checksum_address,
    first_bad_checksum,
    keccak256,
    keccak_hasher,
    to_checksums,
)
from livepool.merkle import MerkleTree
from livepool.receipts import parse_receipt

GOOD = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own example
LOWER = GOOD.lower()
UPPER = "0x" + GOOD[2:].upper()
TYPO = GOOD[:-1] + "D"  # one letter's case flipped: still mixed, no longer the checksum


def test_keccak256__known_answers() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    data = b"livepool" * 100
    assert keccak256(data) == keccak(data)
    hasher = keccak_hasher()
    hasher.update(data[:7])
    hasher.update(data[7:])
    assert hasher.digest() == keccak(data)


def test_to_checksums__matches_eth_utils() -> None:
    rng = random.Random(55)
    raws = [rng.randbytes(20) for _ in range(200)]
    assert to_checksums(raws) == [to_checksum_address(raw) for raw in raws]
    assert to_checksums([]) == []


@pytest.mark.parametrize("text", [LOWER, UPPER, "0X" + GOOD[2:].upper(), GOOD])
def test_checksum_address__lower_upper_or_valid_checksum__accepted(text: str) -> None:
    assert checksum_address(text) == GOOD


def test_checksum_address__wrong_mixed_case__rejected_with_reason() -> None:
    with pytest.raises(ValueError, match="invalid EIP-55 checksum"):
        checksum_address(TYPO)


@pytest.mark.parametrize(
    "text", ["0x12", "0x" + "g" * 40, GOOD[2:] + "00", "0x" + "ab" * 20 + "a", 42, None]
)
def test_checksum_address__not_an_address__rejected(text: object) -> None:
    with pytest.raises(ValueError, match="not a 20-byte hex address"):
        checksum_address(text)  # type: ignore[arg-type]
    assert address_bytes(text) is None


def test_first_bad_checksum__only_wrong_mixed_case_is_reported() -> None:
    raw = bytes.fromhex(GOOD[2:])
    ok = [(0, LOWER, raw), (1, UPPER, raw), (2, GOOD, raw)]
    assert first_bad_checksum(ok) is None
    assert first_bad_checksum([*ok, (3, TYPO, raw)]) == (3, TYPO)


def test_receipt__wrong_mixed_case_transcoder__refused() -> None:
    receipt = {
        "id": "r1",
        "orchestrator": "0x" + "ab" * 20,
        "transcoder": TYPO,
        "stream": "s",
        "seq": 0,
        "finished_at": 1_700_000_000,
        "duration_ms": 2_000,
        "latency_ms": 100,
        "pixels_decoded": 1,
        "pixels_encoded": 1,
        "price_per_unit": 1,
        "pixels_per_unit": 1,
        "status": "ok",
    }
    with pytest.raises(ValidationError, match=r"transcoder: .*invalid EIP-55 checksum"):
        parse_receipt(receipt)
    assert parse_receipt({**receipt, "transcoder": UPPER}).transcoder == GOOD


def test_tree__wrong_mixed_case__refused_lower_and_upper_accepted() -> None:
    with pytest.raises(ValidationError, match=r"values\[1\]: .*invalid EIP-55 checksum"):
        MerkleTree.build([("0x" + "11" * 20, 1), (TYPO, 2)])
    tree = MerkleTree.build([(LOWER, 5)])
    assert tree.values == [(GOOD, 5)] == MerkleTree.build([(UPPER, 5)]).values
