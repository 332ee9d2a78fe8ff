"""`ape run accept`: accept the pending root once its challenge window has passed."""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, ape_cli_context

from livepool import operations
from livepool.errors import LivepoolError
from livepool.scripting import (
    address_option,
    confirmations_option,
    data_dir_option,
    database_option,
    fail,
    open_distributor,
    open_ledger,
)


@click.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option()
@address_option
@data_dir_option
@confirmations_option
@database_option
def cli(cli_ctx, network, account, address, data_dir, database_url, confirmations):
    """Accept the pending root (anyone may; no confirmation asked)."""
    try:
        distributor = open_distributor(network, data_dir, address, confirmations)
        ledger = open_ledger(data_dir, database_url)
        epoch, sent = operations.accept(ledger, distributor, account)
    except LivepoolError as exc:
        fail(exc)
    cli_ctx.logger.success(f"epoch {epoch} accepted in {sent.tx_hash} (gas {sent.gas_used})")
