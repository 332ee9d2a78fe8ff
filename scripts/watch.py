"""`ape run watch` (= `livepool watch`): the watchtower, runnable by anyone.

Follows `RootProposed`, audits each pending root against the published statement and
tree (`--source`: the service's URL or a folder) and, when the audit fails, revokes it
with the guardian account (`--account`) or raises an alert (an error log line, and a JSON
POST to `--webhook`). `--once` checks the root pending now and exits 0 (no root pending,
or it holds), 1 (it failed the audit) or 2 (its data could not be fetched).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import click
from ape.cli import account_option

from livepool.chain import Deployment, Distributor
from livepool.errors import LivepoolError
from livepool.keeper import configure_logging, install_stop_signals, sign_unattended
from livepool.scripting import ScriptRun, network_name, operator_command
from livepool.watch import Watchtower


def _deployment_block(data_dir: Path, network: str, address: str) -> int:
    try:
        record = Deployment.find(data_dir, network, Distributor.chain_id())
    except LivepoolError:
        return 0
    return record.block if record.address.lower() == address.lower() else 0


# Not operator_command's own --account: the guardian key is optional (without it the
# watchtower alerts instead of revoking), so ape must not prompt for one.
@operator_command(
    account_option(prompt=False),
    click.option(
        "--source",
        required=True,
        help="The published statements and trees: the service's base URL or a folder.",
    ),
    click.option("--webhook", default=None, help="POST a JSON alert here when a root fails."),
    click.option(
        "--from-block",
        type=click.IntRange(min=0),
        default=None,
        help="Follow proposals from this block on a first run (default: the deployment block "
        "when recorded under --data-dir, else 0).",
    ),
    click.option(
        "--interval",
        type=click.FloatRange(min=0, min_open=True),
        default=30.0,
        show_default=True,
        help="Seconds between polls (keep it well under the challenge period).",
    ),
    click.option(
        "--state",
        "state_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Where the watchtower remembers what it checked (default: "
        "DATA_DIR/watch/<network>-<address>.json).",
    ),
    click.option("--once", is_flag=True, help="Check the pending root and exit 0/1/2."),
    click.option(
        "--log-format", type=click.Choice(["kv", "json"]), default="kv", show_default=True
    ),
    account=False,
    yes=False,
)
def cli(
    run: ScriptRun,
    source: str,
    webhook: str | None,
    from_block: int | None,
    interval: float,
    state_path: Path | None,
    once: bool,
    log_format: str,
) -> None:
    """Audit every proposed root in its challenge window; revoke (guardian) or alert."""
    try:
        configure_logging(log_format)
        distributor = run.distributor()
        if run.account is not None:
            sign_unattended(run.account)
        name = network_name(run.network)
        deployed = _deployment_block(run.data_dir, name, distributor.address)
        if state_path is None:
            safe = name.replace(":", "-")
            state_path = run.data_dir / "watch" / f"{safe}-{distributor.address}.json"
        tower = Watchtower(
            distributor,
            source,
            guardian=run.account,
            webhook=webhook,
            state_path=None if once else state_path,
            from_block=deployed if from_block is None else from_block,
            history_from=deployed if from_block is None else min(deployed, from_block),
        )
        if once:
            code, _ = tower.check_pending()
            sys.exit(code)
    except LivepoolError as exc:  # could not read the chain or the state: exit 2
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    stop = threading.Event()
    install_stop_signals(stop, tower.log)
    tower.run(stop, interval)
