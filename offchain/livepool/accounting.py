"""Epoch accounting: the receipts credited to an epoch in, exact per-miner balances out.

Pure: no I/O, no database, no chain, no clock. The ledger decides *which* receipts and
verdicts belong to an epoch (a late receipt is credited to the open epoch, a verdict
that arrives after its receipt's epoch closed is charged in the open one) and feeds
them to an :class:`EpochTally`; :func:`settle_epoch` turns the tally plus the carried
state into an :class:`EpochResult`. The same inputs in any order give the same result.

Formulas (all integers, wei; ``⌊x⌋`` is floor, every sum is exact before it):

- ``billable = pixels_encoded + decode_weight * pixels_decoded`` per receipt.
- ``value(receipt) = billable * price_per_unit / pixels_per_unit`` (a rational).
- ``gross = ⌊Σ value⌋`` over the miner's credited receipts: summed exactly and floored
  **once** per miner and epoch (so less than 1 wei per miner and epoch is left out by
  rounding; it is credited to no leaf and stays with the pool's unallocated funds).
  ``status = failed`` receipts earn nothing; receipts that failed verification (a verdict) or the
  plausibility check are not credited.
- ``commission = ⌊gross * commission_bps / 10 000⌋``: rounding favours the miner.
- ``penalty = ⌊penalty_multiplier * Σ value(segments charged this epoch)⌋`` for the
  segments that failed verification (or plausibility): rounding favours the miner.
- ``clawback = ⌊Σ value(charged segments that were already credited)⌋``: a verdict that
  arrives after its receipt was paid in a closed epoch also takes that pay back, so a
  cheat costs ``(1 + multiplier) * value`` whenever it is caught. Floor: favours the
  miner.
- ``overhead`` = the miner's share of push gas since the last epoch (see
  :func:`split_overhead`: rounded up, so the pool may collect a few wei more than the
  gas it paid, never less).
- ``raw = gross - commission - penalty - clawback - overhead - debt_in``;
  ``delta = max(raw, 0)``; ``debt_out = max(-raw, 0)`` is carried to the next epoch.
  ``cumulative = previous cumulative + delta``: it never decreases.

The pool's fee leaf is credited what was actually **collected**: per miner,
``collected = gross - delta`` (the commission, penalty, clawback, overhead and old debt
when the miner's gross covers them; all of ``gross`` when it does not — the shortfall
stays as the miner's debt and is collected, for the pool, in a later epoch). The charges
*levied* this epoch are ``commission + penalty + clawback + overhead``. With
``Δdebt = Σ debt_out - Σ debt_in`` the two exact identities are::

    Σ miner delta + pool delta          = Σ gross      (cash: every wei goes somewhere)
    levied        = pool delta + Δdebt                (accrual: uncollected = new debt)

hence DESIGN.md's ``Σ miner deltas + pool delta + Δdebt = Σ gross`` holds exactly when
its "pool delta" is read as the pool's levied charges and its Δdebt as the debt repaid
net (``Σ debt_in - Σ debt_out``). Both identities are checked by the tests; the fee
leaf never gets a wei that no miner's gross paid for, so the Merkle total is always
backed by work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Final, Literal

from livepool.errors import ValidationError
from livepool.hashing import checksum_address

__all__ = [
    "BPS_DENOMINATOR",
    "EpochResult",
    "EpochTally",
    "MinerBalance",
    "MinerLine",
    "MinerRow",
    "PoolRow",
    "PoolSettings",
    "Totals",
    "commission_in_force",
    "miner_line",
    "parse_fraction",
    "settle_epoch",
    "split_overhead",
]

#: Basis points in one: 10 000 bps = 100 %.
BPS_DENOMINATOR: Final = 10_000


def parse_fraction(value: Any, name: str) -> Fraction:
    """An exact non-negative rational from ``Fraction``, ``int``, ``"n/d"`` or ``(n, d)``.

    Floats are refused: ``0.1`` is not one tenth.
    """
    if isinstance(value, bool | float):
        raise ValidationError(f"{name}: must be exact (int, 'n/d' or (n, d)), got {value!r}")
    try:
        if isinstance(value, tuple):
            num, den = value
            if not (type(num) is int and type(den) is int):
                raise TypeError
            result = Fraction(num, den)
        elif isinstance(value, Fraction | int | str):
            result = Fraction(value)
        else:
            raise TypeError
    except (TypeError, ValueError, ZeroDivisionError):
        raise ValidationError(f"{name}: not an exact fraction: {value!r:.60}") from None
    if result < 0:
        raise ValidationError(f"{name}: must not be negative, got {result}")
    return result


def _fraction_text(value: Fraction) -> str:
    return str(value)  # "3/2", or "1" when integral: what parse_fraction reads back


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """The pool settings that shape one epoch's accounting (and its window).

    ``commission_bps`` is the value *in force for the epoch* (see
    :func:`commission_in_force`). ``penalty_multiplier`` and ``decode_weight`` are exact
    fractions; ``int``, ``"n/d"`` and ``(n, d)`` are accepted and normalised. Epoch ``n``
    covers ``[genesis + n * epoch_seconds, genesis + (n + 1) * epoch_seconds)`` and closes
    ``settle_seconds`` after its end.
    """

    fee_address: str
    genesis: int
    commission_bps: int = 0
    penalty_multiplier: Fraction = Fraction(1)
    decode_weight: Fraction = Fraction(0)
    epoch_seconds: int = 86_400
    settle_seconds: int = 3_600

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        try:
            set_(self, "fee_address", checksum_address(self.fee_address))
        except ValueError as exc:
            raise ValidationError(f"fee_address: {exc}") from None
        for name, low in (
            ("genesis", 0),
            ("commission_bps", 0),
            ("epoch_seconds", 1),
            ("settle_seconds", 0),
        ):
            value = getattr(self, name)
            if type(value) is not int or value < low:
                raise ValidationError(f"{name}: must be an integer ≥ {low}, got {value!r}")
        if self.commission_bps > BPS_DENOMINATOR:
            raise ValidationError(
                f"commission_bps: must be ≤ {BPS_DENOMINATOR}, got {self.commission_bps}"
            )
        set_(
            self,
            "penalty_multiplier",
            parse_fraction(self.penalty_multiplier, "penalty_multiplier"),
        )
        set_(self, "decode_weight", parse_fraction(self.decode_weight, "decode_weight"))

    def epoch_of(self, timestamp: int) -> int:
        """The epoch whose window holds ``timestamp`` (unix seconds)."""
        if timestamp < self.genesis:
            raise ValidationError(f"timestamp {timestamp} is before genesis {self.genesis}")
        return (timestamp - self.genesis) // self.epoch_seconds

    def window(self, epoch: int) -> tuple[int, int]:
        """``(start, end)`` of ``epoch``: start inclusive, end exclusive."""
        if epoch < 0:
            raise ValidationError(f"epoch: must be ≥ 0, got {epoch}")
        start = self.genesis + epoch * self.epoch_seconds
        return start, start + self.epoch_seconds

    def closes_at(self, epoch: int) -> int:
        """The earliest time ``epoch`` may be closed: its end + ``settle_seconds``."""
        return self.window(epoch)[1] + self.settle_seconds

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (fractions as ``"n/d"`` strings), as in the statement."""
        return {
            "commission_bps": self.commission_bps,
            "decode_weight": _fraction_text(self.decode_weight),
            "epoch_seconds": self.epoch_seconds,
            "fee_address": self.fee_address,
            "genesis": self.genesis,
            "penalty_multiplier": _fraction_text(self.penalty_multiplier),
            "settle_seconds": self.settle_seconds,
        }


