"""The one exception tree of the package.

Every error Livepool raises on purpose derives from :class:`LivepoolError`, so callers
(the CLI, the ape scripts) can tell a refused input or a failed precondition from
a bug. Messages are for people: they name the field, the value and what was expected.

    LivepoolError
    ├── ValidationError        bad input: a receipt, verdict, setting or dump field
    │   └── ingest.Rejected    an item an importer refused before ingest (kept in the report)
    ├── ConflictError          same idempotency key, different content
    ├── LedgerError            storage-level failure or inconsistency
    ├── EpochError             an epoch operation in the wrong state (close twice, …)
    ├── MerkleError            a tree, proof or dump that does not hold together
    └── ChainError             a chain precondition or transaction failed
"""

from __future__ import annotations

__all__ = [
    "ChainError",
    "ConflictError",
    "EpochError",
    "LedgerError",
    "LivepoolError",
    "MerkleError",
    "ValidationError",
]


class LivepoolError(Exception):
    """Base class of every error Livepool raises on purpose."""


class ValidationError(LivepoolError, ValueError):
    """Input that breaks a documented bound; the message names the field."""


class ConflictError(LivepoolError):
    """An idempotency key seen before with different content."""


class LedgerError(LivepoolError):
    """The ledger refused an operation or found itself inconsistent."""


class EpochError(LivepoolError):
    """An epoch operation asked for in a state that does not allow it."""


class MerkleError(LivepoolError, ValueError):
    """A tree, proof or dump that does not hold together."""


class ChainError(LivepoolError):
    """A chain precondition failed or a transaction did not go through."""
