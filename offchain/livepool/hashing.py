"""The one keccak256 and the one address (EIP-55) policy of the package.

Every module that hashes or reads an address comes here; nothing else imports a keccak
implementation or ``eth_utils``' checksum.

keccak256: safe-pysha3 (a dependency), a C extension with no per-call Python wrapper:
~0.7 µs a hash against ~4-5 µs for pycryptodome or eth-hash (``bench/merkle_bench.py``
measures the three).

Address policy: a ``0x``-prefixed 40-digit hex text (:func:`checksum_address` also
takes ``0X``). All lower case and all upper case
carry no checksum and are accepted (then written checksummed); mixed case claims an
EIP-55 checksum and must match it, else the input is refused with a message saying so:
a typo in a payout address must not pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Final, Protocol

import sha3  # type: ignore[import-not-found,import-untyped,unused-ignore]

__all__ = [
    "KECCAK_BACKEND",
    "Hasher",
    "address_bytes",
    "checksum_address",
    "checksum_error",
    "first_bad_checksum",
    "keccak256",
    "keccak_hasher",
    "to_checksum",
    "to_checksums",
]

KECCAK_BACKEND: Final = "pysha3"
"""Name of the keccak implementation in use."""


class Hasher(Protocol):
    """A streaming keccak256: ``update`` with bytes, then ``digest``."""

    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...

    def hexdigest(self) -> str: ...


#: ``keccak_hasher(data=b"")``: a new streaming hasher (the hot loops call it directly).
keccak_hasher: Final[Callable[..., Hasher]] = sha3.keccak_256


def keccak256(data: bytes) -> bytes:
    """Return the 32-byte keccak256 digest of ``data`` (Ethereum's, not NIST SHA3-256)."""
    return keccak_hasher(data).digest()


# EIP-55 by table lookups and big-int masks over a whole batch of addresses instead of a
# per-character Python loop: ~1 µs an address, eth_utils.to_checksum_address takes ~17 µs.
_NIBBLE_HIGH: Final = bytes(0x20 if c in b"89abcdef" else 0 for c in range(256))
_HEX_LETTER: Final = bytes(0x20 if c in b"abcdef" else 0 for c in range(256))
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")


def to_checksums(raws: Sequence[bytes]) -> list[str]:
    """EIP-55 mixed-case texts of 20-byte addresses.

    A letter is upper case where the keccak of the lower-case hex has a nibble >= 8:
    the case flips are one mask (hash nibbles >= 8 AND letters) XORed over all the text.
    """
    if not raws:
        return []
    lower = b"".join(raws).hex().encode()
    new = keccak_hasher
    digests = b"".join([new(lower[i : i + 40]).digest()[:20] for i in range(0, len(lower), 40)])
    flips = int.from_bytes(digests.hex().encode().translate(_NIBBLE_HIGH)) & int.from_bytes(
        lower.translate(_HEX_LETTER)
    )
    mixed = (int.from_bytes(lower) ^ flips).to_bytes(len(lower)).decode()
    return ["0x" + mixed[i : i + 40] for i in range(0, len(mixed), 40)]


def to_checksum(raw: bytes) -> str:
    """EIP-55 mixed-case text of one 20-byte address."""
    return to_checksums([raw])[0]


def address_bytes(text: object) -> bytes | None:
    """The 20 bytes of a ``0x`` + 40 hex digits text in any case (checksum unchecked)."""
    if type(text) is not str or len(text) != 42 or not text.startswith("0x"):
        return None
    if not _HEX_DIGITS.issuperset(text[2:]):
        return None
    return bytes.fromhex(text[2:])


def checksum_error(text: str) -> str:
    """The message for a mixed-case address whose case is not its EIP-55 checksum."""
    return f"{text!r} has an invalid EIP-55 checksum (mixed case must match it)"


def first_bad_checksum(candidates: Sequence[tuple[int, str, bytes]]) -> tuple[int, str] | None:
    """The first ``(position, text)`` whose mixed case is not its EIP-55 checksum.

    ``candidates`` are ``(position, text, raw)`` of addresses checked in one batch (a
    tree's values); all-lower and all-upper texts pass, as the policy says.
    """
    mixed = [
        (i, text, raw)
        for i, text, raw in candidates
        if text[2:] != text[2:].upper() and text[2:] != text[2:].lower()
    ]
    expected = to_checksums([raw for _, _, raw in mixed])
    for (i, text, _), good in zip(mixed, expected, strict=True):
        if text != good:
            return i, text
    return None


@lru_cache(maxsize=65_536)
def checksum_address(value: str) -> str:
    """Return ``value`` EIP-55 checksummed, or raise ``ValueError`` saying why not.

    The module's policy: all lower or all upper case is accepted; mixed case must be the
    address's EIP-55 checksum. Cached: a pool has few miners and many receipts.
    """
    # "0X" + 40 upper-case digits is all upper case too (and what some tools print).
    raw = address_bytes("0x" + value[2:] if isinstance(value, str) and value[:2] == "0X" else value)
    if raw is None:
        raise ValueError(f"not a 20-byte hex address: {value!r:.60}")
    digits = value[2:]
    good = to_checksum(raw)
    if digits != good[2:] and digits != digits.lower() and digits != digits.upper():
        raise ValueError(checksum_error(value))
    return good
