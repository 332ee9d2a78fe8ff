"""The per-epoch statement: what the pool publishes so anyone can check a root.

This module owns the statement's schema, its canonical bytes, ``data_hash`` (what goes
on-chain with the root) and the auditor-side :func:`check_statement`. Pure: no I/O, no
chain. A statement is built from an :class:`~livepool.accounting.EpochResult`.

Canonical bytes: JSON, keys sorted, separators ``(",", ":")``, UTF-8, no trailing
newline. **Every amount** — wei and pixel counts, which exceed 2**53 — is a decimal
string (``"123"``, no sign, no leading zeros) so JavaScript tools read them exactly;
exact rationals (``penalty_base``, settings' fractions) are ``"n/d"`` strings in lowest
terms (``"1"`` when integral); epoch numbers, timestamps, basis points and segment
counts are JSON numbers; hashes are ``0x`` + 64 lower-case hex digits; addresses are
EIP-55 checksummed; miners are sorted by lower-cased address. :func:`load_statement` accepts only
this form, so ``canonical_bytes(load_statement(b)) == b`` for every valid ``b``.

``data_hash = keccak256(canonical_bytes)``.

Receipt and verdict digests (``receipts`` / ``verdicts`` sections): each item's digest
is ``keccak256`` of its canonical bytes (:func:`livepool.receipts.receipt_digest`,
:func:`~livepool.receipts.verdict_digest`); the set digest is
``keccak256(d_1 ‖ d_2 ‖ … ‖ d_n)`` over those 32-byte digests sorted ascending (bytewise,
no duplicates), so ``keccak256(b"")`` for none. ``receipts`` covers every receipt
credited to the epoch, whatever became of it (credited, failed, charged); ``verdicts``
every verdict charged in the epoch (on time or late).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import fields
from fractions import Fraction
from itertools import pairwise
from typing import Annotated, Any, Final, Literal

import numpy as np
import pydantic
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator

from livepool.accounting import BPS_DENOMINATOR, EpochResult, PoolSettings
from livepool.errors import ValidationError
from livepool.hashing import checksum_address, keccak256, keccak_hasher
from livepool.merkle import MerkleTree

__all__ = [
    "STATEMENT_VERSION",
    "DigestSet",
    "DigestSorter",
    "MinerEntry",
    "PoolEntry",
    "Statement",
    "build_statement",
    "canonical_bytes",
    "data_hash",
    "digest_set",
    "load_statement",
]

STATEMENT_VERSION: Final = "livepool-statement-v1"

# --- canonical field types ---------------------------------------------------------------


def _amount(value: Any) -> int:
    if type(value) is not str or not (
        value == "0" or (value[:1] in "123456789" and value.isdigit() and value.isascii())
    ):
        raise ValueError(
            f"must be a decimal string without sign or leading zeros, got {value!r:.80}"
        )
    return int(value)


def _fraction(value: Any) -> Fraction:
    if type(value) is not str:
        raise ValueError(f"must be an 'n/d' string, got {value!r:.80}")
    try:
        parsed = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"not a fraction: {value!r:.80}") from None
    if parsed < 0 or str(parsed) != value:
        raise ValueError(f"must be a non-negative fraction in lowest terms, got {value!r:.80}")
    return parsed


def _checksummed(value: Any) -> str:
    if type(value) is not str:
        raise ValueError(f"not an address: {value!r:.80}")
    address = checksum_address(value)  # raises ValueError
    if address != value:
        raise ValueError(f"not EIP-55 checksummed: {value!r}")
    return address


def _hash32(value: Any) -> str:
    if (
        type(value) is not str
        or len(value) != 66
        or not value.startswith("0x")
        or any(c not in "0123456789abcdef" for c in value[2:])
    ):
        raise ValueError(f"not 0x + 64 lower-case hex digits: {value!r:.80}")
    return value


Amount = Annotated[int, PlainValidator(_amount), PlainSerializer(str, return_type=str)]
Rational = Annotated[Fraction, PlainValidator(_fraction), PlainSerializer(str, return_type=str)]
Checksummed = Annotated[str, PlainValidator(_checksummed)]
Hash32 = Annotated[str, PlainValidator(_hash32)]
Count = Annotated[int, Field(ge=0, strict=True)]

_FROZEN: Final = ConfigDict(strict=True, extra="forbid", frozen=True)


class DigestSet(BaseModel):
    """A set of receipts or verdicts: how many, and their set digest (module docstring)."""

    model_config = _FROZEN

    count: Count
    digest: Hash32


class Window(BaseModel):
    """The epoch's ``finished_at`` window: ``start`` inclusive, ``end`` exclusive."""

    model_config = _FROZEN

    end: Count
    start: Count


