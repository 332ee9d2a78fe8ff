"""`ape run deploy`: deploy LivepoolDistributor and record where it lives."""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option, ape_cli_context

from livepool.chain import Deployment, Distributor
from livepool.errors import LivepoolError
from livepool.scripting import confirm, data_dir_option, fail, network_name, yes_option


@click.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option()
@click.option("--poster", required=True, help="Address allowed to propose roots.")
@click.option("--guardian", required=True, help="Address allowed to revoke roots and pause.")
@click.option("--challenge-period", type=int, default=86_400, show_default=True, help="Seconds.")
@click.option(
    "--min-challenge-period",
    type=int,
    default=None,
    help="The immutable floor of the period, in seconds. Default: the challenge period.",
)
@click.option("--keeper", default=None, help="Address that may push to miners' recipients.")
@data_dir_option
@yes_option
def cli(
    cli_ctx,
    network,
    account,
    poster,
    guardian,
    challenge_period,
    min_challenge_period,
    keeper,
    data_dir,
    yes,
):
    """Deploy the distributor (the account becomes its owner)."""
    confirm(yes, f"Deploy LivepoolDistributor on {network_name(network)} from {account}?")
    try:
        distributor = Distributor.deploy(
            account,
            poster=poster,
            guardian=guardian,
            challenge_period=challenge_period,
            min_challenge_period=min_challenge_period,
            keeper=keeper,
        )
        record = distributor.deployment(network_name(network))
        path = Deployment.path_for(data_dir, record.network)
        record.save(path)
    except LivepoolError as exc:
        fail(exc)
    cli_ctx.logger.success(
        f"LivepoolDistributor at {record.address} (chain {record.chain_id}, block "
        f"{record.block}); recorded in {path}"
    )
