"""`ape run deploy`: deploy LivepoolDistributor and record where it lives."""

from __future__ import annotations

import click

from livepool.chain import Deployment, Distributor
from livepool.scripting import ScriptRun, network_name, operator_command


@operator_command(
    click.option("--poster", required=True, help="Address allowed to propose roots."),
    click.option("--guardian", required=True, help="Address allowed to revoke roots and pause."),
    click.option(
        "--challenge-period", type=int, default=86_400, show_default=True, help="Seconds."
    ),
    address=False,
    confirmations=False,
)
def cli(run: ScriptRun, poster: str, guardian: str, challenge_period: int) -> None:
    """Deploy the distributor (the account becomes its owner)."""
    network = network_name(run.network)
    run.confirm(f"Deploy LivepoolDistributor on {network} from {run.sender}?")
    distributor = Distributor.deploy(
        run.sender, poster=poster, guardian=guardian, challenge_period=challenge_period
    )
    record = distributor.deployment(network)
    path = Deployment.path_for(run.data_dir, record.network)
    record.save(path)
    run.success(
        f"LivepoolDistributor at {record.address} (chain {record.chain_id}, block "
        f"{record.block}); recorded in {path}"
    )