class SettingsEntry(BaseModel):
    """:class:`~livepool.accounting.PoolSettings` in force, in canonical form."""

    model_config = _FROZEN

    commission_bps: Annotated[int, Field(ge=0, le=BPS_DENOMINATOR, strict=True)]
    decode_weight: Rational
    epoch_seconds: Annotated[int, Field(gt=0, strict=True)]
    fee_address: Checksummed
    genesis: Count
    penalty_multiplier: Rational
    settle_seconds: Count

    def to_settings(self) -> PoolSettings:
        """The accounting settings these describe."""
        return PoolSettings(**{f.name: getattr(self, f.name) for f in fields(PoolSettings)})


class MinerEntry(BaseModel):
    """One miner's line: a :class:`~livepool.accounting.MinerRow` in canonical form."""

    model_config = _FROZEN

    address: Checksummed
    charged_segments: Count
    clawback: Amount
    clawback_base: Rational
    commission: Amount
    cumulative: Amount
    debt_in: Amount
    debt_out: Amount
    delta: Amount
    failed_segments: Count
    gross: Amount
    overhead: Amount
    penalty: Amount
    penalty_base: Rational
    pixels: Amount
    pixels_decoded: Amount
    segments: Count


class PoolEntry(BaseModel):
    """The pool's fee leaf: charges levied per kind, ``delta`` collected, cumulative."""

    model_config = _FROZEN

    address: Checksummed
    clawback: Amount
    commission: Amount
    cumulative: Amount
    delta: Amount
    overhead: Amount
    penalty: Amount


class TotalsEntry(BaseModel):
    """Sums over the miners (and the pool's delta)."""

    model_config = _FROZEN

    clawback: Amount
    commission: Amount
    debt_in: Amount
    debt_out: Amount
    gross: Amount
    miner_delta: Amount
    overhead: Amount
    penalty: Amount
    pool_delta: Amount


class Statement(BaseModel):
    """One epoch's published statement. Build with :func:`build_statement`, read with
    :func:`load_statement`; both give a validated, frozen model."""

    model_config = _FROZEN

    epoch: Count
    miners: Annotated[tuple[MinerEntry, ...], Field(strict=False)]  # JSON arrays welcome
    pool: PoolEntry
    receipts: DigestSet
    root: Hash32
    settings: SettingsEntry
    total: Amount  # Σ cumulative of every leaf, the pool's included: the on-chain total
    totals: TotalsEntry
    verdicts: DigestSet
    version: Literal["livepool-statement-v1"]
    window: Window

    @pydantic.model_validator(mode="after")
    def _miners_sorted(self) -> Statement:
        addresses = [m.address.lower() for m in self.miners]
        if any(a >= b for a, b in pairwise(addresses)):
            raise ValueError("miners: must be sorted by address, each once")
        return self


# --- building and reading ---------------------------------------------------------------


def digest_set(digests: Iterable[bytes], *, presorted: bool = False) -> DigestSet:
    """Count and set-digest 32-byte item digests (see the module docstring).

    Unsorted input is sorted (so it is held in memory); with ``presorted=True`` the
    digests are hashed as they stream (e.g. ``ORDER BY digest`` from the ledger) and
    the order is checked. A duplicate or a digest of the wrong length is refused.
    """
    items = digests if presorted else sorted(digests)
    hasher = keccak_hasher()
    count = 0
    last = b""
    for item in items:
        if type(item) is not bytes or len(item) != 32:
            raise ValidationError(f"digest: not 32 bytes: {item!r:.80}")
        if item <= last:
            raise ValidationError(
                f"digest: {'duplicate' if item == last else 'out of order'}: 0x{item.hex()}"
            )
        hasher.update(item)
        last = item
        count += 1
    return DigestSet(count=count, digest="0x" + hasher.hexdigest())


def _sorted_unique(data: bytes) -> bytes:
    """32-byte items of ``data`` sorted bytewise, concatenated; refuses a duplicate.

    numpy sorts them as fixed-width ``S32`` strings: for items of one width its order is
    bytewise order (it pads with NULs, which all these are already as long as), ~2× faster
    than ``sorted`` over ``bytes`` objects, with no object per digest."""
    items = np.sort(np.frombuffer(data, dtype="S32"))
    same = np.flatnonzero(items[1:] == items[:-1])
    if same.size:
        raise ValidationError(f"digest: duplicate: 0x{_item_at(items, int(same[0])).hex()}")
    return items.tobytes()


def _item_at(items: Any, index: int) -> bytes:
    """The ``index``-th 32-byte item of an ``S32`` array, NULs included."""
    return bytes(items[index : index + 1].tobytes())


