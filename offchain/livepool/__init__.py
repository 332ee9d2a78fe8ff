"""Livepool: the payout system of a Livepeer transcoding pool.

Receipts in, exact per-miner balances out, committed on-chain as an OpenZeppelin-compatible
Merkle root that miners claim against. See ``docs/architecture.md``.
"""

__version__ = "0.1.0"
