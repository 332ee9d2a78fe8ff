"""`ape run verify`: the auditor. Recomputes every root from the published statements
and checks it, the data hash, the totals and solvency against the chain.

Exit 0 when everything holds; 1 with a report of each discrepancy otherwise.
"""

from __future__ import annotations

import sys

import click
from ape.cli import ConnectedProviderCommand, ape_cli_context

from livepool.audit import audit
from livepool.errors import LivepoolError
from livepool.publish import load_published
from livepool.scripting import address_option, data_dir_option, fail, open_distributor


@click.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@click.option(
    "--statements",
    required=True,
    help="A folder of published statements (epoch-N.json) or the service's base URL.",
)
@click.option("--from-block", type=int, default=None, help="Default: the deployment block.")
@address_option
@data_dir_option
def cli(cli_ctx, network, statements, from_block, address, data_dir):
    """Audit every epoch proposed on-chain against the published statements."""
    try:
        distributor = open_distributor(network, data_dir, address)
        start = from_block if from_block is not None else 0
        events = distributor.root_events(start)
        wanted = sorted({e.epoch for e in events})
        published = load_published(statements, wanted)
        funded = distributor.funded_at_proposals(events)
        report = audit(statements=published, root_events=events, funded=funded)
    except LivepoolError as exc:
        fail(exc)
    click.echo(report.render())
    sys.exit(0 if report.ok else 1)
