"""`ape run propose`: propose the latest closed epoch's root (poster key)."""

from __future__ import annotations

from livepool import operations
from livepool.scripting import ScriptRun, operator_command


@operator_command(ledger=True)
def cli(run: ScriptRun) -> None:
    """Propose root, total and data hash of the latest closed epoch, once."""
    ledger, distributor = run.pool()
    plan = operations.next_proposal(ledger)
    problems = distributor.propose_problems(
        sender=str(run.sender.address), epoch=plan["epoch"], total=plan["total"]
    )
    run.confirm(
        f"Propose epoch {plan['epoch']} to {distributor.address}?",
        {
            "to": distributor.address,
            "call": f"propose_root({plan['root']}, {plan['epoch']}, {plan['total']}, "
            f"{plan['data_hash']})",
            "would revert": "; ".join(problems) if problems else "no (checked on-chain)",
        },
    )
    outcome = operations.propose_latest(ledger, distributor, run.sender)
    sent = f"\n  tx {outcome.sent.tx_hash} (gas {outcome.sent.gas_used})" if outcome.sent else ""
    run.success(
        f"{outcome.note}\n  root {outcome.root}\n  total {outcome.total} wei\n"
        f"  data hash {outcome.data_hash}{sent}"
    )
