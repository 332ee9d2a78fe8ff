r"""Counters kept at ingest (schema 4): ``rig_hours``, ``rigs``, ``miner_value`` and the
latest price (``meta`` key ``latest_price``), so the service never scans receipts.

A chunk of newly stored receipts is aggregated in Python first (per rig and hour, per
rig, per credited epoch, miner and ``pixels_per_unit``), then written with one upsert
per table, ``ON CONFLICT … DO UPDATE SET c = table.c + excluded.c``: atomic on both
databases, so concurrent ingests (PostgreSQL) add up. Keys are written in sorted order,
so two transactions lock the rows they share in the same order and cannot deadlock.

``miner_value`` holds exact integers above 64 bits: NUMERIC on PostgreSQL, where the
upsert's addition is exact; decimal text on SQLite, where SQL addition would go through
floats, so there the chunk's rows are read and written back with Python's sums (safe:
SQLite has one writer, and every ingest transaction is ``BEGIN IMMEDIATE``).

The counters must only ever see a receipt once: :func:`count_receipts` takes the rows a
transaction has just written (never those found stored already), :func:`backfill` every
stored receipt of a ledger that had no counters (migration 4).

**When** (measured with ``bench/write_path_bench.py``): counted chunk by chunk, a 10,000-
receipt chunk of a 10,000-miner pool touches ~10,000 distinct rig-hours, so the counters
cost about three upserts per receipt and cut SQLite's write path to ~0.35×. So on SQLite
receipts are counted *after* they are stored, by :func:`catch_up`: the ``rowid``\ s above
the ``meta`` cursor ``counted_rowid``, 1,000,000 at a time, each batch and its cursor in one
transaction (a crash loses nothing and counts nothing twice; the next catch-up goes on).
Ingest catches up at the end of every call, so the counters lag the receipts only while
an ingest runs. PostgreSQL (no rowid, upserts run in the server while the next chunk is
parsed) counts in each chunk's own transaction (:func:`inline`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import Connection, select

from livepool.ledger.queries import RECEIPT_COLUMNS, get_meta, set_meta
from livepool.ledger.schema import MS_BUCKETS, RATIO_BUCKETS, meta, receipts
from livepool.quality import LATENCY_MS_EDGES, LATENCY_RATIO_EDGES

__all__ = [
    "COUNTED_ROWID",
    "LATEST_PRICE",
    "backfill",
    "catch_up",
    "count_receipts",
    "inline",
    "latest_price",
    "lower_cursor",
]

#: The ``meta`` key of the latest price: ``received_at:finished_at:ppu:price``, each
#: zero-padded to a fixed width, so a plain text comparison orders them as tuples and
#: one upsert keeps the greatest.
LATEST_PRICE: Final = "latest_price"
_PRICE_WIDTHS: Final = (20, 20, 78, 78)

HOUR: Final = 3_600

#: What the counters read of a receipt, by column name.
_FACTS: Final = (
    "transcoder",
    "node",
    "finished_at",
    "duration_ms",
    "latency_ms",
    "pixels_decoded",
    "pixels_encoded",
    "price_per_unit",
    "pixels_per_unit",
    "status",
    "region",
    "flagged",
    "credited_epoch",
    "received_at",
)
#: Where those facts are in an ingest row (:data:`RECEIPT_COLUMNS` order) …
_INGEST_POSITIONS: Final = tuple(RECEIPT_COLUMNS.index(name) for name in _FACTS)
#: … and in a row that :func:`backfill` selects (the facts, then the id).
_BACKFILL_POSITIONS: Final = tuple(range(len(_FACTS)))
_BACKFILL_BATCH: Final = 50_000

#: ``rig_hours``' summed columns, in the order of the Python accumulator.
HOUR_SUMS: Final = (
    "segments",
    "failed",
    "flagged",
    "pixels",
    "duration_ms",
    "latency_ms",
    "ok_duration_ms",
    "ok_latency_ms",
    *RATIO_BUCKETS,
    *MS_BUCKETS,
)
_RATIO0: Final = HOUR_SUMS.index(RATIO_BUCKETS[0])
_MS0: Final = HOUR_SUMS.index(MS_BUCKETS[0])
_WIDTH: Final = len(HOUR_SUMS)
assert len(RATIO_BUCKETS) == len(LATENCY_RATIO_EDGES) + 1
assert len(MS_BUCKETS) == len(LATENCY_MS_EDGES) + 1
# Python-only slots after the sums (folded into ``rigs``): first and last finished_at,
# first received_at, region_at, region.
_FIRST, _LAST, _RECEIVED, _REGION_AT, _REGION = range(_WIDTH, _WIDTH + 5)


class _Chunk:
    """One chunk's counts, aggregated in Python."""

    __slots__ = ("hours", "latest", "rigs", "values")

    def __init__(self) -> None:
        self.hours: dict[tuple[str, str, int], list[Any]] = {}
        self.rigs: dict[tuple[str, str], list[Any]] = {}
        self.values: dict[tuple[int, str, int], list[int]] = {}
        self.latest: tuple[int, int, int, int] | None = None

    def add(self, rows: Sequence[Sequence[Any]], positions: Sequence[int]) -> None:
        (t_, n_, f_, d_, l_, dec_, enc_, price_, ppu_, s_, rg_, fl_, ce_, rc_) = positions
        hours = self.hours
        by_price: dict[tuple[int, str, Any, Any], list[int]] = {}
        ratio_edges, ms_edges = LATENCY_RATIO_EDGES, LATENCY_MS_EDGES
        ratio0, ms0 = _RATIO0, _MS0
        for row in rows:
            transcoder = row[t_]
            node = row[n_] or transcoder
            finished = row[f_]
            duration = row[d_]
            latency = row[l_]
            received = row[rc_]
            key = (transcoder, node, finished - finished % HOUR)
            acc = hours.get(key)
            if acc is None:
                acc = hours[key] = [0] * _WIDTH + [finished, finished, received, None, None]
            else:
                if finished < acc[_FIRST]:
                    acc[_FIRST] = finished
                elif finished > acc[_LAST]:
                    acc[_LAST] = finished
                if received < acc[_RECEIVED]:
                    acc[_RECEIVED] = received
            acc[0] += 1
            acc[4] += duration
            acc[5] += latency
            acc[ratio0 + bisect_left(ratio_edges, latency / duration)] += 1
            acc[ms0 + bisect_left(ms_edges, latency)] += 1
            region = row[rg_]
            if region is not None and (
                acc[_REGION] is None
                or finished > acc[_REGION_AT]
                or (finished == acc[_REGION_AT] and region > acc[_REGION])
            ):
                acc[_REGION_AT], acc[_REGION] = finished, region
            if row[fl_] is not None:
                acc[1] += 1
                acc[2] += 1
            elif row[s_] != "ok":
                acc[1] += 1
            else:
                pixels = row[enc_]
                acc[3] += pixels
                acc[6] += duration
                acc[7] += latency
                vkey = (row[ce_], transcoder, row[ppu_], row[price_])
                sums = by_price.get(vkey)
                if sums is None:
                    by_price[vkey] = [pixels, row[dec_], 1]
                else:
                    sums[0] += pixels
                    sums[1] += row[dec_]
                    sums[2] += 1
        # Value is linear in pixels: Σ pixels × price = Σ over prices of (Σ pixels) × price.
        values = self.values
        for (epoch, transcoder, ppu, price), (enc, dec, n) in by_price.items():
            vkey2 = (int(epoch), transcoder, int(ppu))
            price_int = int(price)
            sums = values.get(vkey2)
            if sums is None:
                values[vkey2] = [enc * price_int, dec * price_int, n]
            else:
                sums[0] += enc * price_int
                sums[1] += dec * price_int
                sums[2] += n
        if rows:
            received = max(row[rc_] for row in rows)
            last = [row for row in rows if row[rc_] == received]
            finished = max(row[f_] for row in last)
            ppu, price = max(
                (int(row[ppu_]), int(row[price_])) for row in last if row[f_] == finished
            )
            latest = (received, finished, ppu, price)
            if self.latest is None or latest > self.latest:
                self.latest = latest

    def fold_rigs(self) -> None:
        """Per rig, from its hours."""
        rigs = self.rigs
        for (transcoder, node, _), acc in self.hours.items():
            rig = rigs.get((transcoder, node))
            if rig is None:
                rigs[(transcoder, node)] = [
                    acc[_FIRST], acc[_LAST], acc[_RECEIVED], acc[0], acc[_REGION], acc[_REGION_AT]
                ]  # fmt: skip
                continue
            rig[0] = min(rig[0], acc[_FIRST])
            rig[1] = max(rig[1], acc[_LAST])
            rig[2] = min(rig[2], acc[_RECEIVED])
            rig[3] += acc[0]
            region, at = acc[_REGION], acc[_REGION_AT]
            if region is not None and (
                rig[4] is None or at > rig[5] or (at == rig[5] and region > rig[4])
            ):
                rig[4], rig[5] = region, at


