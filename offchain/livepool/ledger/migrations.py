"""The ledger's versioned migrations.

``schema_version`` holds the applied versions. A fresh database gets the current
``metadata`` in one go and is stamped :data:`SCHEMA_VERSION`; an older one runs the
functions of :data:`MIGRATIONS` above its version, in order, each in the same
transaction as its stamp. To change the schema: edit :mod:`livepool.ledger.schema`, bump
:data:`SCHEMA_VERSION` and append a migration that brings a database of the previous
version to the new shape (``ALTER TABLE …``). :func:`migrate` is idempotent and safe to
run from several processes at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from sqlalchemy import Connection, inspect, select, text

from livepool.errors import LedgerError
from livepool.ledger.schema import (
    api_tokens,
    archives,
    chain_actions,
    metadata,
    miner_value,
    payout_settings,
    receipts,
    rig_hours,
    rigs,
    schema_version,
    settings_nonces,
    settings_signatures,
)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "applied_version", "migrate"]

#: Tables that migration 2 added (migration 1 creates the others).
_V2_TABLES: Final = ("chain_actions", "payout_settings")
#: Tables that migration 3 added: the service's tokens and signed payout settings.
_V3_TABLES: Final = ("api_tokens", "settings_nonces", "settings_signatures")
#: Tables that migration 4 added: counters kept at ingest, and the archive register.
_V4_TABLES: Final = ("rig_hours", "rigs", "miner_value", "archives")

#: The schema version this code writes.
SCHEMA_VERSION: Final = 4

#: ``version -> migration``: brings a database at ``version - 1`` to ``version``.
MIGRATIONS: Final[dict[int, Callable[[Connection], None]]] = {
    1: lambda conn: _create_v1(conn),
    2: lambda conn: metadata.create_all(conn, tables=[chain_actions, payout_settings]),
    3: lambda conn: metadata.create_all(
        conn, tables=[api_tokens, settings_nonces, settings_signatures]
    ),
    4: lambda conn: _migrate_v4(conn),
}

#: The receipts index of schema versions 1–3, replaced by ``ix_receipts_epoch`` in 4.
_OLD_RECEIPTS_INDEX: Final = "ix_receipts_epoch_miner_node"


def _create_v1(conn: Connection) -> None:
    later = (*_V2_TABLES, *_V3_TABLES, *_V4_TABLES)
    metadata.create_all(conn, tables=[t for t in metadata.sorted_tables if t.name not in later])
    # Version 1 indexed receipts by (credited_epoch, transcoder, node); 4 replaces that.
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_receipts_epoch")
    conn.exec_driver_sql(
        f"CREATE INDEX {_OLD_RECEIPTS_INDEX} ON receipts (credited_epoch, transcoder, node)"
    )


def _migrate_v4(conn: Connection) -> None:
    """Schema 4 (issue 10): one receipts index on the epoch alone; the counters the service
    reads, filled from the receipts already stored; the archive register."""
    from livepool.ledger import counters

    conn.exec_driver_sql(f"DROP INDEX IF EXISTS {_OLD_RECEIPTS_INDEX}")
    next(i for i in receipts.indexes if i.name == "ix_receipts_epoch").create(conn)
    metadata.create_all(conn, tables=[rig_hours, rigs, miner_value, archives])
    counters.backfill(conn)


def applied_version(conn: Connection) -> int | None:
    """The applied schema version, ``None`` for a database without Livepool's schema."""
    if not inspect(conn).has_table("schema_version"):
        return None
    value = conn.execute(
        select(schema_version.c.version).order_by(schema_version.c.version.desc()).limit(1)
    ).scalar()
    return int(value) if value is not None else 0


def _stamp(conn: Connection, version: int) -> None:
    conn.execute(schema_version.insert(), [{"version": version, "applied_at": int(time.time())}])


def migrate(conn: Connection, dialect: str) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION` inside ``conn``'s transaction."""
    if dialect == "postgresql":
        # Two processes migrating at once: the second waits, then finds it done.
        conn.execute(text("SELECT pg_advisory_xact_lock(7146032501)"))
    current = applied_version(conn)
    if current is None:
        clash = set(inspect(conn).get_table_names()) & set(metadata.tables)
        if clash:
            raise LedgerError(
                f"database has Livepool tables ({', '.join(sorted(clash))}) "
                "but no schema_version: refusing to guess its version"
            )
        metadata.create_all(conn)
        _stamp(conn, SCHEMA_VERSION)
        return SCHEMA_VERSION
    if current > SCHEMA_VERSION:
        raise LedgerError(
            f"database schema version {current} is newer than this code's "
            f"{SCHEMA_VERSION}: upgrade livepool"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](conn)
        _stamp(conn, version)
    return SCHEMA_VERSION
