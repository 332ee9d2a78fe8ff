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

import click
from ape import accounts, chain
from ape.cli import ConnectedProviderCommand

from livepool import epochs, operations
from livepool.audit import audit
from livepool.chain import Distributor, Sent
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
    shutil.rmtree(data_dir, ignore_errors=True)
    ledger = Ledger(data_dir=data_dir)
    epochs.configure(
        ledger,
        fee_address=fee.address,
        genesis=GENESIS,
        epoch_seconds=EPOCH_SECONDS,
        settle_seconds=SETTLE_SECONDS,
        commission_bps=COMMISSION_BPS,
    )
    click.echo(f"Livepool demo on chain {chain.chain_id}; ledger {ledger.url}")
    click.echo(
        f"  {len(miners)} miners, commission {COMMISSION_BPS / 100}%, fee leaf {fee.address}\n"
    )

    click.echo("Contract")
    distributor = Distributor.deploy(
        operator,
        poster=poster.address,
        guardian=guardian.address,
        challenge_period=CHALLENGE_PERIOD,
        keeper=keeper.address,
    )
    _step(f"deployed LivepoolDistributor at {distributor.address}")
    _step(
        f"funded {_eth(10 * ETH)} (the orchestrator's ticket winnings)",
        distributor.fund(operator, 10 * ETH),
    )
    for miner in miners[3:]:
        ledger.set_payout(miner.address, "push", 0)
    _step(f"{len(miners) - 3} miners chose push payouts; the others claim themselves")

    paid_by_claim: dict[str, int] = {}
    for number in (0, 1):
        click.echo(f"\nEpoch {number}")
        _work_day(ledger, wallets, number, receipts)
        closed = epochs.close_epoch(
            ledger, number, now=GENESIS + (number + 1) * EPOCH_SECONDS + SETTLE_SECONDS
        )
        statement = load_statement(closed.statement)
        _step(
            f"closed: {closed.miners} miners, gross {_eth(statement.totals.gross)}, "
            f"pool {_eth(statement.pool.delta)}, overhead {_eth(statement.totals.overhead)}"
        )
        _step(f"root {closed.root}, total {_eth(closed.total)}")
        outcome = operations.propose_latest(ledger, distributor, poster)
        _step("poster proposed the root", outcome.sent)
        chain.pending_timestamp += CHALLENGE_PERIOD
        _step(f"{CHALLENGE_PERIOD} s pass: the challenge window closes")
        _, sent = operations.accept(ledger, distributor, keeper)
        _step("keeper accepted the root", sent)
        tree = epochs.epoch_tree(ledger, number)
        for miner in miners[:3]:
            sent, paid = operations.claim(distributor, miner, tree, miner.address)
            paid_by_claim[miner.address] = paid_by_claim.get(miner.address, 0) + paid
            _step(f"miner {miner.address[:10]}… claimed {_eth(paid)} from their wallet", sent)
        report = operations.push(ledger, distributor, keeper)
        for batch in report.batches:
            _step(
                f"keeper pushed {_eth(sum(batch.paid.values()))} to {len(batch.paid)} "
                f"miner{'s' if len(batch.paid) != 1 else ''} "
                f"(gas cost {batch.sent.cost:,} wei, charged next epoch)",
                batch.sent,
            )

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
    if not result.ok:
        raise click.ClickException("the audit found discrepancies")
