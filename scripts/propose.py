"""`ape run propose`: propose the latest closed epoch's root (poster key)."""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, ape_cli_context

from livepool import operations
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
@address_option
@data_dir_option
@confirmations_option
@database_option
@yes_option
def cli(cli_ctx, network, account, address, data_dir, database_url, yes, confirmations):
    """Propose root, total and data hash of the latest closed epoch, once."""
    try:
        distributor = open_distributor(network, data_dir, address, confirmations)
        ledger = open_ledger(data_dir, database_url)
        confirm(yes, f"Propose the latest closed epoch to {distributor.address}?")
        outcome = operations.propose_latest(ledger, distributor, account)
    except LivepoolError as exc:
        fail(exc)
    cli_ctx.logger.success(
        f"{outcome.note}\n  root {outcome.root}\n  total {outcome.total} wei\n"
        f"  data hash {outcome.data_hash}"
        + (f"\n  tx {outcome.sent.tx_hash} (gas {outcome.sent.gas_used})" if outcome.sent else "")
    )
