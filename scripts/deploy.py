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
    click.option(
        "--min-challenge-period",
        type=int,
        default=None,
        help="The immutable floor of the period, in seconds. Default: the challenge period.",
    ),
    click.option("--keeper", default=None, help="Address that may push to miners' recipients."),
    address=False,
    confirmations=False,
)
def cli(
    run: ScriptRun,
    poster: str,
    guardian: str,
    challenge_period: int,
    min_challenge_period: int | None,
    keeper: str | None,
) -> None:
    """Deploy the distributor (the account becomes its owner)."""
    network = network_name(run.network)
    run.confirm(
        f"Deploy LivepoolDistributor on {network} from {run.sender}?",
        {
            "constructor": f"(poster={poster}, guardian={guardian}, challenge_period="
            f"{challenge_period}, min_challenge_period={min_challenge_period or challenge_period})",
            "then": f"set_keeper({keeper})" if keeper else "(no keeper)",
        },
    )
    distributor = Distributor.deploy(
        run.sender,
        poster=poster,
        guardian=guardian,
        challenge_period=challenge_period,
        min_challenge_period=min_challenge_period,
        keeper=keeper,
    )
    record = distributor.deployment(network)
    path = Deployment.path_for(run.data_dir, record.network, record.chain_id)
    record.save(path)
    run.success(
        f"LivepoolDistributor at {record.address} (chain {record.chain_id}, block "
        f"{record.block}); recorded in {path}"
    )
