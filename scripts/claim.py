"""`ape run claim`: a miner claims their balance with their own ape account."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import click

from livepool.errors import LivepoolError
from livepool.merkle import MerkleTree
from livepool.operations import claim
from livepool.scripting import ScriptRun, operator_command


def _load_tree(source: str) -> MerkleTree:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:
            return MerkleTree.load(response.read())
    return MerkleTree.load(Path(source).read_text())


@operator_command(
    click.option(
        "--tree",
        "tree_source",
        required=True,
        help="The epoch's OpenZeppelin tree dump: a file (`livepool epoch tree N`) or a URL.",
    ),
    click.option(
        "--for", "beneficiary", default=None, help="Claim for this account (default: yours)."
    ),
    errors=(LivepoolError, OSError, json.JSONDecodeError),
)
def cli(run: ScriptRun, tree_source: str, beneficiary: str | None) -> None:
    """Claim what the active root owes you (or --for another account: anyone may)."""
    who = beneficiary or run.sender.address
    tree = _load_tree(tree_source)
    distributor = run.distributor()
    run.confirm(f"Claim for {who} from {distributor.address}?")
    sent, paid = claim(distributor, run.sender, tree, who)
    run.success(f"{who} was paid {paid} wei in {sent.tx_hash} (gas {sent.gas_used})")
