"""`ape run fund`: send ETH to the pool (the orchestrator's `withdrawFees` proceeds)."""

from __future__ import annotations

import click

from livepool.scripting import ScriptRun, operator_command


@operator_command(click.argument("amount_wei", type=int))
def cli(run: ScriptRun, amount_wei: int) -> None:
    """Send AMOUNT_WEI to the distributor."""
    distributor = run.distributor()
    run.confirm(
        f"Send {amount_wei} wei from {run.sender} to {distributor.address}?",
        {"to": distributor.address, "value": f"{amount_wei} wei", "call": "(plain transfer)"},
    )
    sent = distributor.fund(run.sender, amount_wei)
    run.success(
        f"funded {amount_wei} wei in {sent.tx_hash} (block {sent.block}); the pool at "
        f"{distributor.address} now holds {distributor.balance} wei"
    )
