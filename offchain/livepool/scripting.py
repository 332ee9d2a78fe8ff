"""Options and plumbing shared by the ape scripts in ``scripts/``.

Scripts hold no logic: they parse options, open the ledger and the deployment, ask before
sending, and call :mod:`livepool.operations` through :class:`livepool.chain.Distributor`.
Each script's ``cli`` is made by :func:`operator_command`: ape's connected-provider
command with the common options, and one error → clear message → exit code wrapper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from ape.api import AccountAPI, NetworkAPI
from ape.cli import ApeCliContextObject, ConnectedProviderCommand, account_option, ape_cli_context

from livepool import operations
from livepool.chain import Deployment, Distributor
from livepool.cli import data_dir_option, database_option
from livepool.errors import ChainError, LivepoolError
from livepool.ledger import Ledger

address_option = click.option(
    "--address",
    default=None,
    help="Distributor address (default: the deployment recorded for this network).",
)
yes_option = click.option("--yes", "-y", is_flag=True, help="Send without asking.")
dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Check everything and print what would be sent (to, call, from, chain), then stop "
    "without sending.",
)
confirmations_option = click.option(
    "--confirmations",
    type=click.IntRange(min=0),
    default=None,
    help="Blocks to wait after each transaction (default: the network's setting in "
    "ape-config.yaml).",
)


def network_name(network: Any) -> str:
    return f"{network.ecosystem.name}:{network.name}"


def deployment_record(network: Any, data_dir: Path) -> Deployment:
    """The deployment recorded for the connected network and chain id (or a
    :class:`ChainError` saying which chains do have one)."""
    return Deployment.find(data_dir, network_name(network), Distributor.chain_id())


def open_distributor(
    network: Any, data_dir: Path, address: str | None, confirmations: int | None = None
) -> Distributor:
    """The distributor at ``address``, else the one recorded for this network and chain id,
    after checking the chain id and the code at the address (see
    :meth:`Distributor.bound`): nothing is sent to a chain or address that is not it."""
    record: Deployment | None
    try:
        record = deployment_record(network, data_dir)
    except ChainError:
        if not address:
            raise
        record = None
    if record is not None and address and record.address.lower() != address.lower():
        record = None
    return Distributor.bound(
        record, address=address, network=network_name(network), confirmations=confirmations
    )


def open_ledger(data_dir: Path, database_url: str | None) -> Ledger:
    return Ledger(database_url, data_dir=data_dir)


def confirm(yes: bool, question: str) -> None:
    if not yes and not click.confirm(question, default=True):
        raise click.Abort()


@dataclass(frozen=True)
class ScriptRun:
    """What every script's body gets: ape's context, the network, the sending account and
    the common options, with the ledger, distributor and confirmation they lead to."""

    cli_ctx: ApeCliContextObject
    network: NetworkAPI
    data_dir: Path
    account: AccountAPI | None = None
    address: str | None = None
    confirmations: int | None = None
    database_url: str | None = None
    yes: bool = False
    dry_run: bool = False

    @property
    def sender(self) -> AccountAPI:
        """The account that signs (scripts made with ``account=True`` always have one)."""
        if self.account is None:  # pragma: no cover - operator_command adds --account
            raise click.UsageError("this command needs --account")
        return self.account

    def success(self, message: str) -> None:
        self.cli_ctx.logger.success(message)

    def distributor(self) -> Distributor:
        """The distributor at ``--address``, else the one recorded for this network."""
        return open_distributor(self.network, self.data_dir, self.address, self.confirmations)

    def ledger(self) -> Ledger:
        return open_ledger(self.data_dir, self.database_url)

    def pool(self) -> tuple[Ledger, Distributor]:
        """The ledger and the chain-checked distributor, after reconciling every chain
        action a crash left *prepared* (each one found is logged with its tx and block)."""
        ledger, distributor = self.ledger(), self.distributor()
        for line in operations.reconcile(ledger, distributor):
            self.cli_ctx.logger.info(f"reconciled: {line}")
        return ledger, distributor

    def confirm(self, question: str, details: dict[str, object] | None = None) -> None:
        """Ask before sending, unless ``--yes``. With ``--dry-run``: print what would be
        sent (``question`` and ``details``) and exit 0 without sending."""
        if self.dry_run:
            chain_id = Distributor.chain_id()
            lines = [
                f"DRY RUN on {network_name(self.network)} (chain {chain_id}): nothing sent.",
                f"  would: {question.rstrip('?')}",
                *(f"  {k}: {v}" for k, v in (details or {}).items()),
            ]
            if self.account is not None:
                lines.append(f"  from: {self.account.address}")
            click.echo("\n".join(lines))
            raise SystemExit(0)
        confirm(self.yes, question)


def operator_command(
    *options: Callable[[Any], Any],
    account: bool = True,
    address: bool = True,
    confirmations: bool = True,
    ledger: bool = False,
    yes: bool = True,
    errors: tuple[type[Exception], ...] = (LivepoolError,),
) -> Callable[[Callable[..., None]], click.Command]:
    """Make a script's ``cli`` from ``body(run: ScriptRun, **its own options)``: an ape
    ``ConnectedProviderCommand`` with ``--account``, the script's ``options``,
    ``--address``, ``--data-dir``, ``--confirmations``, ``--database-url``
    (``ledger=True``) and ``--yes``, each unless turned off. An error of ``errors``
    becomes its message and exit code 1."""
    common = {"account", "address", "confirmations", "database_url", "yes", "dry_run"}

    def make(body: Callable[..., None]) -> click.Command:
        def command(cli_ctx: ApeCliContextObject, network: NetworkAPI, **params: Any) -> None:
            given = {k: params.pop(k) for k in common & set(params)}
            run = ScriptRun(cli_ctx, network, params.pop("data_dir"), **given)
            try:
                body(run, **params)
            except errors as exc:
                raise click.ClickException(str(exc)) from None

        command.__doc__ = body.__doc__
        chosen = [
            ape_cli_context(),
            *([account_option()] if account else []),
            *options,
            *([address_option] if address else []),
            data_dir_option,
            *([confirmations_option] if confirmations else []),
            *([database_option] if ledger else []),
            *([yes_option, dry_run_option] if yes else []),
        ]
        decorated: Any = command
        for option in reversed(chosen):
            decorated = option(decorated)
        return click.command(cls=ConnectedProviderCommand, name="cli")(decorated)

    return make
