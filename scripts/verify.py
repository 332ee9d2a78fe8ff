"""`ape run verify`: the auditor. Recomputes every root from the published statements
and checks it, the data hash, the totals and solvency against the chain.

Exit 0 when everything holds; 1 with a report of each discrepancy otherwise.
"""

from __future__ import annotations

import sys

import click

from livepool.audit import audit
from livepool.publish import load_published
from livepool.scripting import ScriptRun, operator_command


@operator_command(
    click.option(
        "--statements",
        required=True,
        help="A folder of published statements (epoch-N.json) or a base URL serving them.",
    ),
    click.option("--from-block", type=int, default=None, help="Default: the deployment block."),
    account=False,
    confirmations=False,
    yes=False,
)
def cli(run: ScriptRun, statements: str, from_block: int | None) -> None:
    """Audit every epoch proposed on-chain against the published statements."""
    distributor = run.distributor()
    start = from_block if from_block is not None else 0
    events = distributor.root_events(start)
    published = load_published(statements, sorted({e.epoch for e in events}))
    funded = distributor.funded_at_proposals(events)
    report = audit(statements=published, root_events=events, funded=funded)
    click.echo(report.render())
    sys.exit(0 if report.ok else 1)
