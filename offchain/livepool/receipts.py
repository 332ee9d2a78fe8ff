"""Work receipts and verification verdicts: the pool's input, validated.

This module owns the shape of a receipt (one transcoded segment, field names fixed by
``DESIGN.md``) and of a verdict (a segment that failed verification), every bound they
must respect, the cheap plausibility check on renditions, and the canonical bytes that
make ingest idempotent. It does no I/O and keeps no state.

Validation is strict on purpose: amounts are JSON integers (no ``true``, no ``1.0``,
no ``"1"``), unknown fields are refused, and each refusal is a
:class:`livepool.errors.ValidationError` whose message names the field, e.g.
``transcoder: not a 20-byte hex address: '0x12'``. Addresses follow
:mod:`livepool.hashing`'s policy: all lower or all upper case is accepted, mixed case
must be the EIP-55 checksum; every address is stored checksummed.

Canonical bytes (the idempotency fingerprint, see :func:`canonical_receipt_bytes`) are
the receipt as JSON with keys sorted, no whitespace, UTF-8 (non-ASCII unescaped),
fields that are absent (``None``) omitted, integers as JSON numbers, addresses
checksummed, and a rendition's integral ``fps`` written as an integer (``30``, never
``30.0``) so that the bytes do not depend on how the sender spelt it.

Fast path (:func:`decode_receipt_fast`, :func:`parse_receipt_fast`): a JSON line in the
common case (ASCII, no escapes, integers within 64 bits) is decoded and bound-checked by
msgspec in C against a mirror of :class:`Receipt`, then finished in Python (checksums,
integral ``fps``); its canonical bytes come from msgspec's encoder. Whatever it does not
fully accept it leaves to the strict pydantic path (``None``), so errors and their
messages come from one place only. A property test ties both paths: same decision, same
model, same canonical bytes.
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil
from typing import Annotated, Any, Final, Literal

import msgspec
import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from livepool.errors import ValidationError
from livepool.hashing import checksum_address, keccak256

__all__ = [
    "MAX_DURATION_MS",
    "MAX_FINISHED_AT",
    "MAX_LATENCY_MS",
    "MAX_PIXELS",
    "MAX_PRICE",
    "MIN_FINISHED_AT",
    "PLAUSIBILITY_TOLERANCE",
    "ZERO_ADDRESS",
    "Receipt",
    "Rendition",
    "Verdict",
    "canonical_receipt_bytes",
    "canonical_verdict_bytes",
    "decode_receipt_fast",
    "is_plausible",
    "parse_receipt",
    "parse_receipt_fast",
    "parse_verdict",
    "plausibility",
    "receipt_digest",
    "verdict_digest",
]

# --- bounds -----------------------------------------------------------------------------
# Each bound rejects what no real orchestrator sends, so that a corrupt or hostile
# receipt cannot overflow a database column or dwarf a whole epoch's pay.

#: 2015-01-01T00:00:00Z: nothing Livepeer transcoded finished earlier.
MIN_FINISHED_AT: Final = 1_420_070_400
#: 2100-01-01T00:00:00Z.
MAX_FINISHED_AT: Final = 4_102_444_800
#: One hour of media in one segment (go-livepeer segments are seconds long).
MAX_DURATION_MS: Final = 3_600_000
#: One day of wall time for one segment.
MAX_LATENCY_MS: Final = 86_400_000
#: Pixels in one segment: 10^13 is an hour of 8K at 90 fps, far past any real segment.
MAX_PIXELS: Final = 10**13
#: Prices and units are bounded below 2**128 so that every product fits in uint256.
MAX_PRICE: Final = 2**128 - 1
#: Sequence numbers and rounds fit a signed 64-bit database column.
MAX_INT64: Final = 2**63 - 1
#: The plausibility check allows 2 % over the nominal pixel count (codec padding).
PLAUSIBILITY_TOLERANCE: Final = Fraction(102, 100)
#: Never a payout address.
ZERO_ADDRESS: Final = "0x0000000000000000000000000000000000000000"


def _address(value: str) -> str:
    try:
        return checksum_address(value)
    except ValueError as exc:
        raise PydanticCustomError("address", str(exc)) from None


def _payout_address(value: str) -> str:
    address = _address(value)
    if address == ZERO_ADDRESS:
        raise PydanticCustomError("address", "the zero address cannot be paid")
    return address


def _integral_fps(value: int | float) -> int | float:
    # 30.0 and 30 are the same frame rate: one spelling keeps canonical bytes stable.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# No control characters: they break logs and PostgreSQL refuses NUL in text.
_PRINTABLE: Final = r"^[^\x00-\x1f\x7f]+$"

Address = Annotated[str, AfterValidator(_address)]
PayoutAddress = Annotated[str, AfterValidator(_payout_address)]
Id128 = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=_PRINTABLE)]
Label64 = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_PRINTABLE)]
Pixels = Annotated[int, Field(ge=0, le=MAX_PIXELS)]

_STRICT: Final = ConfigDict(strict=True, extra="forbid", frozen=True)


class Rendition(BaseModel):
    """One output rendition of a segment (optional detail, used for plausibility)."""

    model_config = _STRICT

    # Fields in alphabetical order: serialisation order is the canonical order.
    fps: Annotated[
        int | float, Field(ge=0.01, le=1000, allow_inf_nan=False), AfterValidator(_integral_fps)
    ]
    height: Annotated[int, Field(gt=0, le=16_384)]
    pixels: Pixels
    profile: Label64
    width: Annotated[int, Field(gt=0, le=16_384)]


class Receipt(BaseModel):
    """One transcoded segment as reported by the pool orchestrator (fixed field names).

    Frozen and strict. Addresses are stored checksummed. The value of the segment is
    ``billable * price_per_unit / pixels_per_unit`` wei (see :mod:`livepool.accounting`).
    """

    model_config = _STRICT

    # Fields in alphabetical order: serialisation order is the canonical order.
    broadcaster: Address | None = None
    duration_ms: Annotated[int, Field(gt=0, le=MAX_DURATION_MS)]
    finished_at: Annotated[int, Field(ge=MIN_FINISHED_AT, lt=MAX_FINISHED_AT)]
    id: Id128
    latency_ms: Annotated[int, Field(ge=0, le=MAX_LATENCY_MS)]
    node: Id128 | None = None
    orchestrator: Address
    pixels_decoded: Pixels
    pixels_encoded: Pixels
    pixels_per_unit: Annotated[int, Field(gt=0, le=MAX_PRICE)]
    price_per_unit: Annotated[int, Field(ge=0, le=MAX_PRICE)]
    profiles: Annotated[list[Label64], Field(max_length=32)] | None = None
    region: Label64 | None = None
    renditions: Annotated[list[Rendition], Field(min_length=1, max_length=32)] | None = None
    round: Annotated[int, Field(ge=0, le=MAX_INT64)] | None = None
    seq: Annotated[int, Field(ge=0, le=MAX_INT64)]
    status: Literal["ok", "failed"]
    stream: Id128
    transcoder: PayoutAddress

    @property
    def implausible(self) -> str | None:
        """Why the pixel counts cannot be true, or ``None``; see :func:`plausibility`."""
        return plausibility(self)


def _failed_only(value: bool) -> bool:
    # Literal[False] would also take 0 (0 == False): a strict bool, then this check.
    if value:
        raise PydanticCustomError("verdict_ok", "a verdict records a failure: must be false")
    return value


class Verdict(BaseModel):
    """A segment that failed verification, possibly long after it was transcoded.

    Only failures are recorded (``ok`` must be ``false``): a verdict forfeits the
    segment's pay and charges the penalty (see :mod:`livepool.accounting`).
    """

    model_config = _STRICT

    ok: Annotated[bool, AfterValidator(_failed_only)]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    receipt_id: Id128


# --- plausibility -----------------------------------------------------------------------


def plausibility(receipt: Receipt) -> str | None:
    """Return why ``receipt`` claims more pixels than its renditions allow, else ``None``.

    Without renditions there is nothing to check (``None``). Otherwise, for each
    rendition the nominal bound is ``width * height * ⌈fps⌉ * ⌈duration_ms / 1000⌉``
    (ceilings are taken on the exact values, ``fps`` as the exact rational of the
    float given), and the tolerance is *1.02. The comparison is exact, with no rounding:
    ``100 * pixels > 102 * bound``. Both the receipt's ``pixels_encoded`` (against the
    sum of the bounds) and each rendition's own ``pixels`` (against its bound) are
    checked. An implausible receipt is accepted and stored but credited nothing and
    charged like a failed verification.
    """
    renditions = receipt.renditions
    if not renditions:
        return None
    seconds = -(-receipt.duration_ms // 1000)
    total = 0
    num, den = PLAUSIBILITY_TOLERANCE.numerator, PLAUSIBILITY_TOLERANCE.denominator
    for r in renditions:
        fps = r.fps if isinstance(r.fps, int) else ceil(Fraction(r.fps))
        bound = r.width * r.height * fps * seconds
        if r.pixels * den > bound * num:
            return (
                f"rendition {r.profile}: {r.pixels} pixels exceed "
                f"{r.width}x{r.height} x {fps} fps x {seconds} s x 1.02"
            )
        total += bound
    if receipt.pixels_encoded * den > total * num:
        return (
            f"pixels_encoded: {receipt.pixels_encoded} exceed the renditions' "
            f"{total} nominal pixels x 1.02"
        )
    return None


def is_plausible(receipt: Receipt) -> bool:
    """``True`` when :func:`plausibility` finds nothing wrong."""
    return plausibility(receipt) is None


# --- parsing ----------------------------------------------------------------------------


_UNION_TAGS: Final = frozenset({"int", "float"})  # pydantic's names for union members


def _describe(errors: list[Any], what: str) -> str:
    """One message naming every offending field, e.g. ``seq: field required``."""
    parts: dict[str, str] = {}
    for err in errors:
        loc = ".".join(str(p) for p in err["loc"] if p not in _UNION_TAGS) or what
        kind = err["type"]
        if kind == "missing":
            detail = "field required"
        elif kind == "extra_forbidden":
            detail = "unknown field"
        elif kind == "string_pattern_mismatch":
            detail = f"contains a control character: {err['input']!r:.60}"
        elif kind in ("address", "verdict_ok") or "input" not in err:
            detail = err["msg"]
        else:
            msg = err["msg"]
            detail = f"{msg[:1].lower()}{msg[1:]}, got {err['input']!r:.60}"
        parts.setdefault(loc, detail)  # a union reports each member: keep the first
    return "; ".join(f"{loc}: {detail}" for loc, detail in parts.items())


def parse_receipt(obj: Any) -> Receipt:
    """Validate one receipt (a mapping, as decoded from JSON) and return it.

    Raises :class:`~livepool.errors.ValidationError` naming every offending field,
    e.g. ``transcoder: not a 20-byte hex address: '0x12'; seq: field required``.
    """
    try:
        return Receipt.model_validate(obj)
    except pydantic.ValidationError as exc:
        raise ValidationError(_describe(exc.errors(include_url=False), "receipt")) from None


def parse_verdict(obj: Any) -> Verdict:
    """Validate one verdict; same error contract as :func:`parse_receipt`."""
    try:
        return Verdict.model_validate(obj)
    except pydantic.ValidationError as exc:
        raise ValidationError(_describe(exc.errors(include_url=False), "verdict")) from None


# --- canonical bytes --------------------------------------------------------------------


def canonical_receipt_bytes(receipt: Receipt) -> bytes:
    """The receipt's canonical JSON bytes (see the module docstring).

    Same ``id`` and same bytes: a duplicate (no-op); same ``id``, other bytes: a
    conflict. Produced by pydantic's serialiser, which writes fields in declaration
    order; the models declare them alphabetically, so keys come out sorted (a test
    ties this to ``json.dumps(..., sort_keys=True)``).
    """
    return receipt.model_dump_json(exclude_none=True).encode()


def receipt_digest(receipt: Receipt) -> bytes:
    """``keccak256(canonical_receipt_bytes(receipt))``: 32 bytes."""
    return keccak256(canonical_receipt_bytes(receipt))


def canonical_verdict_bytes(verdict: Verdict) -> bytes:
    """The verdict's canonical JSON bytes, same rules as for receipts."""
    return verdict.model_dump_json().encode()


