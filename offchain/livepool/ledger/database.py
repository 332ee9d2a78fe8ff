"""The ledger's database handle: engine set-up for SQLite (default) and PostgreSQL,
transactions, migration on open, and the few whole operations callers use directly.

Where the data lives: ``--database-url`` or the settings' ``database_url``
(``LIVEPOOL_DATABASE_URL``) when given, else a SQLite file ``<data dir>/livepool.db``
(``--data-dir`` or ``LIVEPOOL_DATA_DIR``, default ``./data``). SQLite runs in WAL mode
with ``synchronous=NORMAL`` (a power cut may lose the last transactions, never corrupt
the file) and foreign keys on; a write transaction starts with ``BEGIN IMMEDIATE`` so
two writers queue instead of failing half-way.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from livepool.config import PoolConfig, get_settings
from livepool.errors import LedgerError
from livepool.ledger import migrations, queries

__all__ = ["DATABASE_FILE", "Ledger", "normalize_url", "resolve_url"]

DATABASE_FILE: Final = "livepool.db"


def normalize_url(url: str) -> str:
    """Accept the URLs PostgreSQL hosts hand out: ``postgres://`` and a bare
    ``postgresql://`` (SQLAlchemy knows neither the first, nor a driver for the second)
    become ``postgresql+psycopg://``, the driver this project installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def resolve_url(
    database_url: str | None = None, data_dir: str | os.PathLike[str] | None = None
) -> str:
    """The database URL: the argument, else the settings' ``database_url``, else SQLite.

    SQLite's file is ``<data_dir>/livepool.db`` (``data_dir``, else the settings'
    ``data_dir``); the directory is created. Settings: :func:`livepool.config.get_settings`.
    """
    settings = get_settings()
    url = database_url or settings.database_url
    if url:
        return normalize_url(url)
    directory = Path(data_dir or settings.data_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LedgerError(f"data dir {directory}: cannot create it: {exc}") from None
    return f"sqlite:///{directory / DATABASE_FILE}"


#: SQLite's default automatic checkpoint (pages of WAL), restored after a bulk ingest.
_AUTOCHECKPOINT: Final = 1000


def _sqlite_engine(url: str, bulk: list[int]) -> Engine:
    """``bulk``: a one-item counter of :meth:`Ledger.bulk` blocks open; while it is above 0,
    write transactions leave WAL checkpoints to the end of the block."""
    engine = create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy's pysqlite recipe: the driver must not issue its own BEGIN, we do.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # 16 KiB pages (a new database only; WAL fixes the size once the file exists):
        # fewer, fuller B-tree pages for the receipts table, measured 1.2x at ingest.
        cursor.execute("PRAGMA page_size=16384")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-131072")  # 128 MiB: big ingests stay in memory
        # Sorts too big for the cache (a close's GROUP BY over 10**7 receipts) spill to
        # temporary files, not to memory: the close's memory stays bounded.
        cursor.execute("PRAGMA temp_store=FILE")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A reader (``Ledger.read``) takes a snapshot; everything else takes the write
        # lock up front, so a transaction never fails half-way on a busy database.
        if conn.get_execution_options().get("livepool_read"):
            conn.exec_driver_sql("BEGIN")
            return
        wanted = 0 if bulk[0] else _AUTOCHECKPOINT
        info = conn.info
        if info.get("livepool_autocheckpoint") != wanted:
            conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={wanted}")
            info["livepool_autocheckpoint"] = wanted
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Ledger:
    """A handle on the ledger database: engine, schema, shared queries.

    ``Ledger(url)`` opens (and by default migrates) the database at ``url`` (see
    :func:`resolve_url` for the default). Use :meth:`transaction` for every change —
    each state change is one transaction — and :meth:`read` for reads.
    """

    def __init__(
        self,
        database_url: str | None = None,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        migrate: bool = True,
    ) -> None:
        self.url = resolve_url(database_url, data_dir)
        self._bulk = [0]
        try:
            if self.url.startswith("sqlite"):
                self.engine = _sqlite_engine(self.url, self._bulk)
            else:
                self.engine = create_engine(self.url, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise LedgerError(f"database URL {self._safe_url}: {exc}") from None
        self.dialect: str = self.engine.dialect.name
        if migrate:
            self.migrate()

    @property
    def _safe_url(self) -> str:
        try:
            from sqlalchemy.engine import make_url

            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:  # pragma: no cover - only for error messages
            return "<unparsable URL>"

    def __repr__(self) -> str:
        return f"Ledger({self._safe_url!r})"

    @property
    def is_sqlite(self) -> bool:
        """``True`` on SQLite, ``False`` on PostgreSQL."""
        return self.dialect == "sqlite"

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise LedgerError(f"database: {exc.__class__.__name__}: {_first_line(exc)}") from exc

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """A block of many write transactions (a large ingest): on SQLite, WAL checkpoints
        wait for its end, where one checkpoint copies the pages back (measured ~1.2x over
        checkpointing every 1,000 pages, the checkpoint included). Nothing changes for
        durability: each transaction still commits to the WAL. No-op on PostgreSQL."""
        self._bulk[0] += 1
        try:
            yield
        finally:
            self._bulk[0] -= 1
            if self.is_sqlite and not self._bulk[0]:
                self.checkpoint()

    def checkpoint(self) -> None:
        """Copy the SQLite WAL back into the database (``PASSIVE``: it never waits for
        readers, whatever is still read stays for the next checkpoint)."""
        if not self.is_sqlite:
            return
        try:
            raw = self.engine.raw_connection()  # autocommit: not inside a BEGIN
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                raw.close()
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise LedgerError(f"database: checkpoint: {_first_line(exc)}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot (rolled back at the end)."""
        try:
            with self.engine.connect().execution_options(livepool_read=True) as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise LedgerError(f"database: {exc.__class__.__name__}: {_first_line(exc)}") from exc

    # ---- schema -------------------------------------------------------------------------

    def migrate(self) -> int:
        """Bring the schema to :data:`~livepool.ledger.migrations.SCHEMA_VERSION`; return
        it. Idempotent (:func:`livepool.ledger.migrations.migrate`)."""
        try:
            with self.engine.begin() as conn:
                return migrations.migrate(conn, self.dialect)
        except SQLAlchemyError as exc:
            raise LedgerError(
                f"database {self._safe_url}: cannot migrate: {_first_line(exc)}"
            ) from exc

    def version(self) -> int | None:
        """The applied schema version, ``None`` for an empty database."""
        with self.read() as conn:
            return migrations.applied_version(conn)

    # ---- whole operations (each its own transaction or snapshot) ------------------------

    def read_config(self, conn: Connection | None = None) -> PoolConfig:
        """The pool configuration (:func:`livepool.ledger.queries.read_config`)."""
        if conn is not None:
            return queries.read_config(conn)
        with self.read() as c:
            return queries.read_config(c)

    def last_closed(self, conn: Connection, *, lock: str | None = None) -> int | None:
        """The number of the last closed epoch (:func:`~livepool.ledger.queries.last_closed`)."""
        return queries.last_closed(conn, lock=lock)

    def count(self, table: Table) -> int:
        """Rows in ``table`` (tests, CLI summaries)."""
        with self.read() as conn:
            return queries.count(conn, table)

    def receipt(self, receipt_id: str) -> dict[str, Any] | None:
        """One stored receipt row as a dict, or ``None``."""
        with self.read() as conn:
            return queries.receipt_row(conn, receipt_id)

    def epoch_rows(self) -> list[dict[str, Any]]:
        """Every known epoch (open or closed), by number, without the statement text."""
        with self.read() as conn:
            return queries.epoch_rows(conn)

    def record_push(
        self,
        batch_id: str,
        tx_hash: str,
        gas_used: int,
        gas_price: int,
        miners: Sequence[str],
        *,
        pushed_at: int | None = None,
    ) -> bool:
        """Record a push transaction; its gas cost is charged as overhead at the next close.

        Idempotent on ``batch_id``: the same batch again is a no-op (``False``); the same
        id with other content raises :class:`LedgerError`.
        """
        if min(gas_used, gas_price) < 0:
            raise LedgerError("push: gas_used and gas_price must be ≥ 0")
        row = {
            "batch_id": batch_id,
            "tx_hash": tx_hash,
            "gas_used": gas_used,
            "gas_price": gas_price,
            "gas_cost": gas_used * gas_price,
            "miners": json.dumps(list(miners)),
            "pushed_at": int(time.time()) if pushed_at is None else pushed_at,
        }
        with self.transaction() as conn:
            return queries.record_push(conn, row)

    def chain_action(self, kind: str, key: str) -> dict[str, Any] | None:
        """The recorded state of one chain action, or ``None``."""
        with self.read() as conn:
            return queries.get_chain_action(conn, kind, key)

    def chain_actions(self, kind: str, *, state: str | None = None) -> list[dict[str, Any]]:
        """Every recorded action of ``kind`` (optionally in ``state``), oldest first."""
        with self.read() as conn:
            return queries.list_chain_actions(conn, kind, state=state)

    def set_chain_action(
        self,
        kind: str,
        key: str,
        state: str,
        *,
        tx_hash: str | None = None,
        block: int | None = None,
        payload: dict[str, Any] | None = None,
        note: str | None = None,
    ) -> None:
        """Write an action's new state (one transaction). A confirmed action stays so."""
        given = {
            "tx_hash": tx_hash,
            "block": block,
            "payload": None if payload is None else json.dumps(payload, sort_keys=True),
            "note": note,
        }
        values = {k: v for k, v in given.items() if v is not None}
        with self.transaction() as conn:
            queries.set_chain_action(conn, kind, key, state, values)

    def set_payout(self, address: str, mode: str, threshold: int = 0) -> None:
        """Record a miner's payout choice (``push`` with a threshold in wei, or ``claim``)."""
        with self.transaction() as conn:
            queries.set_payout(conn, address, mode, threshold)

    def payout_settings(self) -> list[dict[str, Any]]:
        """Every miner's payout choice, by address."""
        with self.read() as conn:
            return queries.list_payout_settings(conn)

    def update_nodes(self, updates: Sequence[dict[str, Any]]) -> None:
        """Apply rig status updates (:func:`~livepool.ledger.queries.update_node`'s
        keyword arguments) in one transaction."""
        with self.transaction() as conn:
            for update in updates:
                queries.update_node(conn, **update)

    def node_rows(self, address: str | None = None) -> list[dict[str, Any]]:
        """Rigs and their status, optionally for one miner."""
        with self.read() as conn:
            return queries.list_nodes(conn, address)

    def cursor(self, key: str) -> str | None:
        """A stored cursor (e.g. ``poll:<url>``: the last successful poll), or ``None``."""
        with self.read() as conn:
            return queries.get_meta(conn, key)

    def set_cursor(self, key: str, value: str) -> None:
        """Store a cursor (one transaction)."""
        with self.transaction() as conn:
            queries.set_meta(conn, key, value)


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
