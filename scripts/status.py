"""`ape run status` (= `livepool status`): epochs, unconfirmed chain actions, the
contract's balance, liabilities and surplus, and what to do next. `--json` prints the
same as JSON (times in unix seconds). Sends nothing; reads the chain when a deployment is
recorded for it (or `--address`), else shows the ledger and says why."""

from __future__ import annotations

import json

import click

from livepool.errors import LivepoolError
from livepool.scripting import ScriptRun, operator_command
from livepool.status import pool_status, render


@operator_command(
    click.option("--json", "as_json", is_flag=True, help="Print JSON (unix seconds, wei)."),
    account=False,
    confirmations=False,
    ledger=True,
    yes=False,
)
def cli(run: ScriptRun, as_json: bool) -> None:
    """Show where the pool stands and what to do next."""
    ledger = run.ledger()
    try:
        distributor, error = run.distributor(), None
    except LivepoolError as exc:
        distributor, error = None, str(exc)
    status = pool_status(ledger, distributor, chain_error=error)
    click.echo(json.dumps(status, indent=2) if as_json else render(status))
