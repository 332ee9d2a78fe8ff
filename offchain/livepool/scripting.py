"""Options and plumbing shared by the ape scripts in ``scripts/``.

Scripts hold no logic: they parse options, open the ledger and the deployment, ask before
sending, and call :mod:`livepool.operations` through :class:`livepool.chain.Distributor`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from livepool.chain import Deployment, Distributor
from livepool.config import or_setting
from livepool.errors import LivepoolError
from livepool.ledger import Ledger

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    callback=or_setting("data_dir"),
    help="Where the ledger (SQLite) and deployment records live (env LIVEPOOL_DATA_DIR, "
    "default ./data).",
)
database_option = click.option(
    "--database-url",
    default=None,
    callback=or_setting("database_url"),
    help="Ledger database URL (env LIVEPOOL_DATABASE_URL; default: SQLite under --data-dir).",
)
address_option = click.option(
    "--address",
    default=None,
    help="Distributor address (default: the deployment recorded for this network).",
)
yes_option = click.option("--yes", "-y", is_flag=True, help="Send without asking.")
confirmations_option = click.option(
    "--confirmations",
    type=click.IntRange(min=0),
    default=None,
    help="Blocks to wait after each transaction (default: the network's setting in "
    "ape-config.yaml).",
)


def network_name(network: Any) -> str:
    return f"{network.ecosystem.name}:{network.name}"


def open_distributor(
    network: Any, data_dir: Path, address: str | None, confirmations: int | None = None
) -> Distributor:
    if not address:
        address = Deployment.load(Deployment.path_for(data_dir, network_name(network))).address
    return Distributor.at(address, confirmations=confirmations)


def open_ledger(data_dir: Path, database_url: str | None) -> Ledger:
    return Ledger(database_url, data_dir=data_dir)


def confirm(yes: bool, question: str) -> None:
    if not yes and not click.confirm(question, default=True):
        raise click.Abort()


def fail(exc: LivepoolError) -> None:
    raise click.ClickException(str(exc))
