"""The ledger: every receipt, verdict, epoch, balance and push, in one database.

The only code in the package that speaks SQL. It holds no accounting logic (that is
:mod:`livepool.accounting`, driven by :mod:`livepool.epochs`).

- :mod:`~livepool.ledger.schema`: the tables (SQLAlchemy Core) and ``UInt256``;
- :mod:`~livepool.ledger.migrations`: the versioned schema migrations;
- :mod:`~livepool.ledger.queries`: every query, by name, on the caller's connection;
- :mod:`~livepool.ledger.database`: :class:`Ledger` (engine, transactions, whole
  operations) and :func:`resolve_url`.
"""

from __future__ import annotations

from livepool.config import DEFAULT_DATA_DIR
from livepool.ledger import queries, schema
from livepool.ledger.database import DATABASE_FILE, Ledger, resolve_url
from livepool.ledger.migrations import MIGRATIONS, SCHEMA_VERSION
from livepool.ledger.schema import *  # noqa: F403 - the tables, re-exported as they are

__all__ = [
    "DATABASE_FILE",
    "DEFAULT_DATA_DIR",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Ledger",
    "queries",
    "resolve_url",
    *schema.__all__,
]
