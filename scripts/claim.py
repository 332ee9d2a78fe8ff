"""`ape run claim`: a miner claims their balance with their own ape account."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, account_option, ape_cli_context

from livepool.errors import LivepoolError
from livepool.merkle import MerkleTree
from livepool.operations import claim
from livepool.scripting import (
    address_option,
    confirm,
    confirmations_option,
    data_dir_option,
    open_distributor,
    yes_option,
)


def _load_tree(source: str) -> MerkleTree:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:
            return MerkleTree.load(response.read())
    return MerkleTree.load(Path(source).read_text())


@click.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option()
@click.option(
    "--tree",
    "tree_source",
    required=True,
    help="The epoch's OpenZeppelin tree dump: a file (`livepool epoch tree N`) or a URL.",
)
@click.option("--for", "beneficiary", default=None, help="Claim for this account (default: yours).")
@address_option
@data_dir_option
@confirmations_option
@yes_option
def cli(cli_ctx, network, account, tree_source, beneficiary, address, data_dir, yes, confirmations):
    """Claim what the active root owes you (or --for another account: anyone may)."""
    who = beneficiary or account.address
    try:
        tree = _load_tree(tree_source)
        distributor = open_distributor(network, data_dir, address, confirmations)
        confirm(yes, f"Claim for {who} from {distributor.address}?")
        sent, paid = claim(distributor, account, tree, who)
    except (LivepoolError, OSError, json.JSONDecodeError) as exc:
        raise click.ClickException(str(exc)) from None
    cli_ctx.logger.success(f"{who} was paid {paid} wei in {sent.tx_hash} (gas {sent.gas_used})")
