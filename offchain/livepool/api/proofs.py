"""Pre-serialised proof responses, one set per epoch, built once and kept in memory.

For each leaf of the epoch's tree the JSON of ``GET /v1/miners/{a}/proof`` is split
around the two chain-dependent amounts (``claimed``, ``claimable``): a request joins
five byte strings. The ``claim`` calldata is ABI-encoded here once per leaf.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from eth_abi.abi import encode as abi_encode

from livepool import epochs as _epochs
from livepool.hashing import keccak256
from livepool.ledger import Ledger

__all__ = ["EpochProofs", "ProofCache"]

#: ``claim(address,uint256,bytes32[])``'s selector.
CLAIM_SELECTOR = keccak256(b"claim(address,uint256,bytes32[])")[:4]


@dataclass(frozen=True, slots=True)
class EpochProofs:
    """Every leaf's pre-serialised proof response for one epoch."""

    epoch: int
    root: str
    # checksummed account -> (cumulative, head bytes, tail bytes)
    leaves: dict[str, tuple[int, bytes, bytes]]

    def render(self, account: str, claimed: int) -> bytes | None:
        """The response body for ``account`` given its on-chain ``claimed``."""
        leaf = self.leaves.get(account)
        if leaf is None:
            return None
        cumulative, head, tail = leaf
        claimable = max(0, cumulative - claimed)
        return b"".join(
            (head, str(claimed).encode(), b'","claimable":"', str(claimable).encode(), tail)
        )


def build(ledger: Ledger, epoch: int, contract: str | None, chain_id: int) -> EpochProofs:
    """Build the proof responses of closed ``epoch`` from its tree."""
    tree = _epochs.epoch_tree(ledger, epoch)
    root = tree.root_hex
    leaves: dict[str, tuple[int, bytes, bytes]] = {}
    contract_json = json.dumps(contract)
    for account, cumulative in tree.values:
        proof = tree.proof(account)
        proof_hex = ["0x" + p.hex() for p in proof]
        data = (
            "0x"
            + (
                CLAIM_SELECTOR
                + abi_encode(["address", "uint256", "bytes32[]"], [account, cumulative, proof])
            ).hex()
        )
        head = f'{{"account":"{account}","cumulative":"{cumulative}","claimed":"'.encode()
        tail = (
            f'","proof":{json.dumps(proof_hex, separators=(",", ":"))},"root":"{root}",'
            f'"epoch":{epoch},"contract":{contract_json},"chain_id":{chain_id},'
            f'"tx":{{"to":{contract_json},"data":"{data}","value":"0"}}}}'
        ).encode()
        leaves[account] = (cumulative, head, tail)
    return EpochProofs(epoch, root, leaves)


class ProofCache:
    """The proofs of the epochs asked for, built at most once each (thread-safe)."""

    def __init__(self, ledger: Ledger, contract: str | None, chain_id: int) -> None:
        self.ledger = ledger
        self.contract = contract
        self.chain_id = chain_id
        self._by_epoch: dict[int, EpochProofs] = {}
        self._lock = threading.Lock()

    def ready(self, epoch: int) -> EpochProofs | None:
        """The proofs of ``epoch`` if already built (never blocks)."""
        return self._by_epoch.get(epoch)

    def get(self, epoch: int) -> EpochProofs:
        """The proofs of closed ``epoch`` (built now if they were not yet)."""
        found = self._by_epoch.get(epoch)
        if found is not None:
            return found
        with self._lock:
            found = self._by_epoch.get(epoch)
            if found is None:
                found = build(self.ledger, epoch, self.contract, self.chain_id)
                # Only the newest few epochs are ever asked for: keep memory bounded.
                if len(self._by_epoch) >= 4:
                    self._by_epoch.pop(min(self._by_epoch))
                self._by_epoch[epoch] = found
            return found
