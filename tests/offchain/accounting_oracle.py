"""A receipt-at-a-time tally: the oracle the accounting tests check the ledger's
aggregated close against (the package tallies aggregated rows from the database)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from livepool.accounting import EpochResult, EpochTally, MinerBalance, PoolSettings, settle_epoch
from livepool.receipts import Receipt, plausibility


def add_receipt(tally: EpochTally, receipt: Receipt, *, failed_verification: bool = False) -> str:
    """Account one receipt credited to the epoch: ``failed`` (nothing), ``charged``
    (failed verification or implausible: penalised, not credited) or ``credited``."""
    if receipt.status == "failed":
        tally.fail(receipt.transcoder)
        return "failed"
    args = (
        receipt.transcoder,
        receipt.pixels_encoded,
        receipt.pixels_decoded,
        receipt.price_per_unit,
        receipt.pixels_per_unit,
    )
    if failed_verification or plausibility(receipt) is not None:
        tally.charge(*args)
        return "charged"
    tally.credit(*args)
    return "credited"


def add_late_verdict(tally: EpochTally, receipt: Receipt) -> str:
    """Charge a verdict on a receipt accounted in a closed epoch: ``clawed back`` if that
    epoch credited it, else ``ignored`` (failed or implausible: never paid)."""
    if receipt.status == "failed" or plausibility(receipt) is not None:
        return "ignored"
    tally.charge(
        receipt.transcoder,
        receipt.pixels_encoded,
        receipt.pixels_decoded,
        receipt.price_per_unit,
        receipt.pixels_per_unit,
        clawback=True,
    )
    return "clawed back"


def credit_rows(tally: EpochTally, rows: Iterable[tuple[str, int, int, int, int]]) -> None:
    """Credit ``(transcoder, pixels_encoded, pixels_decoded, price, ppu)`` rows, one
    segment each."""
    for transcoder, enc, dec, price, ppu in rows:
        tally.credit(transcoder, enc, dec, price, ppu)


def settle_receipts(
    settings: PoolSettings,
    receipts: Iterable[Receipt],
    *,
    failed_ids: Iterable[str] = (),
    late_failed: Iterable[Receipt] = (),
    overhead: Mapping[str, int] | None = None,
    previous: Mapping[str, MinerBalance] | None = None,
    pool_cumulative: int = 0,
) -> EpochResult:
    """Tally ``receipts`` one by one and settle: ``failed_ids`` have a failed verdict
    known at close, ``late_failed`` are receipts of closed epochs charged now."""
    failed = frozenset(failed_ids)
    tally = EpochTally()
    for receipt in receipts:
        add_receipt(tally, receipt, failed_verification=receipt.id in failed)
    for receipt in late_failed:
        add_late_verdict(tally, receipt)
    return settle_epoch(
        settings, tally, overhead=overhead, previous=previous, pool_cumulative=pool_cumulative
    )