class DigestSorter:
    """:func:`digest_set` for any number of digests in bounded memory (a streaming close).

    Digests are bucketed by their first byte as they come; when the buffers pass
    ``memory`` bytes they are appended to one temporary file per bucket. :meth:`result`
    then sorts one bucket at a time (1/256 of the digests) and hashes the buckets in
    order, which is the order of the whole set. Memory: ``memory`` + one bucket. Same
    answer and same refusals (duplicate, wrong length) as :func:`digest_set`.
    """

    def __init__(self, memory: int = 64 << 20, directory: str | None = None) -> None:
        self._buffers = [bytearray() for _ in range(256)]
        self._buffered = 0
        self._memory = memory
        self._directory = directory
        self._spill: tempfile.TemporaryDirectory[str] | None = None
        self.count = 0

    def add(self, digest: bytes) -> None:
        """Add one 32-byte digest."""
        if len(digest) != 32:
            raise ValidationError(f"digest: not 32 bytes: {digest!r:.80}")
        self._buffers[digest[0]] += digest
        self.count += 1
        self._buffered += 32
        if self._buffered >= self._memory:
            self._flush()

    def add_many(self, digests: Iterable[bytes]) -> None:
        """Add 32-byte digests (the loop of :meth:`add`, without the per-call overhead)."""
        buffers = self._buffers
        n = 0
        for digest in digests:
            if len(digest) != 32:
                raise ValidationError(f"digest: not 32 bytes: {digest!r:.80}")
            buffers[digest[0]] += digest
            n += 1
        self.count += n
        self._buffered += 32 * n
        if self._buffered >= self._memory:
            self._flush()

    def _path(self, bucket: int) -> str:
        assert self._spill is not None
        return os.path.join(self._spill.name, f"{bucket:02x}")

    def _flush(self) -> None:
        if self._spill is None:
            self._spill = tempfile.TemporaryDirectory(
                prefix="livepool-digests-", dir=self._directory
            )
        for bucket, buffer in enumerate(self._buffers):
            if buffer:
                with open(self._path(bucket), "ab") as f:
                    f.write(buffer)
                buffer.clear()
        self._buffered = 0

    def result(self) -> DigestSet:
        """The set's count and digest; refuses a duplicate. Frees the spill files."""
        hasher = keccak_hasher()
        try:
            for bucket, buffer in enumerate(self._buffers):
                data = bytes(buffer)
                if self._spill is not None and os.path.exists(self._path(bucket)):
                    with open(self._path(bucket), "rb") as f:
                        data = f.read() + data
                if not data:
                    continue
                hasher.update(_sorted_unique(data))
                buffer.clear()
        finally:
            if self._spill is not None:
                self._spill.cleanup()
                self._spill = None
        return DigestSet(count=self.count, digest="0x" + hasher.hexdigest())


def _canonical(model: type[BaseModel], source: Any) -> dict[str, Any]:
    """``model``'s fields read from ``source`` in canonical form: addresses and counts as
    they are, amounts and fractions as strings (``"12"``, ``"3/2"``)."""
    out: dict[str, Any] = {}
    for name in model.model_fields:
        value = getattr(source, name)
        out[name] = value if name == "address" or name.endswith("segments") else str(value)
    return out


def build_statement(
    epoch: int,
    result: EpochResult,
    *,
    receipts: DigestSet,
    verdicts: DigestSet,
) -> Statement:
    """The statement of ``epoch`` from its settled ``result`` and its digest sets.

    The Merkle root is built here over :meth:`EpochResult.leaves` (every miner with a
    cumulative > 0, and the fee address).
    """
    settings = result.settings
    start, end = settings.window(epoch)
    raw = {
        "epoch": epoch,
        "miners": [_canonical(MinerEntry, r) for r in result.miners],
        "pool": _canonical(PoolEntry, result.pool),
        "receipts": receipts.model_dump(),
        "root": "0x" + MerkleTree.build(result.leaves()).root.hex(),
        "settings": settings.to_json(),
        "total": str(result.totals.total),
        "totals": _canonical(TotalsEntry, result.totals),
        "verdicts": verdicts.model_dump(),
        "version": STATEMENT_VERSION,
        "window": {"end": end, "start": start},
    }
    return load_statement(raw)


def load_statement(data: bytes | str | Mapping[str, Any]) -> Statement:
    """Read a statement from its JSON (bytes or text) or a decoded mapping.

    Only the canonical form is accepted (see the module docstring); anything else
    raises :class:`~livepool.errors.ValidationError` naming the field. Derived figures
    are *not* checked here: that is :func:`check_statement`'s job.
    """
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError(f"statement: not JSON: {exc}") from None
    try:
        return Statement.model_validate(data)
    except pydantic.ValidationError as exc:
        parts = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"]) or "statement"
            msg = err["msg"].removeprefix("Value error, ")
            parts.append(f"{loc}: {msg}")
        raise ValidationError("; ".join(parts)) from None


def canonical_bytes(statement: Statement) -> bytes:
    """The statement's canonical JSON bytes (module docstring): what ``data_hash`` hashes."""
    return json.dumps(
        statement.model_dump(mode="json"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def data_hash(statement: Statement) -> bytes:
    """``keccak256(canonical_bytes(statement))``: 32 bytes, proposed on-chain with the root."""
    return keccak256(canonical_bytes(statement))
