"""`ape run accept`: accept the pending root once its challenge window has passed."""

from __future__ import annotations

from livepool import operations
from livepool.scripting import ScriptRun, operator_command


@operator_command(ledger=True, yes=False)
def cli(run: ScriptRun) -> None:
    """Accept the pending root (anyone may; no confirmation asked)."""
    ledger, distributor = run.pool()
    epoch, sent = operations.accept(ledger, distributor, run.sender)
    if sent is None:  # a crash after it was mined: found on-chain and recorded now
        run.success(f"epoch {epoch} was accepted before (found on-chain)")
    else:
        run.success(f"epoch {epoch} accepted in {sent.tx_hash} (gas {sent.gas_used})")