def count_receipts(conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
    """Add newly stored receipt rows (``queries.RECEIPT_COLUMNS`` order) to the counters.

    Call it in the transaction that stored them, with exactly the rows written: a row
    counted twice, or one not stored, makes every counter wrong from then on."""
    _count(conn, rows, _INGEST_POSITIONS)


#: SQLite: receipts with a ``rowid`` up to this ``meta`` value are counted.
COUNTED_ROWID: Final = "counted_rowid"
#: Receipts per catch-up transaction (aggregated in memory as one: bounded by the keys,
#: rig-hours, miners and rigs, not by the receipts, which are fetched in slices).
CATCH_UP_BATCH: Final = 1_000_000
_CATCH_UP_FETCH: Final = 20_000


def inline(conn: Connection) -> bool:
    """Whether ingest counts each chunk in its own transaction (PostgreSQL) rather than
    leaving it to :func:`catch_up` (SQLite)."""
    return conn.dialect.name != "sqlite"


def catch_up(conn: Connection, limit: int = CATCH_UP_BATCH) -> int:
    """SQLite: count up to ``limit`` receipts stored since the last catch-up (``rowid``
    above the cursor), and move the cursor, in ``conn``'s transaction; return how many.
    Call it until it returns less than ``limit``. No-op (0) on PostgreSQL."""
    if inline(conn):
        return 0
    cursor = int(get_meta(conn, COUNTED_ROWID) or 0)
    columns = ", ".join(_FACTS)
    dbapi: Any = conn.connection.driver_connection
    cur = dbapi.cursor()
    cur.execute(
        f"SELECT {columns}, rowid FROM receipts WHERE rowid > ? ORDER BY rowid LIMIT ?",
        (cursor, limit),
    )
    chunk = _Chunk()  # the whole batch in one aggregate: ~17 receipts per rig-hour key
    n, last = 0, cursor  # in a 10**6 batch of a 10**7-a-day pool, against < 1 per chunk
    try:
        while rows := cur.fetchmany(_CATCH_UP_FETCH):
            chunk.add(rows, _BACKFILL_POSITIONS)
            n += len(rows)
            last = rows[-1][-1]
    finally:
        cur.close()
    if n:
        _write(conn, chunk)
        set_meta(conn, COUNTED_ROWID, str(last))
    return n


def lower_cursor(conn: Connection) -> None:
    """After receipts were deleted (retention), all of them counted: bring the cursor down
    to the highest ``rowid`` left, since SQLite numbers new rows from there."""
    if inline(conn):
        return
    top = conn.exec_driver_sql("SELECT max(rowid) FROM receipts").scalar()
    cursor = int(get_meta(conn, COUNTED_ROWID) or 0)
    if (top or 0) < cursor:
        set_meta(conn, COUNTED_ROWID, str(top or 0))


def backfill(conn: Connection) -> None:
    """Fill the counters from the receipts already stored (migration 4): batches of
    receipts in id order, each counted like an ingest chunk, so memory stays bounded."""
    columns = [receipts.c[name] for name in _FACTS]
    last: str | None = None
    while True:
        query = select(*columns, receipts.c.id).order_by(receipts.c.id).limit(_BACKFILL_BATCH)
        if last is not None:
            query = query.where(receipts.c.id > last)
        rows = conn.execute(query).all()
        if not rows:
            break
        _count(conn, rows, _BACKFILL_POSITIONS)
        last = rows[-1][-1]
    if not inline(conn):  # everything stored is counted: catch-ups start after it
        top = conn.exec_driver_sql("SELECT max(rowid) FROM receipts").scalar()
        set_meta(conn, COUNTED_ROWID, str(top or 0))


def latest_price(conn: Connection) -> tuple[int, int] | None:
    """``(price_per_unit, pixels_per_unit)`` of the latest receipt: the greatest
    ``(received_at, finished_at)`` (ties: the greater ``pixels_per_unit``, then price)."""
    value = conn.execute(select(meta.c.value).where(meta.c.key == LATEST_PRICE)).scalar()
    if value is None:
        return None
    _, _, ppu, price = (int(part) for part in value.split(":"))
    return price, ppu


# --- writing ---------------------------------------------------------------------------


def _count(conn: Connection, rows: Sequence[Sequence[Any]], positions: Sequence[int]) -> None:
    if not rows:
        return
    chunk = _Chunk()
    chunk.add(rows, positions)
    _write(conn, chunk)


def _write(conn: Connection, chunk: _Chunk) -> None:
    chunk.fold_rigs()
    postgres = conn.dialect.name == "postgresql"
    dbapi: Any = conn.connection.driver_connection
    cur = dbapi.cursor()
    try:
        _write_hours(cur, postgres, chunk.hours)
        _write_rigs(cur, postgres, chunk.rigs)
        if chunk.values:
            if postgres:
                _write_values_postgres(cur, chunk.values)
            else:
                _write_values_sqlite(cur, chunk.values)
        if chunk.latest is not None:
            _write_latest(cur, postgres, chunk.latest)
    finally:
        cur.close()


def _marks(postgres: bool, n: int) -> str:
    return ", ".join(["%s" if postgres else "?"] * n)


_HOUR_COLUMNS: Final = ("transcoder", "node", "hour", *HOUR_SUMS)


def _hours_sql(postgres: bool) -> str:
    sets = ", ".join(f"{c} = rig_hours.{c} + excluded.{c}" for c in HOUR_SUMS)
    return (
        f"INSERT INTO rig_hours ({', '.join(_HOUR_COLUMNS)}) "
        f"VALUES ({_marks(postgres, len(_HOUR_COLUMNS))}) "
        f"ON CONFLICT (transcoder, node, hour) DO UPDATE SET {sets}"
    )


def _rigs_sql(postgres: bool) -> str:
    low, high = ("LEAST", "GREATEST") if postgres else ("min", "max")
    # Regions compare as code points on both databases (PostgreSQL's default collation
    # may not), like Python's ``>`` in the chunk's own aggregation.
    c = ' COLLATE "C"' if postgres else ""
    newer = (
        "excluded.region IS NOT NULL AND (rigs.region IS NULL"
        " OR excluded.region_at > rigs.region_at"
        f" OR (excluded.region_at = rigs.region_at AND excluded.region{c} > rigs.region{c}))"
    )
    return (
        "INSERT INTO rigs (transcoder, node, first_seen, last_seen, first_received, segments,"
        f" region, region_at) VALUES ({_marks(postgres, 8)}) "
        "ON CONFLICT (transcoder, node) DO UPDATE SET "
        f"first_seen = {low}(rigs.first_seen, excluded.first_seen), "
        f"last_seen = {high}(rigs.last_seen, excluded.last_seen), "
        f"first_received = {low}(rigs.first_received, excluded.first_received), "
        "segments = rigs.segments + excluded.segments, "
        f"region = CASE WHEN {newer} THEN excluded.region ELSE rigs.region END, "
        f"region_at = CASE WHEN {newer} THEN excluded.region_at ELSE rigs.region_at END"
    )


_VALUE_KEY: Final = "credited_epoch = ? AND transcoder = ? AND pixels_per_unit = ?"
_VALUES_INSERT: Final = (
    "INSERT INTO miner_value (credited_epoch, transcoder, pixels_per_unit, encoded_value,"
    " decoded_value, segments) VALUES ({marks}) "
    "ON CONFLICT (credited_epoch, transcoder, pixels_per_unit) DO UPDATE SET {sets}"
)

_SQL: Final = {
    postgres: {
        "hours": _hours_sql(postgres),
        "rigs": _rigs_sql(postgres),
        "latest": (
            f"INSERT INTO meta (key, value) VALUES ({_marks(postgres, 2)}) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE "
            + (
                'excluded.value COLLATE "C" > meta.value COLLATE "C"'
                if postgres
                else "excluded.value > meta.value"
            )
        ),
    }
    for postgres in (False, True)
}
_VALUES_POSTGRES: Final = _VALUES_INSERT.format(
    marks=_marks(True, 6),
    sets=", ".join(
        f"{c} = miner_value.{c} + excluded.{c}"
        for c in ("encoded_value", "decoded_value", "segments")
    ),
)
_VALUES_SQLITE: Final = _VALUES_INSERT.format(
    marks=_marks(False, 6),
    sets=", ".join(f"{c} = excluded.{c}" for c in ("encoded_value", "decoded_value", "segments")),
)


def _write_hours(cur: Any, postgres: bool, hours: dict[tuple[str, str, int], list[Any]]) -> None:
    cur.executemany(
        _SQL[postgres]["hours"],
        [(*key, *hours[key][:_WIDTH]) for key in sorted(hours)],
    )


def _write_rigs(cur: Any, postgres: bool, rigs: dict[tuple[str, str], list[Any]]) -> None:
    cur.executemany(_SQL[postgres]["rigs"], [(*key, *rigs[key]) for key in sorted(rigs)])


def _write_values_postgres(cur: Any, values: dict[tuple[int, str, int], list[int]]) -> None:
    cur.executemany(_VALUES_POSTGRES, [(*key, *values[key]) for key in sorted(values)])


def _write_values_sqlite(cur: Any, values: dict[tuple[int, str, int], list[int]]) -> None:
    rows = []
    for key in sorted(values):
        epoch, transcoder, ppu = key
        enc, dec, n = values[key]
        cur.execute(
            f"SELECT encoded_value, decoded_value, segments FROM miner_value WHERE {_VALUE_KEY}",
            (epoch, transcoder, str(ppu)),
        )
        stored = cur.fetchone()
        if stored is not None:
            enc, dec, n = enc + int(stored[0]), dec + int(stored[1]), n + int(stored[2])
        rows.append((epoch, transcoder, str(ppu), str(enc), str(dec), n))
    cur.executemany(_VALUES_SQLITE, rows)


def _write_latest(cur: Any, postgres: bool, latest: tuple[int, int, int, int]) -> None:
    value = ":".join(f"{part:0{width}d}" for part, width in zip(latest, _PRICE_WIDTHS, strict=True))
    cur.execute(_SQL[postgres]["latest"], (LATEST_PRICE, value))