def verdict_digest(verdict: Verdict) -> bytes:
    """``keccak256(canonical_verdict_bytes(verdict))``: 32 bytes."""
    return keccak256(canonical_verdict_bytes(verdict))


# --- fast path ----------------------------------------------------------------------------
# A mirror of the models in msgspec: same fields in the same (alphabetical) order, same
# bounds, narrowed where the strict path alone should decide (integers past 64 bits,
# strings with escapes or non-ASCII, which the caller screens out before decoding). It
# only ever *accepts less*: anything it refuses goes to pydantic for the verdict and the
# message. Control characters cannot occur: raw ones are invalid JSON (msgspec refuses
# them) and escaped ones need a backslash; DEL is screened out with the backslash.

_M64: Final = MAX_INT64
_FastId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
_FastLabel = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_FastPixels = Annotated[int, msgspec.Meta(ge=0, le=MAX_PIXELS)]
_FastSide = Annotated[int, msgspec.Meta(gt=0, le=16_384)]


class _FastRendition(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    # Alphabetical, like Rendition: the encoder writes fields in declaration order.
    fps: (
        Annotated[int, msgspec.Meta(ge=1, le=1000)]  # an int ≥ 0.01 is an int ≥ 1
        | Annotated[float, msgspec.Meta(ge=0.01, le=1000)]
    )
    height: _FastSide
    pixels: _FastPixels
    profile: _FastLabel
    width: _FastSide


class _FastReceipt(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    # Alphabetical, like Receipt; ``omit_defaults`` drops the ``None`` optionals, as
    # ``model_dump_json(exclude_none=True)`` does.
    broadcaster: str | None = None
    duration_ms: Annotated[int, msgspec.Meta(gt=0, le=MAX_DURATION_MS)]
    finished_at: Annotated[int, msgspec.Meta(ge=MIN_FINISHED_AT, lt=MAX_FINISHED_AT)]
    id: _FastId
    latency_ms: Annotated[int, msgspec.Meta(ge=0, le=MAX_LATENCY_MS)]
    node: _FastId | None = None
    orchestrator: str
    pixels_decoded: _FastPixels
    pixels_encoded: _FastPixels
    pixels_per_unit: Annotated[int, msgspec.Meta(gt=0, le=_M64)]
    price_per_unit: Annotated[int, msgspec.Meta(ge=0, le=_M64)]
    profiles: Annotated[list[_FastLabel], msgspec.Meta(max_length=32)] | None = None
    region: _FastLabel | None = None
    renditions: (
        Annotated[list[_FastRendition], msgspec.Meta(min_length=1, max_length=32)] | None
    ) = None
    round: Annotated[int, msgspec.Meta(ge=0, le=_M64)] | None = None
    seq: Annotated[int, msgspec.Meta(ge=0, le=_M64)]
    status: Literal["ok", "failed"]
    stream: _FastId
    transcoder: str


_fast_decode = msgspec.json.Decoder(_FastReceipt).decode
#: The canonical encoder: compact, fields in declaration order, UTF-8, ints as numbers.
_fast_encode: Final = msgspec.json.Encoder().encode
_FAST_ERRORS: Final = (msgspec.ValidationError, msgspec.DecodeError)


def decode_receipt_fast(data: bytes | str) -> tuple[Any, bytes] | None:
    """The fast path: ``(receipt, canonical bytes)`` for a JSON receipt, else ``None``.

    ``receipt`` has :class:`Receipt`'s attributes with the values ``parse_receipt`` would
    give (addresses checksummed, integral ``fps`` as ``int``) but is a plain msgspec
    struct: no pydantic model is built. ``None`` means "not decided here": the item may
    be valid or not, and the strict path (:func:`parse_receipt`) must say which and why.
    """
    if data.__class__ is str:
        if not data.isascii():
            return None
        data = data.encode()
    elif not data.isascii():
        return None
    if b"\\" in data or b"\x7f" in data:
        return None
    try:
        r = _fast_decode(data)
    except _FAST_ERRORS:
        return None
    try:
        r.orchestrator = checksum_address(r.orchestrator)
        transcoder = r.transcoder = checksum_address(r.transcoder)
        if r.broadcaster is not None:
            r.broadcaster = checksum_address(r.broadcaster)
    except ValueError:
        return None
    if transcoder == ZERO_ADDRESS:
        return None
    renditions = r.renditions
    if renditions is not None:
        for rendition in renditions:
            fps = rendition.fps
            if fps.__class__ is float and fps.is_integer():
                rendition.fps = int(fps)
    return r, _fast_encode(r)


_RECEIPT_FIELDS: Final = tuple(Receipt.model_fields)
_RENDITION_FIELDS: Final = tuple(Rendition.model_fields)


def parse_receipt_fast(data: bytes | str) -> Receipt | None:
    """:class:`Receipt` of a JSON receipt by the fast path (no re-validation), else ``None``.

    Same model as ``Receipt.model_validate_json(data)`` whenever it is not ``None``.
    """
    decoded = decode_receipt_fast(data)
    if decoded is None:
        return None
    r = decoded[0]
    fields = {name: getattr(r, name) for name in _RECEIPT_FIELDS}
    if r.renditions is not None:
        fields["renditions"] = [
            Rendition.model_construct(**{n: getattr(x, n) for n in _RENDITION_FIELDS})
            for x in r.renditions
        ]
    return Receipt.model_construct(**fields)
