"""`ape run demo` (what `make demo` runs): a pool's two days, from receipts to money.

A simulated pool of miners transcodes for two epochs. Each epoch the accountant ingests
the orchestrator's receipts, closes the epoch (statement + Merkle root), the poster
proposes the root, the challenge window passes, the keeper accepts it; some miners claim
from their wallets, the keeper pushes to those who chose push payouts (their gas is
charged in the next epoch), and at the end the auditor recomputes every root from the
published statements and checks it against the chain. Every chain step prints its gas.

Runs on ape's in-process chain by default, in a fresh folder under ``./data/demo``;
``--network ethereum:local:foundry`` runs it on anvil.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click
from ape import accounts, chain
from ape.cli import ConnectedProviderCommand

from livepool import epochs
from livepool.audit import audit
from livepool.chain import Distributor, Sent
from livepool.cycle import EpochCycle, run_cycle
from livepool.ingest import ingest_receipts
from livepool.ledger import Ledger
from livepool.publish import load_published, publish
from livepool.simulate import simulate
from livepool.statement import load_statement

ETH = 10**18
GENESIS = 1_764_000_000  # 2025-11-24T16:00:00Z
EPOCH_SECONDS = 86_400
SETTLE_SECONDS = 3_600
CHALLENGE_PERIOD = 3_600
COMMISSION_BPS = 500
CLAIMERS = 3  # the first miners claim from their wallets; the others chose push payouts


def _eth(wei: int) -> str:
    return f"{wei / ETH:,.6f} ETH"


def _step(title: str, sent: Sent | None = None) -> None:
    cost = f"  [gas {sent.gas_used:,}]" if sent is not None else ""
    click.echo(f"  • {title}{cost}")


def _work_day(ledger: Ledger, wallets: list[str], number: int, receipts: int) -> None:
    """Simulate one day of the pool's work, paid to these wallets, and ingest it."""
    start = GENESIS + number * EPOCH_SECONDS
    items = simulate(len(wallets), receipts, seed=number, start=start, addresses=wallets)
    report = ingest_receipts(ledger, items)
    _step(f"ingested {report.summary()}")


def _open_pool(
    data_dir: Path, fee: str, operator: Any, roles: dict[str, str]
) -> tuple[Ledger, Distributor]:
    """A fresh ledger configured for the demo, and a funded distributor."""
    shutil.rmtree(data_dir, ignore_errors=True)
    ledger = Ledger(data_dir=data_dir)
    epochs.configure(
        ledger,
        fee_address=fee,
        genesis=GENESIS,
        epoch_seconds=EPOCH_SECONDS,
        settle_seconds=SETTLE_SECONDS,
        commission_bps=COMMISSION_BPS,
    )
    click.echo(f"Livepool demo on chain {chain.chain_id}; ledger {ledger.url}")
    click.echo(f"  commission {COMMISSION_BPS / 100}%, fee leaf {fee}\n")
    click.echo("Contract")
    distributor = Distributor.deploy(
        operator,
        challenge_period=CHALLENGE_PERIOD,
        poster=roles["poster"],
        guardian=roles["guardian"],
        keeper=roles["keeper"],
    )
    _step(f"deployed LivepoolDistributor at {distributor.address}")
    _step(
        f"funded {_eth(10 * ETH)} (the orchestrator's ticket winnings)",
        distributor.fund(operator, 10 * ETH),
    )
    return ledger, distributor


def _wait(seconds: int) -> None:
    chain.pending_timestamp += seconds


def _show(cycle: EpochCycle) -> None:
    closed = cycle.closed
    statement = load_statement(closed.statement)
    _step(
        f"closed: {closed.miners} miners, gross {_eth(statement.totals.gross)}, "
        f"pool {_eth(statement.pool.delta)}, overhead {_eth(statement.totals.overhead)}"
    )
    _step(f"root {closed.root}, total {_eth(closed.total)}")
    _step("poster proposed the root", cycle.proposed.sent)
    _step(f"{CHALLENGE_PERIOD} s pass: the challenge window closes")
    _step("keeper accepted the root", cycle.accepted)
    for account, sent, paid in cycle.claims:
        _step(f"miner {account[:10]}… claimed {_eth(paid)} from their wallet", sent)
    for batch in cycle.pushed.batches if cycle.pushed else []:
        n = len(batch.paid)
        _step(
            f"keeper pushed {_eth(sum(batch.paid.values()))} to {n} miner{'s' * (n != 1)} "
            f"(gas cost {batch.sent.cost:,} wei, charged next epoch)",
            batch.sent,
        )


def _audit(ledger: Ledger, distributor: Distributor, data_dir: Path) -> bool:
    click.echo("\nAudit")
    folder = data_dir / "published"
    files = publish(ledger, folder)
    _step(f"published {len(files)} files to {folder}")
    events = distributor.root_events()
    result = audit(
        statements=load_published(folder),
        root_events=events,
        funded=distributor.funded_at_proposals(events),
    )
    for line in result.render().splitlines():
        _step(line)
    click.echo("\nFinal state")
    click.echo(f"  funded        {_eth(distributor.funded)}")
    click.echo(f"  balance       {_eth(distributor.balance)}")
    click.echo(f"  surplus       {_eth(distributor.surplus)} (what the owner may withdraw)")
    return result.ok


@click.command(cls=ConnectedProviderCommand)
@click.option("--receipts", default=3_000, show_default=True, help="Receipts per day.")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=Path("data/demo"), show_default=True
)
def cli(receipts: int, data_dir: Path) -> None:
    """Two epochs of a simulated pool: accounting, roots, claims, pushes, audit."""
    test = accounts.test_accounts
    operator, poster, guardian, keeper, fee = (test[i] for i in range(5))
    miners = [test[i] for i in range(5, 10)]
    wallets = [m.address for m in miners]
    roles = {"poster": poster.address, "guardian": guardian.address, "keeper": keeper.address}
    ledger, distributor = _open_pool(data_dir, fee.address, operator, roles)
    for miner in miners[CLAIMERS:]:
        ledger.set_payout(miner.address, "push", 0)
    _step(f"{len(miners) - CLAIMERS} of {len(miners)} miners chose push payouts")
    for number in (0, 1):
        click.echo(f"\nEpoch {number}")
        _work_day(ledger, wallets, number, receipts)
        now = GENESIS + (number + 1) * EPOCH_SECONDS + SETTLE_SECONDS
        cycle = run_cycle(
            ledger,
            distributor,
            number,
            now=now,
            poster=poster,
            keeper=keeper,
            wait=_wait,
            claimers=miners[:CLAIMERS],
        )
        _show(cycle)
    if not _audit(ledger, distributor, data_dir):
        raise click.ClickException("the audit found discrepancies")
