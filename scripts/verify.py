"""`ape run verify`: the auditor. Recomputes every root from the published statements,
checks every published tree dump (what miners claim with) and checks the data hash, the
totals and solvency against the chain.

Exit 0 when everything holds; 1 with a report of each discrepancy otherwise. With no
contract at the address, or no root proposed yet, there is nothing to check: that fails
too (an empty audit proves nothing) unless `--allow-empty`.
"""

from __future__ import annotations

import sys

import click

from livepool.audit import audit
from livepool.errors import ChainError
from livepool.publish import load_published, load_trees
from livepool.scripting import ScriptRun, deployment_record, operator_command


@operator_command(
    click.option(
        "--statements",
        required=True,
        help="A folder of published statements and trees (epoch-N.json, epoch-N.tree.json) "
        "or a base URL serving them.",
    ),
    click.option("--from-block", type=int, default=None, help="Default: the deployment block."),
    click.option(
        "--allow-empty",
        is_flag=True,
        help="Exit 0 when there is no contract or no root to check (default: exit 1).",
    ),
    account=False,
    confirmations=False,
    yes=False,
)
def cli(run: ScriptRun, statements: str, from_block: int | None, allow_empty: bool) -> None:
    """Audit every epoch proposed on-chain against the published statements and trees."""
    try:
        distributor = run.distributor()
    except ChainError as exc:
        if not allow_empty:
            raise
        click.echo(f"EMPTY: nothing to check ({exc}); allowed by --allow-empty")
        sys.exit(0)
    if from_block is None:
        try:
            record = deployment_record(run.network, run.data_dir)
            start = record.block if record.address.lower() == distributor.address.lower() else 0
        except ChainError:
            start = 0
    else:
        start = from_block
    events = distributor.root_events(start)
    epochs = sorted({e.epoch for e in events})
    published = load_published(statements, epochs)
    trees = load_trees(statements, sorted(set(epochs) | set(published)))
    funded = distributor.funded_at_proposals(events)
    report = audit(statements=published, root_events=events, funded=funded, trees=trees)
    click.echo(report.render())
    if not events:
        message = f"EMPTY: no root has been proposed to {distributor.address} yet"
        if not allow_empty:
            click.echo(f"FAILED: {message}: nothing was checked (--allow-empty accepts this)")
            sys.exit(1)
        click.echo(f"{message}; allowed by --allow-empty")
    sys.exit(0 if report.ok else 1)
