"""Every query the rest of the package runs, by name; each takes the caller's connection.

The caller (:class:`~livepool.ledger.Ledger`'s own methods, :mod:`livepool.epochs`,
:mod:`livepool.ingest`, :mod:`livepool.openpool`) owns the transaction, so several
queries make one state change. Grouped by who needs them: meta and the epoch lock, pool
configuration, the close of an epoch, ingest, rigs, pushes, chain actions and payouts.

The epoch lock: the ``meta`` row ``last_closed``. Ingest reads it ``FOR SHARE`` (to
credit late receipts to the open epoch), a close updates it ``FOR UPDATE``; on SQLite
the single writer gives the same guarantee.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

import psycopg
from sqlalchemy import Connection, Table, exists, func, select

from livepool.accounting import EpochResult, MinerBalance
from livepool.config import PoolConfig
from livepool.errors import LedgerError
from livepool.ledger.schema import (
    AMOUNT_COLUMNS,
    CHAIN_ACTION_STATES,
    PAYOUT_MODES,
    archives,
    balances,
    chain_actions,
    commission_changes,
    epochs_table,
    meta,
    nodes,
    payout_settings,
    push_batches,
    receipts,
    rigs,
    verdicts,
)

__all__ = [
    "RECEIPT_COLUMNS",
    "EpochSums",
    "archive_row",
    "archived_through",
    "charge_pushes",
    "charged_receipts",
    "count",
    "delete_archived_rows",
    "ensure_open_epochs",
    "epoch_digests",
    "epoch_receipt_rows",
    "epoch_row",
    "epoch_row_counts",
    "epoch_rows",
    "epoch_sums",
    "epoch_verdict_rows",
    "first_open_epoch",
    "get_chain_action",
    "get_meta",
    "has_receipts",
    "insert_balances",
    "insert_verdicts",
    "last_closed",
    "list_archives",
    "list_chain_actions",
    "list_nodes",
    "list_payout_settings",
    "previous_balances",
    "read_config",
    "receipt_paying",
    "receipt_row",
    "record_archive",
    "record_commission",
    "record_push",
    "save_closed_epoch",
    "set_chain_action",
    "set_meta",
    "set_payout",
    "store_receipts",
    "update_node",
    "verdict_digests",
    "verdict_targets",
    "write_config",
]

# --- meta and the epoch lock -------------------------------------------------------------


def get_meta(conn: Connection, key: str, *, lock: str | None = None) -> str | None:
    """The ``meta`` value for ``key``; ``lock`` = ``"share"`` or ``"update"`` locks it
    (PostgreSQL; SQLite's single writer makes it moot)."""
    query = select(meta.c.value).where(meta.c.key == key)
    if lock == "share":
        query = query.with_for_update(read=True)
    elif lock == "update":
        query = query.with_for_update()
    return conn.execute(query).scalar()


def set_meta(conn: Connection, key: str, value: str) -> None:
    """Insert or replace the ``meta`` value for ``key``."""
    updated = conn.execute(meta.update().where(meta.c.key == key).values(value=value))
    if not updated.rowcount:
        conn.execute(meta.insert().values(key=key, value=value))


def last_closed(conn: Connection, *, lock: str | None = None) -> int | None:
    """The number of the last closed epoch, ``None`` before the first close."""
    value = get_meta(conn, "last_closed", lock=lock)
    if value is None and lock is not None:
        # Make the lock row exist, so the next reader has something to lock.
        _ensure_lock_row(conn)
        value = get_meta(conn, "last_closed", lock=lock)
    return None if value in (None, "") else int(value)


def _ensure_lock_row(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(meta).values(key="last_closed", value="").on_conflict_do_nothing())
    else:
        conn.exec_driver_sql("INSERT OR IGNORE INTO meta (key, value) VALUES ('last_closed', '')")


# --- pool configuration --------------------------------------------------------------------


def read_config(conn: Connection) -> PoolConfig:
    """The stored pool configuration with its commission history (defaults before
    anything was configured)."""
    value = get_meta(conn, "config")
    stored = json.loads(value) if value else {}
    t = commission_changes
    rows = conn.execute(
        select(t.c.effective_epoch, t.c.commission_bps).order_by(t.c.effective_epoch)
    )
    history = tuple((int(e), int(b)) for e, b in rows)
    return PoolConfig.make(**stored, commission=history)


def write_config(conn: Connection, config: PoolConfig) -> None:
    """Store ``config`` (its commission history is written by :func:`record_commission`)."""
    set_meta(conn, "config", json.dumps(config.stored(), sort_keys=True))


def record_commission(conn: Connection, effective: int, bps: int, now: int) -> None:
    """Commission ``bps`` from epoch ``effective`` on; a second change for the same epoch
    (not yet in force) replaces the first."""
    t = commission_changes
    where = t.c.effective_epoch == effective
    values = {"commission_bps": bps, "changed_at": now}
    if conn.execute(select(t.c.commission_bps).where(where)).scalar() is None:
        conn.execute(t.insert().values(effective_epoch=effective, **values))
    else:
        conn.execute(t.update().where(where).values(**values))


def has_receipts(conn: Connection) -> bool:
    """Whether any receipt is stored, or was and has been archived (its epoch still
    depends on the genesis and epoch length)."""
    if conn.execute(select(receipts.c.id).limit(1)).first() is not None:
        return True
    return conn.execute(select(archives.c.epoch).limit(1)).first() is not None


def receipt_paying(conn: Connection, address: str) -> str | None:
    """Some receipt that pays ``address`` (``receipt 'id'``), or ``None``.

    ``rigs`` (keyed by miner) says whether there is one without a scan; then the search
    starts at the epoch of the miner's first receipt (receipts are indexed by epoch
    only). A miner whose receipts were all archived is named by its first rig."""
    g = rigs.c
    first = conn.execute(
        select(g.node, g.first_seen).where(g.transcoder == address).order_by(g.first_seen).limit(1)
    ).first()
    if first is None:
        return None
    config = read_config(conn)
    epoch = max(0, (int(first.first_seen) - config.genesis) // config.epoch_seconds)
    query = (
        select(receipts.c.id)
        .where(receipts.c.credited_epoch >= epoch, receipts.c.transcoder == address)
        .limit(1)
    )
    found = conn.execute(query).scalar()
    if found is not None:
        return f"receipt {found!r}"
    return f"archived receipts of rig {first.node!r}"


# --- closing an epoch ------------------------------------------------------------------------

_FLAGGED: Final = receipts.c.flagged.isnot(None)
#: One receipt's facts, as the per-row queries of the close read them.
_SEGMENT: Final = (
    receipts.c.transcoder,
    receipts.c.price_per_unit,
    receipts.c.pixels_per_unit,
    receipts.c.status,
    _FLAGGED,
    receipts.c.pixels_encoded,
    receipts.c.pixels_decoded,
)


def first_open_epoch(conn: Connection) -> int | None:
    """The lowest epoch with anything credited or charged (before the first close)."""
    r = conn.execute(select(func.min(receipts.c.credited_epoch))).scalar()
    v = conn.execute(select(func.min(verdicts.c.charged_epoch))).scalar()
    found = [int(x) for x in (r, v) if x is not None]
    return min(found) if found else None


def epoch_row(conn: Connection, number: int) -> Any:
    """The ``epochs`` row of ``number`` (statement included), or ``None``."""
    return conn.execute(select(epochs_table).where(epochs_table.c.number == number)).first()


def epoch_rows(conn: Connection) -> list[dict[str, Any]]:
    """Every known epoch (open or closed), by number, without the statement text."""
    cols = [c for c in epochs_table.c if c.name not in ("statement", "settings")]
    rows = conn.execute(select(*cols).order_by(epochs_table.c.number))
    return [dict(r._mapping) for r in rows]


#: ``(miner, pixels_per_unit, status, flagged)`` -> ``[Σ enc·price, Σ dec·price, Σ enc,
#: Σ dec, segments]``: like segments of one epoch, summed exactly.
EpochSums = dict[tuple[str, int, str, bool], list[int]]

#: Rows per fetch of the close's passes over an epoch (memory holds one batch).
SCAN_BATCH: Final = 20_000
#: ``status`` and ``flagged`` folded into one small integer by the database (cheap to
#: hash): bit 0 = ok, bit 1 = flagged.
_KIND_SQL: Final = (
    "(CASE WHEN status = 'ok' THEN 1 ELSE 0 END + CASE WHEN flagged IS NULL THEN 0 ELSE 2 END)"
)
_KINDS: Final = {0: ("failed", False), 1: ("ok", False), 2: ("failed", True), 3: ("ok", True)}


def epoch_sums(conn: Connection, number: int) -> EpochSums:
    """The receipts credited to ``number``, summed exactly per miner, ``pixels_per_unit``,
    status and flag: value = pixels × price / ppu is linear, so Σ pixels × price per ppu
    gives exactly what per-receipt sums give, whatever the prices. Memory grows with the
    groups (miners), not the receipts.

    PostgreSQL sums in ``NUMERIC`` (exact) with a hash aggregate. SQLite's integers stop
    at 2**63 (a product past it silently becomes a float): see :func:`_sqlite_sums`.
    """
    dbapi: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        query = (
            f"SELECT transcoder, pixels_per_unit, {_KIND_SQL}, "
            "sum(pixels_encoded * price_per_unit), sum(pixels_decoded * price_per_unit), "
            "sum(pixels_encoded), sum(pixels_decoded), count(*) "
            "FROM receipts WHERE credited_epoch = %s GROUP BY 1, 2, 3"
        )
        with dbapi.cursor() as cur:
            cur.execute(query, (number,))
            return {
                (t, int(ppu), *_KINDS[kind]): [int(x) for x in sums] for t, ppu, kind, *sums in cur
            }
    return _sqlite_sums(dbapi, number)


#: SQLite: a price of at most 18 digits (< 2**60) is cut into three 20-bit limbs, and a
#: pixel count below 2**43 times a limb stays below 2**63, so each product is an exact
#: integer; SQLite's ``sum()`` raises on an integer overflow rather than rounding.
_LIMB_BITS: Final = 20
_SAFE_PIXELS: Final = 1 << 43
_SAFE_SQL: Final = (
    f"length(price_per_unit) <= 18 AND pixels_encoded < {_SAFE_PIXELS} "
    f"AND pixels_decoded < {_SAFE_PIXELS}"
)
_P: Final = "CAST(price_per_unit AS INTEGER)"
_LIMBS: Final = (f"({_P} & 1048575)", f"(({_P} >> 20) & 1048575)", f"({_P} >> 40)")
_SQLITE_SUMS: Final = (
    f"SELECT transcoder, pixels_per_unit, {_KIND_SQL}, "
    + ", ".join(f"sum(pixels_{c} * {limb})" for c in ("encoded", "decoded") for limb in _LIMBS)
    + ", sum(pixels_encoded), sum(pixels_decoded), count(*) FROM receipts "
    f"WHERE credited_epoch = ? AND {_SAFE_SQL} GROUP BY 1, 2, 3"
)
_SQLITE_ROWS: Final = (
    f"SELECT transcoder, pixels_per_unit, {_KIND_SQL}, price_per_unit, pixels_encoded, "
    "pixels_decoded FROM receipts WHERE credited_epoch = ?"
)


def _sqlite_sums(dbapi: Any, number: int) -> EpochSums:
    """SQLite: the database sums what it can sum exactly (``_SAFE_SQL`` rows, in limbs),
    Python the rest (prices over 18 digits, huge pixel counts); should a sum overflow
    64 bits after all, the whole epoch is summed in Python, one pass, row by row."""
    sums: EpochSums = {}
    try:
        rows = dbapi.execute(_SQLITE_SUMS, (number,)).fetchall()
    except sqlite3.OperationalError as exc:
        if "overflow" not in str(exc):
            raise
        return _python_sums(dbapi, _SQLITE_ROWS, (number,))
    for t, ppu, kind, e0, e1, e2, d0, d1, d2, enc, dec, n in rows:
        _add(sums, (t, int(ppu), *_KINDS[kind]), [
            e0 + (e1 << _LIMB_BITS) + (e2 << 2 * _LIMB_BITS),
            d0 + (d1 << _LIMB_BITS) + (d2 << 2 * _LIMB_BITS),
            enc, dec, n,
        ])  # fmt: skip
    rest = _python_sums(dbapi, f"{_SQLITE_ROWS} AND NOT ({_SAFE_SQL})", (number,))
    for key, acc in rest.items():
        _add(sums, key, acc)
    return sums


def _add(sums: EpochSums, key: tuple[str, int, str, bool], acc: list[int]) -> None:
    old = sums.get(key)
    sums[key] = acc if old is None else [a + b for a, b in zip(old, acc, strict=True)]


def _python_sums(dbapi: Any, query: str, params: tuple[Any, ...]) -> EpochSums:
    """The sums of :func:`epoch_sums` over ``query``'s rows, made in Python in one pass."""
    cur = dbapi.cursor()
    cur.execute(query, params)
    by_miner: dict[str, dict[tuple[str, int], list[int]]] = {}
    try:
        while batch := cur.fetchmany(SCAN_BATCH):
            for t, ppu, kind, price, enc, dec in batch:
                groups = by_miner.get(t)
                if groups is None:
                    groups = by_miner[t] = {}
                acc = groups.get((ppu, kind))
                p = int(price)
                if acc is None:
                    groups[(ppu, kind)] = [enc * p, dec * p, enc, dec, 1]
                else:
                    acc[0] += enc * p
                    acc[1] += dec * p
                    acc[2] += enc
                    acc[3] += dec
                    acc[4] += 1
    finally:
        cur.close()
    sums: EpochSums = {}
    for t, groups in by_miner.items():
        for (ppu, kind), acc in groups.items():
            _add(sums, (t, int(ppu), *_KINDS[kind]), acc)
    return sums


def epoch_digests(conn: Connection, number: int) -> Iterator[list[bytes]]:
    """The digests of the receipts credited to ``number``, in batches of
    :data:`SCAN_BATCH`, in storage order (a server-side cursor on PostgreSQL)."""
    dbapi: Any = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        cur = dbapi.cursor()
        cur.execute("SELECT digest FROM receipts WHERE credited_epoch = ?", (number,))
    else:
        cur = dbapi.cursor(name="livepool_epoch_digests")
        cur.itersize = SCAN_BATCH
        cur.execute("SELECT digest FROM receipts WHERE credited_epoch = %s", (number,))
    try:
        while batch := cur.fetchmany(SCAN_BATCH):
            yield [bytes(d) for (d,) in batch]
    finally:
        cur.close()


def charged_receipts(conn: Connection, number: int) -> Iterator[tuple[Any, ...]]:
    """The receipts of the verdicts charged in ``number``: their :data:`_SEGMENT` facts
    and the epoch each was credited in."""
    query = (
        select(*_SEGMENT, receipts.c.credited_epoch)
        .select_from(verdicts.join(receipts, receipts.c.id == verdicts.c.receipt_id))
        .where(verdicts.c.charged_epoch == number)
    )
    for t, price, ppu, status, flag, enc, dec, credited in conn.execute(query):
        yield t, int(price), int(ppu), status, bool(flag), int(enc), int(dec), int(credited)


def previous_balances(conn: Connection, last: int | None) -> tuple[dict[str, MinerBalance], int]:
    """Each miner's cumulative and debt after epoch ``last``, and the pool's cumulative."""
    if last is None:
        return {}, 0
    b = balances
    rows = conn.execute(
        select(b.c.address, b.c.role, b.c.cumulative, b.c.debt).where(b.c.epoch == last)
    )
    previous: dict[str, MinerBalance] = {}
    pool = 0
    for address, role, cumulative, debt in rows:
        if role == "pool":
            pool = int(cumulative)
        else:
            previous[address] = MinerBalance(int(cumulative), int(debt))
    return previous, pool


def charge_pushes(conn: Connection, number: int) -> list[tuple[int, list[str]]]:
    """The ``(gas cost, miners)`` of every push batch not yet charged, by batch id; marks
    them charged in ``number``."""
    p = push_batches
    rows = conn.execute(
        select(p.c.gas_cost, p.c.miners).where(p.c.charged_epoch.is_(None)).order_by(p.c.batch_id)
    ).all()
    if rows:
        conn.execute(p.update().where(p.c.charged_epoch.is_(None)).values(charged_epoch=number))
    return [(int(cost), json.loads(miners)) for cost, miners in rows]


def verdict_digests(conn: Connection, number: int) -> Iterator[bytes]:
    """The digests of the verdicts charged in ``number``."""
    query = select(verdicts.c.digest).where(verdicts.c.charged_epoch == number)
    return (bytes(d) for (d,) in conn.execute(query))


#: ``balances`` column -> the attribute of a statement line (miner or pool) it holds; the
#: pool's line has no work counts, gross or debt: those are 0.
_BALANCE_COLUMNS: Final = {
    **{name: name for name in ("segments", "failed_segments", "charged_segments")},
    **{name: name for name in AMOUNT_COLUMNS},
    "debt": "debt_out",
}


def insert_balances(conn: Connection, number: int, result: EpochResult) -> None:
    """Write every miner's line and the pool's fee line of closed epoch ``number``."""
    lines = [("miner", m) for m in result.miners] + [("pool", result.pool)]
    rows = [
        {
            "epoch": number,
            "address": line.address,
            "role": role,
            **{col: getattr(line, attr, 0) for col, attr in _BALANCE_COLUMNS.items()},
        }
        for role, line in lines
    ]
    conn.execute(balances.insert(), rows)


def save_closed_epoch(
    conn: Connection, number: int, window: tuple[int, int], values: dict[str, Any]
) -> None:
    """Mark ``number`` closed with ``values`` (statement, root, …) and move the lock."""
    table = epochs_table
    if epoch_row(conn, number) is None:
        start, end = window
        conn.execute(table.insert().values(number=number, start=start, end=end, **values))
    else:
        conn.execute(table.update().where(table.c.number == number).values(**values))
    set_meta(conn, "last_closed", str(number))


# --- ingest ----------------------------------------------------------------------------------

#: The order of a receipt row as :func:`store_receipts` takes it.
RECEIPT_COLUMNS: Final = (
    "id",
    "orchestrator",
    "transcoder",
    "stream",
    "seq",
    "finished_at",
    "duration_ms",
    "latency_ms",
    "pixels_decoded",
    "pixels_encoded",
    "price_per_unit",
    "pixels_per_unit",
    "status",
    "node",
    "region",
    "broadcaster",
    "round",
    "profiles",
    "renditions",
    "flagged",
    "digest",
    # Known only inside the chunk's transaction (pool configuration, last closed epoch):
    "epoch",
    "credited_epoch",
    "received_at",
)
_COLS: Final = ", ".join(RECEIPT_COLUMNS)
_SQLITE_INSERT: Final = (
    f"INSERT INTO receipts ({_COLS}) VALUES ({', '.join('?' * len(RECEIPT_COLUMNS))}) "
    "ON CONFLICT (id) DO NOTHING"
)
_SQLITE_PARAMS: Final = 500  # ids per look-up query (well under SQLite's variable limit)


def store_receipts(
    conn: Connection, rows: list[tuple[Any, ...]], *, direct: bool = True
) -> dict[str, bytes]:
    """Insert receipt ``rows`` (in :data:`RECEIPT_COLUMNS` order); return ``{id: stored
    digest}`` of those already there (not written).

    SQLite: the driver's ``executemany`` with ``ON CONFLICT DO NOTHING``, redone without
    the known ids when something was there. PostgreSQL: ``COPY`` (see
    :func:`_store_postgres`; ``direct`` tries straight into ``receipts`` first).
    """
    if conn.dialect.name == "sqlite":
        return _store_sqlite(conn, rows)
    return _store_postgres(conn, rows, direct)


def _existing_sqlite(dbapi: Any, ids: list[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    cur = dbapi.cursor()
    for start in range(0, len(ids), _SQLITE_PARAMS):
        part = ids[start : start + _SQLITE_PARAMS]
        marks = ",".join("?" * len(part))
        cur.execute(f"SELECT id, digest FROM receipts WHERE id IN ({marks})", part)
        found.update((i, bytes(d)) for i, d in cur.fetchall())
    cur.close()
    return found


def _store_sqlite(conn: Connection, rows: list[tuple[Any, ...]]) -> dict[str, bytes]:
    dbapi: Any = conn.connection.driver_connection
    cur = dbapi.cursor()
    cur.execute("SAVEPOINT livepool_ingest")
    before = dbapi.total_changes
    cur.executemany(_SQLITE_INSERT, rows)
    if dbapi.total_changes - before == len(rows):
        cur.execute("RELEASE livepool_ingest")
        return {}
    # Some ids were there already: redo the chunk knowing which (the rare path).
    cur.execute("ROLLBACK TO livepool_ingest")
    existing = _existing_sqlite(dbapi, [row[0] for row in rows])
    cur.executemany(_SQLITE_INSERT, [row for row in rows if row[0] not in existing])
    cur.execute("RELEASE livepool_ingest")
    cur.close()
    return existing


def _store_postgres(
    conn: Connection, rows: list[tuple[Any, ...]], direct: bool
) -> dict[str, bytes]:
    """``direct``: first try COPY straight into ``receipts`` in a savepoint (one pass over
    the rows on the server); an id already stored aborts it with a unique violation, and
    the chunk is redone by COPY into a temporary table and one ``INSERT … SELECT … ON
    CONFLICT DO NOTHING RETURNING id``, which also says which ids were there."""
    dbapi: Any = conn.connection.driver_connection
    with dbapi.cursor() as cur:
        if direct:
            cur.execute("SAVEPOINT livepool_ingest")
            try:
                _copy(cur, "receipts", rows)
            except psycopg.errors.UniqueViolation:
                cur.execute("ROLLBACK TO SAVEPOINT livepool_ingest")
            else:
                cur.execute("RELEASE SAVEPOINT livepool_ingest")
                return {}
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS livepool_ingest_rx "
            "(LIKE receipts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        cur.execute("TRUNCATE livepool_ingest_rx")
        _copy(cur, "livepool_ingest_rx", rows)
        cur.execute(
            f"INSERT INTO receipts ({_COLS}) SELECT {_COLS} FROM livepool_ingest_rx "
            "ON CONFLICT (id) DO NOTHING RETURNING id"
        )
        inserted = {r[0] for r in cur.fetchall()}
        if len(inserted) == len(rows):
            return {}
        missing = [row[0] for row in rows if row[0] not in inserted]
        cur.execute("SELECT id, digest FROM receipts WHERE id = ANY(%s)", (missing,))
        return {i: bytes(d) for i, d in cur.fetchall()}


def _copy(cur: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    with cur.copy(f"COPY {table} ({_COLS}) FROM STDIN") as copy:
        write = copy.write_row
        for row in rows:
            write(row)


def ensure_open_epochs(
    conn: Connection, numbers: Iterable[int], genesis: int, epoch_seconds: int
) -> None:
    """Make an ``open`` row for each epoch of ``numbers`` that has none."""
    wanted = sorted(set(numbers))
    if not wanted:
        return
    t = epochs_table
    known = set(conn.execute(select(t.c.number).where(t.c.number.in_(wanted))).scalars())
    rows = [
        {
            "number": n,
            "start": genesis + n * epoch_seconds,
            "end": genesis + (n + 1) * epoch_seconds,
            "state": "open",
        }
        for n in wanted
        if n not in known
    ]
    if rows:
        conn.execute(t.insert(), rows)


def verdict_targets(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[int, bytes | None]]:
    """For each stored receipt of ``ids``: the epoch it is credited in and the digest of
    its verdict (``None`` when it has none)."""
    known: dict[str, tuple[int, bytes | None]] = {}
    for start in range(0, len(ids), _SQLITE_PARAMS):
        part = list(ids[start : start + _SQLITE_PARAMS])
        query = (
            select(receipts.c.id, receipts.c.credited_epoch, verdicts.c.digest)
            .select_from(receipts.outerjoin(verdicts, verdicts.c.receipt_id == receipts.c.id))
            .where(receipts.c.id.in_(part))
        )
        for rid, epoch, digest in conn.execute(query):
            known[rid] = (int(epoch), bytes(digest) if digest is not None else None)
    return known


def insert_verdicts(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Store verdict rows (``receipt_id``, ``ok``, ``reason``, ``digest``, …)."""
    conn.execute(verdicts.insert(), rows)


# --- small reads -------------------------------------------------------------------------------


def count(conn: Connection, table: Table) -> int:
    """Rows in ``table``."""
    return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def receipt_row(conn: Connection, receipt_id: str) -> dict[str, Any] | None:
    """One stored receipt row as a dict, or ``None``."""
    row = conn.execute(select(receipts).where(receipts.c.id == receipt_id)).first()
    return dict(row._mapping) if row else None


# --- rigs ------------------------------------------------------------------------------------


def update_node(
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


def list_nodes(conn: Connection, address: str | None = None) -> list[dict[str, Any]]:
    """Rigs and their status, optionally for one miner."""
    query = select(nodes).order_by(nodes.c.address, nodes.c.node)
    if address is not None:
        query = query.where(nodes.c.address == address)
    return [dict(r._mapping) for r in conn.execute(query)]


# --- pushes, chain actions, payout settings -------------------------------------------------


def record_push(conn: Connection, row: dict[str, Any]) -> bool:
    """Insert a push batch row; ``False`` when the same batch is there already, and
    :class:`LedgerError` when the same id is there with other content."""
    old = conn.execute(
        select(push_batches).where(push_batches.c.batch_id == row["batch_id"])
    ).first()
    if old is not None:
        if not all(old._mapping[k] == row[k] for k in row if k != "pushed_at"):
            raise LedgerError(f"push batch {row['batch_id']}: recorded before with other content")
        return False
    conn.execute(push_batches.insert().values(**row))
    return True


def get_chain_action(conn: Connection, kind: str, key: str) -> dict[str, Any] | None:
    """The recorded state of one chain action, or ``None``."""
    c = chain_actions.c
    row = conn.execute(select(chain_actions).where(c.kind == kind, c.key == key)).first()
    return dict(row._mapping) if row else None


def list_chain_actions(
    conn: Connection, kind: str, *, state: str | None = None
) -> list[dict[str, Any]]:
    """Every recorded action of ``kind`` (optionally in ``state``), oldest first."""
    c = chain_actions.c
    query = select(chain_actions).where(c.kind == kind)
    if state is not None:
        query = query.where(c.state == state)
    return [dict(r._mapping) for r in conn.execute(query.order_by(c.updated_at, c.key))]


def set_chain_action(
    conn: Connection, kind: str, key: str, state: str, values: dict[str, Any]
) -> None:
    """Write an action's new ``state`` and ``values``; a confirmed action stays so."""
    if state not in CHAIN_ACTION_STATES:
        raise LedgerError(f"chain action state must be one of {CHAIN_ACTION_STATES}")
    c = chain_actions.c
    values = {**values, "state": state, "updated_at": int(time.time())}
    old = conn.execute(select(c.state).where(c.kind == kind, c.key == key)).scalar()
    if old is None:
        conn.execute(chain_actions.insert().values(kind=kind, key=key, **values))
    elif old == "confirmed" and state != "confirmed":
        raise LedgerError(f"{kind} {key}: already confirmed, cannot become {state}")
    else:
        conn.execute(chain_actions.update().where(c.kind == kind, c.key == key).values(**values))


def set_payout(conn: Connection, address: str, mode: str, threshold: int) -> None:
    """Record a miner's payout choice (``push`` with a threshold in wei, or ``claim``)."""
    if mode not in PAYOUT_MODES:
        raise LedgerError(f"payout mode must be one of {PAYOUT_MODES}, got {mode!r}")
    if threshold < 0:
        raise LedgerError(f"payout threshold must be ≥ 0 wei, got {threshold}")
    row = {"mode": mode, "threshold": threshold, "updated_at": int(time.time())}
    where = payout_settings.c.address == address
    if not conn.execute(payout_settings.update().where(where).values(**row)).rowcount:
        conn.execute(payout_settings.insert().values(address=address, **row))


def list_payout_settings(conn: Connection) -> list[dict[str, Any]]:
    """Every miner's payout choice, by address."""
    rows = conn.execute(select(payout_settings).order_by(payout_settings.c.address))
    return [dict(r._mapping) for r in rows]


# --- retention (livepool.archive) -------------------------------------------------------------

#: Rows per fetch when an epoch's receipts are streamed to an archive file.
_ARCHIVE_FETCH: Final = 10_000


def epoch_receipt_rows(conn: Connection, number: int) -> Iterator[Any]:
    """Every stored field of the receipts credited to ``number``, streamed (a server-side
    cursor on PostgreSQL), in no particular order."""
    query = select(receipts).where(receipts.c.credited_epoch == number)
    yield from conn.execution_options(yield_per=_ARCHIVE_FETCH).execute(query)


def epoch_verdict_rows(conn: Connection, number: int) -> list[Any]:
    """The verdicts charged in ``number`` (``receipt_id``, ``ok``, ``reason``, ``digest``)."""
    v = verdicts
    query = select(v.c.receipt_id, v.c.ok, v.c.reason, v.c.digest).where(
        v.c.charged_epoch == number
    )
    return list(conn.execute(query))


def epoch_row_counts(conn: Connection, number: int) -> tuple[int, int]:
    """``(receipts credited to number, verdicts charged in it)`` in the hot tables."""
    r = conn.execute(
        select(func.count()).select_from(receipts).where(receipts.c.credited_epoch == number)
    ).scalar()
    v = conn.execute(
        select(func.count()).select_from(verdicts).where(verdicts.c.charged_epoch == number)
    ).scalar()
    return int(r or 0), int(v or 0)


def delete_archived_rows(conn: Connection, number: int) -> dict[str, int]:
    """Delete epoch ``number``'s rows from the hot tables: the verdicts charged in it, then
    the receipts credited to it that no verdict references, and the receipts of epochs
    archived before that the deleted verdicts were the last to reference. A receipt whose
    verdict is charged in a later epoch stays until that epoch is archived (the verdict's
    foreign key, and that epoch's close, need it). Returns the counts: ``verdicts``,
    ``receipts``, ``earlier`` (receipts of archived epochs) and ``kept``."""
    r, v = receipts, verdicts
    unreferenced = ~exists(select(v.c.receipt_id).where(v.c.receipt_id == r.c.id))
    deleted_verdicts = conn.execute(v.delete().where(v.c.charged_epoch == number)).rowcount
    deleted = conn.execute(r.delete().where(r.c.credited_epoch == number, unreferenced)).rowcount
    earlier = conn.execute(
        r.delete().where(
            r.c.credited_epoch.in_(select(archives.c.epoch).where(archives.c.epoch < number)),
            unreferenced,
        )
    ).rowcount
    kept = epoch_row_counts(conn, number)[0]
    return {"verdicts": deleted_verdicts, "receipts": deleted, "earlier": earlier, "kept": kept}


def record_archive(conn: Connection, row: dict[str, Any]) -> None:
    """Register an archived epoch (a row of ``archives``)."""
    conn.execute(archives.insert().values(**row))


def archive_row(conn: Connection, number: int) -> dict[str, Any] | None:
    """The register row of archived epoch ``number``, or ``None``."""
    row = conn.execute(select(archives).where(archives.c.epoch == number)).first()
    return dict(row._mapping) if row else None


def list_archives(conn: Connection) -> list[dict[str, Any]]:
    """Every archived epoch's register row, by epoch."""
    return [dict(r._mapping) for r in conn.execute(select(archives).order_by(archives.c.epoch))]


def archived_through(conn: Connection) -> int | None:
    """The highest archived epoch, ``None`` when none is."""
    value = conn.execute(select(func.max(archives.c.epoch))).scalar()
    return None if value is None else int(value)
