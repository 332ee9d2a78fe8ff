"""`ape run fund`: send ETH to the pool (the orchestrator's `withdrawFees` proceeds)."""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, ape_cli_context

from livepool.errors import LivepoolError
from livepool.scripting import (
    address_option,
    confirm,
    confirmations_option,
    data_dir_option,
    fail,
    open_distributor,
    yes_option,
)


@click.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option()
@click.argument("amount_wei", type=int)
@address_option
@data_dir_option
@confirmations_option
@yes_option
def cli(cli_ctx, network, account, amount_wei, address, data_dir, yes, confirmations):
    """Send AMOUNT_WEI to the distributor."""
    try:
        distributor = open_distributor(network, data_dir, address, confirmations)
        confirm(yes, f"Send {amount_wei} wei from {account} to {distributor.address}?")
        sent = distributor.fund(account, amount_wei)
    except LivepoolError as exc:
        fail(exc)
    cli_ctx.logger.success(
        f"funded {amount_wei} wei in {sent.tx_hash}; the pool now holds {distributor.balance} wei"
    )
