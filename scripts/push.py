"""`ape run push`: pay push-mode miners at or above their threshold, in batches."""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, ape_cli_context

from livepool import operations
from livepool.chain import MAX_BATCH
from livepool.errors import LivepoolError
from livepool.scripting import (
    address_option,
    confirm,
    confirmations_option,
    data_dir_option,
    database_option,
    fail,
    open_distributor,
    open_ledger,
    yes_option,
)


@click.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option()
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=MAX_BATCH)
@address_option
@data_dir_option
@confirmations_option
@database_option
@yes_option
def cli(cli_ctx, network, account, batch_size, address, data_dir, database_url, yes, confirmations):
    """Push payouts with claim_many; each batch's gas becomes next epoch's overhead."""
    try:
        distributor = open_distributor(network, data_dir, address, confirmations)
        ledger = open_ledger(data_dir, database_url)
        confirm(yes, f"Push due payouts from {distributor.address} with {account}?")
        report = operations.push(ledger, distributor, account, batch_size=batch_size)
    except LivepoolError as exc:
        fail(exc)
    for line in report.recovered:
        cli_ctx.logger.info(f"recovered: {line}")
    for account_, why in report.skipped.items():
        cli_ctx.logger.info(f"skipped {account_}: {why}")
    for batch in report.batches:
        for failed, amount in batch.failed.items():
            cli_ctx.logger.warning(f"{failed} refused {amount} wei: it stays claimable")
    cli_ctx.logger.success(
        f"epoch {report.epoch}: paid {sum(report.paid.values())} wei to {len(report.paid)} "
        f"miners in {len(report.batches)} batches; gas {report.gas_cost} wei, charged as "
        "overhead at the next close"
    )
