"""The ledger: every receipt, verdict, epoch, balance and push, in one database.

This module owns the schema (SQLAlchemy Core ``Table`` definitions), the small versioned
migration scheme, the engine set-up for SQLite (default) and PostgreSQL, and the few
queries other modules share. It is the only module that talks to the database; it holds
no accounting logic (that is :mod:`livepool.accounting`, driven by
:mod:`livepool.epochs`).

Where the data lives: ``LIVEPOOL_DATABASE_URL`` (or ``--database-url``) when given,
else a SQLite file ``<data dir>/livepool.db`` (data dir default ``./data``, or
``LIVEPOOL_DATA_DIR``). SQLite runs in WAL mode with ``synchronous=NORMAL`` (a power cut
may lose the last transactions, never corrupt the file) and foreign keys on; a write
transaction starts with ``BEGIN IMMEDIATE`` so two writers queue instead of failing
half-way.

Amounts that may exceed 64 bits (prices, wei) use :class:`UInt256`: ``NUMERIC(78, 0)``
on PostgreSQL, a decimal string on SQLite (whose integers stop at 2**63).

Migrations: ``schema_version`` holds the applied version. A fresh database gets the
current ``metadata`` in one go and is stamped :data:`SCHEMA_VERSION`; an older one runs
the functions of :data:`MIGRATIONS` above its version, in order, each in the same
transaction as its stamp. To change the schema: edit the tables here, bump
:data:`SCHEMA_VERSION` and append a migration that brings a database of the previous
version to the new shape (``ALTER TABLE …``). :meth:`Ledger.migrate` is idempotent and
safe to run from several processes at once.

Serialisation of closes and ingests: the ``meta`` row ``last_closed`` is the epoch
lock. Ingest reads it ``FOR SHARE`` (to credit late receipts to the open epoch), a close
updates it ``FOR UPDATE``; on SQLite the single writer gives the same guarantee.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeDecorator, TypeEngine

from livepool.errors import LedgerError

__all__ = [
    "DEFAULT_DATA_DIR",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Ledger",
    "UInt256",
    "balances",
    "chain_actions",
    "commission_changes",
    "epochs",
    "meta",
    "metadata",
    "nodes",
    "payout_settings",
    "push_batches",
    "receipts",
    "resolve_url",
    "schema_version",
    "verdicts",
]

DEFAULT_DATA_DIR: Final = "./data"
DATABASE_FILE: Final = "livepool.db"


class UInt256(TypeDecorator[int]):
    """A non-negative integer up to 2**256: NUMERIC(78,0) on PostgreSQL, text on SQLite."""

    impl = String(78)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(78, 0, asdecimal=True))
        return dialect.type_descriptor(String(78))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return int(value)
        return str(int(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return int(value)
        return int(value)


# --- schema -----------------------------------------------------------------------------

metadata = MetaData()

#: The applied schema version (one row per applied version).
schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", BigInteger, nullable=False),
)

#: Small key/value state: pool configuration (``config``, JSON), the epoch lock
#: (``last_closed``), poller cursors (``poll:<url>``).
meta = Table(
    "meta",
    metadata,
    Column("key", String(256), primary_key=True),
    Column("value", Text, nullable=False),
)

#: Every accepted receipt, all fields. ``epoch`` is the window its ``finished_at`` falls
#: in; ``credited_epoch`` the epoch it is accounted in (later when ``epoch`` was already
#: closed on arrival). ``flagged`` says why it failed the plausibility check (credited
#: nothing, charged). ``digest`` = keccak256 of its canonical bytes: the idempotency
#: fingerprint and the statement's receipt digest.
receipts = Table(
    "receipts",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("orchestrator", String(42), nullable=False),
    Column("transcoder", String(42), nullable=False),
    Column("stream", String(128), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=False),
    Column("duration_ms", BigInteger, nullable=False),
    Column("latency_ms", BigInteger, nullable=False),
    Column("pixels_decoded", BigInteger, nullable=False),
    Column("pixels_encoded", BigInteger, nullable=False),
    Column("price_per_unit", UInt256, nullable=False),
    Column("pixels_per_unit", UInt256, nullable=False),
    Column("status", String(8), nullable=False),
    Column("node", String(128)),
    Column("region", String(64)),
    Column("broadcaster", String(42)),
    Column("round", BigInteger),
    Column("profiles", Text),  # JSON array, when given
    Column("renditions", Text),  # JSON array of objects, when given
    Column("epoch", BigInteger, nullable=False),
    Column("credited_epoch", BigInteger, nullable=False),
    Column("flagged", Text),
    Column("digest", LargeBinary(32), nullable=False),
    Column("received_at", BigInteger, nullable=False),
    # One secondary index serves the close (per epoch), a miner's work in an epoch and
    # its rigs' (per node) in that epoch; per-miner history across epochs is in
    # ``balances``. Each further index on this table costs ~30 % of ingest speed.
    Index("ix_receipts_epoch_miner_node", "credited_epoch", "transcoder", "node"),
)

#: Failed verifications, one per receipt (the idempotency key is ``receipt_id``).
#: ``charged_epoch``: the epoch that charges it (the receipt's, or the open one when that
#: was already closed on arrival).
verdicts = Table(
    "verdicts",
    metadata,
    Column("receipt_id", String(128), ForeignKey("receipts.id"), primary_key=True),
    Column("ok", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("digest", LargeBinary(32), nullable=False),
    Column("charged_epoch", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Index("ix_verdicts_epoch", "charged_epoch"),
)

#: Epochs: ``open`` until closed; a closed epoch holds its statement (canonical JSON),
#: ``data_hash``, Merkle ``root``, ``total`` and the settings it was closed with. Later
#: states (``proposed``, ``active``) belong to the chain side.
epochs = Table(
    "epochs",
    metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("start", BigInteger, nullable=False),
    Column("end", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("settings", Text),
    Column("statement", Text),
    Column("data_hash", String(66)),
    Column("root", String(66)),
    Column("total", UInt256),
    Column("closed_at", BigInteger),
    Index("ix_epochs_state", "state"),
)

_AMOUNT_COLUMNS: Final = (
    "pixels",
    "pixels_decoded",
    "gross",
    "commission",
    "penalty",
    "clawback",
    "overhead",
    "debt_in",
    "debt",
    "delta",
    "cumulative",
)

#: Per (epoch, account) balances of a closed epoch; ``role`` is ``miner`` or ``pool``
#: (the fee leaf). ``debt`` is the debt carried out of the epoch.
balances = Table(
    "balances",
    metadata,
    Column("epoch", BigInteger, ForeignKey("epochs.number"), primary_key=True),
    Column("address", String(42), primary_key=True),
    Column("role", String(8), nullable=False),
    Column("segments", BigInteger, nullable=False),
    Column("failed_segments", BigInteger, nullable=False),
    Column("charged_segments", BigInteger, nullable=False),
    *(Column(name, UInt256, nullable=False) for name in _AMOUNT_COLUMNS),
    Index("ix_balances_address", "address", "epoch"),
)

#: Push transactions (batch payouts): their actual gas cost is split among the batch's
#: miners as overhead in the next epoch closed (``charged_epoch``, NULL until then).
push_batches = Table(
    "push_batches",
    metadata,
    Column("batch_id", String(128), primary_key=True),
    Column("tx_hash", String(66), nullable=False),
    Column("gas_used", UInt256, nullable=False),
    Column("gas_price", UInt256, nullable=False),
    Column("gas_cost", UInt256, nullable=False),
    Column("miners", Text, nullable=False),  # JSON array of checksummed addresses
    Column("pushed_at", BigInteger, nullable=False),
    Column("charged_epoch", BigInteger),
    Index("ix_push_batches_epoch", "charged_epoch"),
)

#: Commission history: ``commission_bps`` applies from ``effective_epoch`` on.
commission_changes = Table(
    "commission_changes",
    metadata,
    Column("effective_epoch", BigInteger, primary_key=True, autoincrement=False),
    Column("commission_bps", Integer, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
)

#: Rigs (nodes) and their last known status, from Open Pool non-job events.
nodes = Table(
    "nodes",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("node", String(128), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("last_event", String(64), nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Column("region", String(64)),
    Column("detail", Text),
    Index("ix_nodes_status", "status"),
)

#: Chain actions as state machines (prepared → confirmed | abandoned): proposals,
#: acceptances and push batches. Written *before* a transaction is sent, so a crash
#: between sending and recording is found and settled from the chain on the next run.
chain_actions = Table(
    "chain_actions",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("tx_hash", String(66)),
    Column("block", BigInteger),
    Column("payload", Text),
    Column("note", Text),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_chain_actions_state", "kind", "state"),
)

#: Each miner's payout choice: ``push`` (the pool pays when the claimable balance reaches
#: ``threshold`` wei) or ``claim`` (the miner claims from their wallet; the default).
payout_settings = Table(
    "payout_settings",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("mode", String(8), nullable=False),
    Column("threshold", UInt256, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

CHAIN_ACTION_STATES: Final = ("prepared", "confirmed", "abandoned")
PAYOUT_MODES: Final = ("push", "claim")

#: Tables that migration 2 added (migration 1 creates the others).
_V2_TABLES: Final = ("chain_actions", "payout_settings")

#: The schema version this code writes.
SCHEMA_VERSION: Final = 3

#: ``version -> migration``: brings a database at ``version - 1`` to ``version``.
MIGRATIONS: Final[dict[int, Callable[[Connection], None]]] = {
    1: lambda conn: metadata.create_all(
        conn, tables=[t for t in metadata.sorted_tables if t.name not in _V2_TABLES]
    ),
    2: lambda conn: metadata.create_all(conn, tables=[chain_actions, payout_settings]),
    # Version 3: the service's tables, defined in livepool.servicedb (imported at the end).
    3: lambda conn: _servicedb.migrate_v3(conn),
}


# --- engine -----------------------------------------------------------------------------


def resolve_url(
    database_url: str | None = None, data_dir: str | os.PathLike[str] | None = None
) -> str:
    """The database URL: the argument, else ``LIVEPOOL_DATABASE_URL``, else SQLite.

    SQLite's file is ``<data_dir>/livepool.db`` (``data_dir``, else
    ``LIVEPOOL_DATA_DIR``, else ``./data``); the directory is created.
    """
    url = database_url or os.environ.get("LIVEPOOL_DATABASE_URL")
    if url:
        return url
    directory = Path(data_dir or os.environ.get("LIVEPOOL_DATA_DIR") or DEFAULT_DATA_DIR)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LedgerError(f"data dir {directory}: cannot create it: {exc}") from None
    return f"sqlite:///{directory / DATABASE_FILE}"


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy's pysqlite recipe: the driver must not issue its own BEGIN, we do.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-131072")  # 128 MiB: big ingests stay in memory
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A reader (``Ledger.read``) takes a snapshot; everything else takes the write
        # lock up front, so a transaction never fails half-way on a busy database.
        if conn.get_execution_options().get("livepool_read"):
            conn.exec_driver_sql("BEGIN")
        else:
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
        try:
            if self.url.startswith("sqlite"):
                self.engine = _sqlite_engine(self.url)
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
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot (rolled back at the end)."""
        try:
            with self.engine.connect().execution_options(livepool_read=True) as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise LedgerError(f"database: {exc.__class__.__name__}: {_first_line(exc)}") from exc

    # ---- migrations ---------------------------------------------------------------------

    def migrate(self) -> int:
        """Bring the schema to :data:`SCHEMA_VERSION`; return it. Idempotent."""
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    # Two processes migrating at once: the second waits, then finds it done.
                    conn.execute(text("SELECT pg_advisory_xact_lock(7146032501)"))
                current = self._version(conn)
                if current is None:
                    existing = set(inspect(conn).get_table_names())
                    clash = existing & set(metadata.tables)
                    if clash:
                        raise LedgerError(
                            f"database has Livepool tables ({', '.join(sorted(clash))}) "
                            "but no schema_version: refusing to guess its version"
                        )
                    metadata.create_all(conn)
                    conn.execute(
                        schema_version.insert(),
                        [{"version": SCHEMA_VERSION, "applied_at": int(time.time())}],
                    )
                    return SCHEMA_VERSION
                if current > SCHEMA_VERSION:
                    raise LedgerError(
                        f"database schema version {current} is newer than this code's "
                        f"{SCHEMA_VERSION}: upgrade livepool"
                    )
                for version in range(current + 1, SCHEMA_VERSION + 1):
                    MIGRATIONS[version](conn)
                    conn.execute(
                        schema_version.insert(),
                        [{"version": version, "applied_at": int(time.time())}],
                    )
                return SCHEMA_VERSION
        except SQLAlchemyError as exc:
            raise LedgerError(
                f"database {self._safe_url}: cannot migrate: {_first_line(exc)}"
            ) from exc

    @staticmethod
    def _version(conn: Connection) -> int | None:
        if not inspect(conn).has_table("schema_version"):
            return None
        value = conn.execute(
            select(schema_version.c.version).order_by(schema_version.c.version.desc()).limit(1)
        ).scalar()
        return int(value) if value is not None else 0

    def version(self) -> int | None:
        """The applied schema version, ``None`` for an empty database."""
        with self.read() as conn:
            return self._version(conn)

    # ---- meta -----------------------------------------------------------------------------

    @staticmethod
    def get_meta(conn: Connection, key: str, *, lock: str | None = None) -> str | None:
        """The ``meta`` value for ``key``; ``lock`` = ``"share"`` or ``"update"`` locks it
        (PostgreSQL; SQLite's single writer makes it moot)."""
        query = select(meta.c.value).where(meta.c.key == key)
        if lock == "share":
            query = query.with_for_update(read=True)
        elif lock == "update":
            query = query.with_for_update()
        return conn.execute(query).scalar()

    def set_meta(self, conn: Connection, key: str, value: str) -> None:
        """Insert or replace the ``meta`` value for ``key``."""
        updated = conn.execute(meta.update().where(meta.c.key == key).values(value=value))
        if not updated.rowcount:
            conn.execute(meta.insert().values(key=key, value=value))

    def last_closed(self, conn: Connection, *, lock: str | None = None) -> int | None:
        """The number of the last closed epoch, ``None`` before the first close."""
        value = self.get_meta(conn, "last_closed", lock=lock)
        if value is None and lock is not None:
            # Make the lock row exist, so the next reader has something to lock.
            self._ensure_lock_row(conn)
            value = self.get_meta(conn, "last_closed", lock=lock)
        return None if value in (None, "") else int(value)

    def _ensure_lock_row(self, conn: Connection) -> None:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            conn.execute(
                pg_insert(meta).values(key="last_closed", value="").on_conflict_do_nothing()
            )
        else:
            conn.exec_driver_sql(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('last_closed', '')"
            )

    def get_config(self, conn: Connection | None = None) -> dict[str, Any]:
        """The stored pool configuration (a JSON object; empty before ``configure``)."""
        if conn is None:
            with self.read() as c:
                return self.get_config(c)
        value = self.get_meta(conn, "config")
        return json.loads(value) if value else {}

    def set_config(self, conn: Connection, config: dict[str, Any]) -> None:
        """Store the pool configuration (validated by the caller, :mod:`livepool.epochs`)."""
        self.set_meta(conn, "config", json.dumps(config, sort_keys=True))

    # ---- small shared queries ---------------------------------------------------------------

    def count(self, table: Table) -> int:
        """Rows in ``table`` (tests, CLI summaries)."""
        from sqlalchemy import func

        with self.read() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)

    def receipt(self, receipt_id: str) -> dict[str, Any] | None:
        """One stored receipt row as a dict, or ``None``."""
        with self.read() as conn:
            row = conn.execute(select(receipts).where(receipts.c.id == receipt_id)).first()
            return dict(row._mapping) if row else None

    def epoch_rows(self) -> list[dict[str, Any]]:
        """Every known epoch (open or closed), by number, without the statement text."""
        cols = [c for c in epochs.c if c.name not in ("statement", "settings")]
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(select(*cols).order_by(epochs.c.number))]

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
            old = conn.execute(
                select(push_batches).where(push_batches.c.batch_id == batch_id)
            ).first()
            if old is not None:
                same = all(old._mapping[k] == row[k] for k in row if k != "pushed_at")
                if not same:
                    raise LedgerError(f"push batch {batch_id}: recorded before with other content")
                return False
            conn.execute(push_batches.insert().values(**row))
            return True

    # ---- chain actions and payout settings ----------------------------------------------

    def chain_action(self, kind: str, key: str) -> dict[str, Any] | None:
        """The recorded state of one chain action, or ``None``."""
        c = chain_actions.c
        with self.read() as conn:
            row = conn.execute(select(chain_actions).where(c.kind == kind, c.key == key)).first()
            return dict(row._mapping) if row else None

    def chain_actions(self, kind: str, *, state: str | None = None) -> list[dict[str, Any]]:
        """Every recorded action of ``kind`` (optionally in ``state``), oldest first."""
        c = chain_actions.c
        query = select(chain_actions).where(c.kind == kind)
        if state is not None:
            query = query.where(c.state == state)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query.order_by(c.updated_at, c.key))]

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
        if state not in CHAIN_ACTION_STATES:
            raise LedgerError(f"chain action state must be one of {CHAIN_ACTION_STATES}")
        c = chain_actions.c
        values: dict[str, Any] = {"state": state, "updated_at": int(time.time())}
        if tx_hash is not None:
            values["tx_hash"] = tx_hash
        if block is not None:
            values["block"] = block
        if payload is not None:
            values["payload"] = json.dumps(payload, sort_keys=True)
        if note is not None:
            values["note"] = note
        with self.transaction() as conn:
            old = conn.execute(select(c.state).where(c.kind == kind, c.key == key)).scalar()
            if old is None:
                conn.execute(chain_actions.insert().values(kind=kind, key=key, **values))
            elif old == "confirmed" and state != "confirmed":
                raise LedgerError(f"{kind} {key}: already confirmed, cannot become {state}")
            else:
                conn.execute(
                    chain_actions.update().where(c.kind == kind, c.key == key).values(**values)
                )

    def set_payout(self, address: str, mode: str, threshold: int = 0) -> None:
        """Record a miner's payout choice (``push`` with a threshold in wei, or ``claim``)."""
        if mode not in PAYOUT_MODES:
            raise LedgerError(f"payout mode must be one of {PAYOUT_MODES}, got {mode!r}")
        if threshold < 0:
            raise LedgerError(f"payout threshold must be ≥ 0 wei, got {threshold}")
        row = {"mode": mode, "threshold": threshold, "updated_at": int(time.time())}
        with self.transaction() as conn:
            updated = conn.execute(
                payout_settings.update().where(payout_settings.c.address == address).values(**row)
            ).rowcount
            if not updated:
                conn.execute(payout_settings.insert().values(address=address, **row))

    def payout_settings(self) -> list[dict[str, Any]]:
        """Every miner's payout choice, by address."""
        with self.read() as conn:
            rows = conn.execute(select(payout_settings).order_by(payout_settings.c.address))
            return [dict(r._mapping) for r in rows]

    def update_node(
        self,
        conn: Connection,
        *,
        address: str,
        node: str,
        status: str,
        event_name: str,
        seen_at: int,
        region: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Upsert a rig's status; an older event than the stored one changes nothing."""
        key = (nodes.c.address == address) & (nodes.c.node == node)
        old = conn.execute(select(nodes.c.last_seen).where(key)).scalar()
        values = {
            "status": status,
            "last_event": event_name,
            "last_seen": seen_at,
            "region": region,
            "detail": detail,
        }
        if old is None:
            conn.execute(nodes.insert().values(address=address, node=node, **values))
        elif seen_at >= old:
            conn.execute(nodes.update().where(key).values(**values))

    def node_rows(self, address: str | None = None) -> list[dict[str, Any]]:
        """Rigs and their status, optionally for one miner."""
        query = select(nodes).order_by(nodes.c.address, nodes.c.node)
        if address is not None:
            query = query.where(nodes.c.address == address)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]


# --- schema version 3: the service's tables live in livepool.servicedb ------------------
# Imported last: it defines its tables on ``metadata`` (so a fresh database gets them).
from livepool import servicedb as _servicedb  # noqa: E402
