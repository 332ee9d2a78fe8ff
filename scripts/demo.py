"""`ape run demo` (what `make demo` runs): the distributor's life on ape's local chain.

Deploy → fund → propose epoch 1 → wait out the challenge window → accept → miners claim →
the keeper pushes to the rest → epoch 2 → top-up claims of the difference only. Each step
prints what it did and the gas it cost. Nothing here needs a key or a network beyond the
in-process test chain; `--network` selects another (e.g. ethereum:local:foundry).
"""

from __future__ import annotations

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from livepool.merkle import MerkleTree

ETH = 10**18
CHALLENGE_PERIOD = 3_600


def _eth(wei: int) -> str:
    return f"{wei / ETH:,.6f} ETH"


def _step(title: str, tx=None) -> None:
    gas = f"  [gas {tx.gas_used:,}]" if tx is not None else ""
    click.echo(f"• {title}{gas}")


@click.command(cls=ConnectedProviderCommand)
def cli() -> None:
    """Play the distributor's life on the local chain, printing each step and its gas."""
    test = accounts.test_accounts
    operator, poster, guardian, keeper = test[0], test[1], test[2], test[3]
    miners = [test[i] for i in range(4, 9)]

    click.echo(f"Chain {chain.chain_id}, block {chain.blocks.height}\n")
    distributor = project.LivepoolDistributor.deploy(
        poster, guardian, CHALLENGE_PERIOD, sender=operator
    )
    _step(f"deployed LivepoolDistributor at {distributor.address}")
    click.echo(f"    owner {operator.address}\n    poster {poster.address}")
    click.echo(f"    guardian {guardian.address}\n    challenge period {CHALLENGE_PERIOD} s")

    tx = operator.transfer(distributor, 10 * ETH)
    _step(f"operator funds the pool with {_eth(10 * ETH)}", tx)

    earnings = [(m.address, (i + 1) * ETH // 4) for i, m in enumerate(miners)]
    for epoch, scale in ((1, 1), (2, 2)):
        values = [(a, v * scale) for a, v in earnings]
        tree = MerkleTree.build(values)
        total = sum(v for _, v in values)
        click.echo(f"\nEpoch {epoch}: {len(values)} miners, total {_eth(total)}")
        click.echo(f"    root {tree.root_hex}")
        tx = distributor.propose_root(tree.root, epoch, total, b"\x00" * 32, sender=poster)
        _step("poster proposes the root", tx)
        chain.pending_timestamp += CHALLENGE_PERIOD
        _step(f"{CHALLENGE_PERIOD} s pass: the challenge window closes")
        tx = distributor.accept_root(sender=keeper)
        _step("keeper accepts the root", tx)

        for miner, (account, cumulative) in zip(miners[:3], values[:3], strict=True):
            tx = distributor.claim(account, cumulative, tree.proof(account), sender=miner)
            paid = tx.events.filter(distributor.Claimed)[0].amount
            _step(f"miner {account[:10]}… claims {_eth(paid)} (cumulative {_eth(cumulative)})", tx)
        rest = values[3:]
        tx = distributor.claim_many(
            [a for a, _ in rest],
            [v for _, v in rest],
            [tree.proof(a) for a, _ in rest],
            sender=keeper,
        )
        pushed = sum(e.amount for e in tx.events.filter(distributor.Claimed))
        _step(f"keeper pushes {_eth(pushed)} to {len(rest)} miners in one claim_many", tx)

    click.echo("\nFinal state")
    click.echo(f"    total claimed {_eth(distributor.total_claimed())}")
    click.echo(f"    balance       {_eth(distributor.balance)}")
    click.echo(f"    surplus       {_eth(distributor.surplus())} (what the owner may withdraw)")