def commission_in_force(epoch: int, changes: Iterable[tuple[int, int]]) -> int:
    """The commission (bps) in force for ``epoch``, from ``(effective_from_epoch, bps)``.

    The change with the greatest ``effective_from_epoch ≤ epoch`` wins; before any
    change the commission is 0. The ledger records a change made during epoch ``n``
    as effective from ``n + 1`` (DESIGN: a change applies from the next epoch). Two
    different rates for the same epoch are refused.
    """
    by_epoch: dict[int, int] = {}
    for effective, bps in changes:
        if type(effective) is not int or effective < 0:
            raise ValidationError(f"commission change: bad effective epoch {effective!r}")
        if type(bps) is not int or not 0 <= bps <= BPS_DENOMINATOR:
            raise ValidationError(f"commission change: bps must be 0..10000, got {bps!r}")
        if by_epoch.setdefault(effective, bps) != bps:
            raise ValidationError(f"commission change: two rates from epoch {effective}")
    in_force = [e for e in by_epoch if e <= epoch]
    return by_epoch[max(in_force)] if in_force else 0


def split_overhead(batch_gas_cost_wei: int, miners: Sequence[str]) -> dict[str, int]:
    """Split one push batch's gas cost evenly among its miners, rounding **up**.

    Each miner is charged ``⌈cost / n⌉``, so the pool collects up to ``n - 1`` wei more
    than the gas it paid, never less. Addresses are checksummed; a miner listed twice
    is refused. Sum the returned dicts over the batches since the last epoch (e.g. with
    ``collections.Counter``) to get :func:`settle_epoch`'s ``overhead``.
    """
    if type(batch_gas_cost_wei) is not int or batch_gas_cost_wei < 0:
        raise ValidationError(
            f"batch_gas_cost_wei: must be an integer ≥ 0, got {batch_gas_cost_wei!r}"
        )
    if not miners:
        if batch_gas_cost_wei:
            raise ValidationError("split_overhead: a batch with gas cost has no miners")
        return {}
    try:
        addresses = [checksum_address(m) for m in miners]
    except ValueError as exc:
        raise ValidationError(f"miners: {exc}") from None
    if len(set(addresses)) != len(addresses):
        raise ValidationError("miners: an address appears twice in one batch")
    share = -(-batch_gas_cost_wei // len(addresses))
    return dict.fromkeys(addresses, share)


# --- the tally ---------------------------------------------------------------------------

# Per (miner, pixels_per_unit): [Σ enc*price, Σ dec*price, Σ enc, Σ dec, segments]
_Acc = list[int]


class EpochTally:
    """Integer accumulator of one epoch's work, per miner; no I/O, order-independent.

    Values are kept as integer numerators grouped by ``pixels_per_unit`` (few distinct
    values in practice), so adding a receipt is two multiplications and a few additions;
    :func:`settle_epoch` makes one :class:`~fractions.Fraction` per miner. Rows may be
    pre-aggregated by ``(transcoder, price_per_unit, pixels_per_unit)`` — value is linear
    in the pixel counts, so the result is identical — pass their segment count.

    Transcoder addresses given to :meth:`credit` / :meth:`charge` must be checksummed
    (as receipts store them); :func:`settle_epoch` checks each miner once.
    """

    __slots__ = ("_charged", "_clawed", "_credited", "_failed")

    def __init__(self) -> None:
        self._credited: dict[tuple[str, int], _Acc] = {}
        self._charged: dict[tuple[str, int], _Acc] = {}
        self._clawed: dict[tuple[str, int], _Acc] = {}
        self._failed: dict[str, int] = {}

    @staticmethod
    def _add(
        table: dict[tuple[str, int], _Acc],
        transcoder: str,
        enc: int,
        dec: int,
        price: int,
        ppu: int,
        segments: int,
    ) -> None:
        if min(enc, dec, price, segments) < 0 or ppu <= 0:
            raise ValidationError(f"tally: negative amount or pixels_per_unit ≤ 0 for {transcoder}")
        acc = table.get((transcoder, ppu))
        if acc is None:
            table[(transcoder, ppu)] = [enc * price, dec * price, enc, dec, segments]
        else:
            acc[0] += enc * price
            acc[1] += dec * price
            acc[2] += enc
            acc[3] += dec
            acc[4] += segments

    def credit(
        self,
        transcoder: str,
        pixels_encoded: int,
        pixels_decoded: int,
        price_per_unit: int,
        pixels_per_unit: int,
        segments: int = 1,
    ) -> None:
        """Credit work (an ``ok``, plausible, verified receipt or an aggregate of them)."""
        self._add(
            self._credited,
            transcoder,
            pixels_encoded,
            pixels_decoded,
            price_per_unit,
            pixels_per_unit,
            segments,
        )

    def charge(
        self,
        transcoder: str,
        pixels_encoded: int,
        pixels_decoded: int,
        price_per_unit: int,
        pixels_per_unit: int,
        *,
        clawback: bool = False,
        segments: int = 1,
    ) -> None:
        """Charge a segment that failed verification or plausibility.

        It is not credited; its value is penalised (* ``penalty_multiplier``). With
        ``clawback=True`` (its receipt was credited in an already closed epoch) its
        value is also taken back.
        """
        args = (transcoder, pixels_encoded, pixels_decoded, price_per_unit, pixels_per_unit)
        self._add(self._charged, *args, segments)
        if clawback:
            self._add(self._clawed, *args, segments)

    def add_sums(
        self,
        kind: Literal["credit", "charge", "clawback"],
        transcoder: str,
        ppu: int,
        sums: Sequence[int],
    ) -> None:
        """Add pre-multiplied sums ``[Σ enc·price, Σ dec·price, Σ enc, Σ dec, segments]`` of
        segments with one ``pixels_per_unit`` (what a streaming close aggregates: value is
        linear in pixels × price, so these sums give exactly what per-receipt calls give).
        ``charge`` penalises; ``clawback`` penalises and takes the pay back."""
        if len(sums) != 5 or min(sums) < 0 or ppu <= 0:
            raise ValidationError(f"tally: bad sums or pixels_per_unit ≤ 0 for {transcoder}")
        tables = {
            "credit": (self._credited,),
            "charge": (self._charged,),
            "clawback": (self._charged, self._clawed),
        }[kind]
        for table in tables:
            acc = table.get((transcoder, ppu))
            if acc is None:
                table[(transcoder, ppu)] = list(sums)
            else:
                for i in range(5):
                    acc[i] += sums[i]

    def fail(self, transcoder: str, segments: int = 1) -> None:
        """Count ``status = failed`` segments: they earn nothing and cost nothing."""
        self._failed[transcoder] = self._failed.get(transcoder, 0) + segments

    @property
    def credited(self) -> Mapping[tuple[str, int], Sequence[int]]:
        """Credited work per ``(miner, pixels_per_unit)``:
        ``[Σ enc·price, Σ dec·price, Σ enc, Σ dec, segments]``."""
        return MappingProxyType(self._credited)

    @property
    def charged(self) -> Mapping[tuple[str, int], Sequence[int]]:
        """Charged (penalised) work, in the shape of :attr:`credited`."""
        return MappingProxyType(self._charged)

    @property
    def clawed_back(self) -> Mapping[tuple[str, int], Sequence[int]]:
        """Work paid in a closed epoch and taken back now, in the shape of :attr:`credited`."""
        return MappingProxyType(self._clawed)

    @property
    def failed(self) -> Mapping[str, int]:
        """``status = failed`` segments per miner."""
        return MappingProxyType(self._failed)

    def miners(self) -> set[str]:
        """Every miner with anything in this tally."""
        found = {m for m, _ in self._credited}
        found.update(m for m, _ in self._charged)
        found.update(self._failed)
        return found


# --- results -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MinerBalance:
    """What carries from one epoch to the next for a miner."""

    cumulative: int = 0
    debt: int = 0


@dataclass(frozen=True, slots=True)
class MinerRow:
    """One miner's epoch. Pixel counts are those of credited segments."""

    address: str
    segments: int  # credited segments
    failed_segments: int  # status failed: earned nothing
    charged_segments: int  # failed verification / plausibility: penalised
    pixels: int  # encoded pixels credited
    pixels_decoded: int  # decoded pixels credited
    gross: int
    commission: int
    penalty_base: Fraction  # exact Σ value of the charged segments
    penalty: int
    clawback_base: Fraction  # exact Σ value of the charged segments paid before
    clawback: int
    overhead: int
    debt_in: int
    debt_out: int
    delta: int
    cumulative: int

    @property
    def collected(self) -> int:
        """What the pool's fee leaf got from this miner this epoch."""
        return self.gross - self.delta


@dataclass(frozen=True, slots=True)
class PoolRow:
    """The pool's fee leaf: levied charges per kind, and what was collected (``delta``)."""

    address: str
    commission: int
    penalty: int
    clawback: int
    overhead: int
    delta: int
    cumulative: int

    @property
    def levied(self) -> int:
        """Charges levied this epoch (collected or not)."""
        return self.commission + self.penalty + self.clawback + self.overhead


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over the miners, plus the pool leaf; ``total`` is every leaf's cumulative."""

    gross: int
    commission: int
    penalty: int
    clawback: int
    overhead: int
    debt_in: int
    debt_out: int
    miner_delta: int
    pool_delta: int
    total: int


@dataclass(frozen=True, slots=True)
class EpochResult:
    """The settled epoch: miner rows sorted by lower-cased address, the pool leaf, totals."""

    settings: PoolSettings
    miners: tuple[MinerRow, ...]
    pool: PoolRow
    totals: Totals = field(init=False)

    def __post_init__(self) -> None:
        rows = self.miners
        totals = Totals(
            gross=sum(r.gross for r in rows),
            commission=sum(r.commission for r in rows),
            penalty=sum(r.penalty for r in rows),
            clawback=sum(r.clawback for r in rows),
            overhead=sum(r.overhead for r in rows),
            debt_in=sum(r.debt_in for r in rows),
            debt_out=sum(r.debt_out for r in rows),
            miner_delta=sum(r.delta for r in rows),
            pool_delta=self.pool.delta,
            total=sum(r.cumulative for r in rows) + self.pool.cumulative,
        )
        object.__setattr__(self, "totals", totals)

    def balances(self) -> dict[str, MinerBalance]:
        """The carried state for the next epoch's :func:`settle_epoch`."""
        return {r.address: MinerBalance(r.cumulative, r.debt_out) for r in self.miners}

    def leaves(self) -> list[tuple[str, int]]:
        """Merkle leaves ``(account, cumulative)``: miners with cumulative > 0, and the
        fee address (always, so the tree is never empty)."""
        leaves = [(r.address, r.cumulative) for r in self.miners if r.cumulative > 0]
        leaves.append((self.pool.address, self.pool.cumulative))
        return leaves


def _value(table: Mapping[tuple[str, int], Sequence[int]], weight: Fraction) -> dict[str, Fraction]:
    """Exact Σ value per miner: Σ over ppu of (E + w * D) / ppu."""
    wn, wd = weight.numerator, weight.denominator
    out: dict[str, Fraction] = {}
    for (miner, ppu), acc in table.items():
        v = Fraction(acc[0] * wd + acc[1] * wn, ppu * wd) if wn else Fraction(acc[0], ppu)
        prev = out.get(miner)
        out[miner] = v if prev is None else prev + v
    return out


def _counts(table: Mapping[tuple[str, int], Sequence[int]]) -> dict[str, tuple[int, int, int]]:
    """Per miner: (segments, Σ enc, Σ dec)."""
    out: dict[str, tuple[int, int, int]] = {}
    for (miner, _), acc in table.items():
        s, e, d = out.get(miner, (0, 0, 0))
        out[miner] = (s + acc[4], e + acc[2], d + acc[3])
    return out


def _nonneg(mapping: Mapping[str, Any], name: str) -> None:
    for address, value in mapping.items():
        items = (value.cumulative, value.debt) if isinstance(value, MinerBalance) else (value,)
        for v in items:
            if type(v) is not int or v < 0:
                raise ValidationError(f"{name}[{address}]: must be an integer ≥ 0, got {v!r}")


@dataclass(frozen=True, slots=True)
class MinerLine:
    """What one miner's epoch comes to, from its gross and its charges (wei)."""

    commission: int
    penalty: int
    clawback: int
    delta: int
    debt_out: int


def miner_line(
    settings: PoolSettings,
    gross: int,
    penalty_base: Fraction,
    clawback_base: Fraction,
    overhead: int,
    debt_in: int,
) -> MinerLine:
    """The per-miner formula (module docstring): commission, penalty and clawback, then
    ``delta`` or, when the charges exceed the gross, the debt carried out.

    The one copy: :func:`settle_epoch` computes with it and the auditor
    (:func:`livepool.audit.check_statement`) checks a statement's figures with it.
    """
    commission = gross * settings.commission_bps // BPS_DENOMINATOR
    penalty = int(penalty_base * settings.penalty_multiplier // 1)
    clawback = int(clawback_base // 1)
    raw = gross - commission - penalty - clawback - overhead - debt_in
    return MinerLine(commission, penalty, clawback, max(raw, 0), max(-raw, 0))


def _check_miners(miners: set[str], fee_address: str) -> None:
    for address in miners:
        try:
            ok = checksum_address(address) == address
        except ValueError:
            ok = False
        if not ok:
            raise ValidationError(f"miner: not a checksummed address: {address!r:.60}")
    if fee_address in miners:
        raise ValidationError(f"fee address {fee_address} is also a miner")


def settle_epoch(
    settings: PoolSettings,
    tally: EpochTally,
    *,
    overhead: Mapping[str, int] | None = None,
    previous: Mapping[str, MinerBalance] | None = None,
    pool_cumulative: int = 0,
) -> EpochResult:
    """Settle one epoch (formulas in the module docstring).

    ``overhead``: push gas per miner since the last epoch (:func:`split_overhead`).
    ``previous``: each miner's carried :class:`MinerBalance` (the last
    :meth:`EpochResult.balances`); ``pool_cumulative``: the fee leaf's last cumulative.
    Every miner with work, overhead, a cumulative or a debt gets a row. The fee address
    may not also be a miner (ingest must refuse receipts paying it): two leaves for one
    account would break claims.
    """
    overhead = overhead or {}
    previous = previous or {}
    _nonneg(overhead, "overhead")
    _nonneg(previous, "previous")
    if type(pool_cumulative) is not int or pool_cumulative < 0:
        raise ValidationError(f"pool_cumulative: must be an integer ≥ 0, got {pool_cumulative!r}")
    miners = tally.miners() | set(overhead)
    miners.update(a for a, b in previous.items() if b.cumulative or b.debt)
    _check_miners(miners, settings.fee_address)

    weight = settings.decode_weight
    earned = _value(tally.credited, weight)
    charged = _value(tally.charged, weight)
    clawed = _value(tally.clawed_back, weight)
    credited_counts = _counts(tally.credited)
    charged_counts = _counts(tally.charged)
    zero = Fraction(0)
    empty = MinerBalance()
    rows = [
        _miner_row(
            settings,
            address,
            gross=int(earned.get(address, 0) // 1),  # floor, once
            penalty_base=charged.get(address, zero),
            clawback_base=clawed.get(address, zero),
            overhead=overhead.get(address, 0),
            before=previous.get(address, empty),
            counts=(
                *credited_counts.get(address, (0, 0, 0)),
                tally.failed.get(address, 0),
                charged_counts.get(address, (0, 0, 0))[0],
            ),
        )
        for address in sorted(miners, key=str.lower)
    ]
    pool = _pool_row(settings, rows, pool_cumulative)
    return EpochResult(settings=settings, miners=tuple(rows), pool=pool)


def _miner_row(
    settings: PoolSettings,
    address: str,
    *,
    gross: int,
    penalty_base: Fraction,
    clawback_base: Fraction,
    overhead: int,
    before: MinerBalance,
    counts: tuple[int, int, int, int, int],
) -> MinerRow:
    """One miner's statement line; ``counts``: segments credited, Σ encoded, Σ decoded,
    failed segments, charged segments."""
    line = miner_line(settings, gross, penalty_base, clawback_base, overhead, before.debt)
    segments, pixels, pixels_decoded, failed, charged = counts
    return MinerRow(
        address=address,
        segments=segments,
        failed_segments=failed,
        charged_segments=charged,
        pixels=pixels,
        pixels_decoded=pixels_decoded,
        gross=gross,
        commission=line.commission,
        penalty_base=penalty_base,
        penalty=line.penalty,
        clawback_base=clawback_base,
        clawback=line.clawback,
        overhead=overhead,
        debt_in=before.debt,
        debt_out=line.debt_out,
        delta=line.delta,
        cumulative=before.cumulative + line.delta,
    )


def _pool_row(settings: PoolSettings, rows: Sequence[MinerRow], pool_cumulative: int) -> PoolRow:
    """The fee leaf: what the miners' lines levied, and all it collected."""
    collected = sum(r.gross - r.delta for r in rows)
    return PoolRow(
        address=settings.fee_address,
        commission=sum(r.commission for r in rows),
        penalty=sum(r.penalty for r in rows),
        clawback=sum(r.clawback for r in rows),
        overhead=sum(r.overhead for r in rows),
        delta=collected,
        cumulative=pool_cumulative + collected,
    )
