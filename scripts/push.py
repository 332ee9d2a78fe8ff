"""`ape run push`: pay push-mode miners at or above their threshold, in batches."""

from __future__ import annotations

import click

from livepool import operations
from livepool.chain import MAX_BATCH
from livepool.scripting import ScriptRun, operator_command


@operator_command(
    click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=MAX_BATCH),
    ledger=True,
)
def cli(run: ScriptRun, batch_size: int) -> None:
    """Push payouts with claim_many; each batch's gas becomes next epoch's overhead."""
    ledger, distributor = run.pool()
    run.confirm(
        f"Push due payouts from {distributor.address} with {run.sender}?",
        {"to": distributor.address, "call": "claim_many(accounts, cumulatives, proofs)"},
    )
    report = operations.push(ledger, distributor, run.sender, batch_size=batch_size)
    log = run.cli_ctx.logger
    for line in report.recovered:
        log.info(f"recovered: {line}")
    for skipped, why in report.skipped.items():
        log.info(f"skipped {skipped}: {why}")
    for batch in report.batches:
        for failed, amount in batch.failed.items():
            log.warning(f"{failed} refused {amount} wei: it stays claimable")
    run.success(
        f"epoch {report.epoch}: paid {sum(report.paid.values())} wei to {len(report.paid)} "
        f"miners in {len(report.batches)} batches; gas {report.gas_cost} wei, charged as "
        "overhead at the next close"
    )
