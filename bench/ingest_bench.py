"""Ingest and epoch-close benchmarks: receipts/s into SQLite and PostgreSQL, close times.

    python bench/ingest_bench.py            # full: 300k receipts; close up to 10k × 1M;
                                            # 200k into a ledger holding 10^6
    python bench/ingest_bench.py --quick    # 50k receipts; close 100 × 10k and 1k × 100k;
                                            # 50k into a ledger holding 10^5

Ingest is measured end to end from JSONL bytes already in memory (parse, validate,
deduplicate, store), beside a baseline measured in the same run: a bare pydantic model
(no bounds, no address checks) validated from the same lines and written with
``sqlite3.executemany`` into a table with only a primary key. Tables are markdown on
stdout; progress goes to stderr. PostgreSQL is ``LIVEPOOL_BENCH_POSTGRES_URL`` (default
the test server); it is skipped with a note when unreachable.

Steady state (``--held N``): the same end-to-end ingest of ``--held-receipts`` new receipts
into a ledger that already holds N receipts of the same open epoch and miners (built by
``bulkledger.py``: rows written by the code's own ``queries.store_receipts``, no parsing,
not timed), beside the bare baselines into a table already holding the same N rows:
pydantic + sqlite3 ``executemany`` (as above), and for PostgreSQL pydantic + psycopg
``COPY`` into a table with only a primary key (COPY has no ``ON CONFLICT``: the baseline
skips ids it has already sent in the run, the input's repeated lines). PostgreSQL
ledgers and tables of this section are databases ``livepool_bench_*`` of their own,
dropped afterwards.
"""

from __future__ import annotations

import argparse
import operator
import os
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import bulkledger
import pydantic
from sqlalchemy import create_engine, text

from livepool import epochs
from livepool.ingest import ingest_receipts
from livepool.ledger import Ledger
from livepool.ledger.queries import RECEIPT_COLUMNS
from livepool.simulate import simulate

POSTGRES = os.environ.get(
    "LIVEPOOL_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FEE = "0x00000000000000000000000000000000000000fe"
START = 1_764_028_800


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def lines_for(miners: int, receipts: int, seed: int = 1) -> list[bytes]:
    import json

    dumps = json.JSONEncoder(separators=(",", ":")).encode
    return [dumps(item).encode() for item in simulate(miners, receipts, seed=seed, start=START)]


class Bare(pydantic.BaseModel):
    """The baseline's receipt: the fixed fields, types only."""

    id: str
    orchestrator: str
    transcoder: str
    stream: str
    seq: int
    finished_at: int
    duration_ms: int
    latency_ms: int
    pixels_decoded: int
    pixels_encoded: int
    price_per_unit: int
    pixels_per_unit: int
    status: Literal["ok", "failed"]
    profiles: list[str] | None = None
    node: str | None = None
    region: str | None = None
    broadcaster: str | None = None


def baseline(lines: list[bytes], directory: Path, held: int = 0) -> float:
    """Bare pydantic + sqlite3 executemany: receipts/s (into a table already holding
    ``held`` rows, when given)."""
    path = directory / f"baseline-{secrets.token_hex(4)}.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE r (id TEXT PRIMARY KEY, orchestrator, transcoder, stream, seq, "
        "finished_at, duration_ms, latency_ms, pixels_decoded, pixels_encoded, price, ppu, "
        "status)"
    )
    if held:
        for chunk in bulkledger.iter_chunks(HELD_MINERS, held, seed=7, sqlite=True):
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO r VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", [r[:13] for r in chunk]
            )
            db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    receipts = [line for line in lines if not line.startswith(b'{"verdict"')]
    bare_row = operator.attrgetter(*RECEIPT_COLUMNS[: RECEIPT_COLUMNS.index("status") + 1])
    started = time.perf_counter()
    for k in range(0, len(receipts), 20_000):
        rows = []
        for line in receipts[k : k + 20_000]:
            r = Bare.model_validate_json(line)
            row = bare_row(r)  # the fields up to status; prices as text, as SQLite needs
            rows.append((*row[:10], str(row[10]), str(row[11]), row[12]))
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO r VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", rows
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return len(receipts) / elapsed


def baseline_postgres(lines: list[bytes], held: int) -> float | None:
    """Bare pydantic + psycopg COPY (text), one transaction per 20k, into a table with only
    a primary key already holding ``held`` rows: receipts/s (``None``: unreachable)."""
    import psycopg
    from close_bench import Store
    from sqlalchemy.engine import make_url

    try:
        store = Store("postgres", Path(tempfile.gettempdir()))
    except Exception as exc:
        log(f"PostgreSQL unreachable, skipped: {str(exc).splitlines()[0]}")
        return None
    try:
        name = store.new("bare")
        url = make_url(store.url(name)).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False)) as db:
            db.execute(
                "CREATE TABLE r (id TEXT PRIMARY KEY, orchestrator TEXT, transcoder TEXT, "
                "stream TEXT, seq BIGINT, finished_at BIGINT, duration_ms BIGINT, "
                "latency_ms BIGINT, pixels_decoded BIGINT, pixels_encoded BIGINT, "
                "price NUMERIC(78), ppu NUMERIC(78), status TEXT)"
            )
            db.commit()
            copy_sql = "COPY r FROM STDIN"
            for chunk in bulkledger.iter_chunks(HELD_MINERS, held, seed=7, sqlite=False):
                with db.cursor() as cur, cur.copy(copy_sql) as copy:
                    for row in chunk:
                        copy.write_row(row[:13])
                db.commit()
            db.autocommit = True  # as bulkledger does to the ledger's tables
            db.execute("VACUUM ANALYZE r")
            db.autocommit = False
            receipts = [line for line in lines if not line.startswith(b'{"verdict"')]
            fields = RECEIPT_COLUMNS[: RECEIPT_COLUMNS.index("status") + 1]
            bare_row = operator.attrgetter(*fields)
            seen: set[str] = set()  # COPY has no ON CONFLICT: a repeated line is skipped here
            started = time.perf_counter()
            for k in range(0, len(receipts), 20_000):
                with db.cursor() as cur, cur.copy(copy_sql) as copy:
                    for line in receipts[k : k + 20_000]:
                        row = bare_row(Bare.model_validate_json(line))
                        if row[0] not in seen:
                            seen.add(row[0])
                            copy.write_row(row)
                db.commit()
            elapsed = time.perf_counter() - started
        return len(receipts) / elapsed
    finally:
        store.close()


HELD_MINERS = 10_000  # the miners of a held ledger (and of the new receipts)


def held_lines(receipts: int) -> list[bytes]:
    """New receipts (and their verdicts, duplicates) from the held ledger's miners, at
    the rate of a pool doing 10**7 receipts a day."""
    import json

    dumps = json.JSONEncoder(separators=(",", ":")).encode
    addresses = [bulkledger._address(7, "miner", m) for m in range(HELD_MINERS)]
    # As dense in time as the big pool's day (10**7 receipts): how many receipts share a
    # rig-hour decides what the counters cost.
    days = max(receipts / 10**7, 0.001)
    items = simulate(HELD_MINERS, receipts, seed=3, start=START, days=days, addresses=addresses)
    return [dumps(item).encode() for item in items]


def held_rate(kind: str, lines: list[bytes], directory: Path, held: int) -> float | None:
    """livepool ingest of ``lines`` into a ledger already holding ``held`` receipts."""
    from close_bench import Store

    try:
        store = Store(kind, directory)
    except Exception as exc:
        log(f"PostgreSQL unreachable, skipped: {str(exc).splitlines()[0]}")
        return None
    try:
        ledger = Ledger(store.url(store.new("held")))
        try:
            bulkledger.configure(ledger)
            log(f"  {kind}: building a ledger of {held:,} receipts…")
            bulkledger.build(ledger, held, HELD_MINERS, progress=log)
            log(f"  {kind}: ingesting {len(lines):,} lines into it…")
            started = time.perf_counter()
            report = ingest_receipts(ledger, lines)
            elapsed = time.perf_counter() - started
            assert report.ok, report.summary()
            return report.total / elapsed
        finally:
            ledger.close()
    finally:
        store.close()


def postgres_url() -> tuple[str, str] | None:
    """A fresh schema's URL and the schema, or None when the server is unreachable."""
    try:
        engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        schema = f"bench_{secrets.token_hex(4)}"
        with engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
    except Exception as exc:
        log(f"PostgreSQL unreachable, skipped: {str(exc).splitlines()[0]}")
        return None
    return f"{POSTGRES}?options={quote(f'-csearch_path={schema}')}", schema


def drop_schema(schema: str) -> None:
    engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def fresh_ledger(kind: str, directory: Path) -> tuple[Ledger, str | None] | None:
    if kind == "sqlite":
        url, schema = f"sqlite:///{directory / f'{secrets.token_hex(4)}.db'}", None
    else:
        found = postgres_url()
        if found is None:
            return None
        url, schema = found
    ledger = Ledger(url)
    epochs.configure(ledger, fee_address=FEE, genesis=START, commission_bps=500)
    return ledger, schema


def ingest_rate(
    kind: str, lines: list[bytes], directory: Path, parallel: str = "auto"
) -> float | None:
    made = fresh_ledger(kind, directory)
    if made is None:
        return None
    ledger, schema = made
    try:
        started = time.perf_counter()
        report = ingest_receipts(ledger, lines, parallel=parallel)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        assert report.ok, report.summary()
        return report.total / elapsed
    finally:
        ledger.close()
        if schema:
            drop_schema(schema)


def close_time(
    kind: str, miners: int, receipts: int, directory: Path
) -> tuple[float, float] | None:
    """(ingest s, close s) for one epoch of ``receipts`` from ``miners`` miners."""
    made = fresh_ledger(kind, directory)
    if made is None:
        return None
    ledger, schema = made
    try:
        log(f"  close {kind}: {miners} miners × {receipts} receipts: generating and ingesting…")
        started = time.perf_counter()
        items = simulate(miners, receipts, seed=2, start=START, days=0.99)
        report = ingest_receipts(ledger, items)
        ingest_s = time.perf_counter() - started
        assert report.ok, report.summary()
        started = time.perf_counter()
        closed = epochs.close_epoch(ledger, 0, now=START + 2 * 86_400)
        close_s = time.perf_counter() - started
        log(f"    closed: {closed.miners} miners, root {closed.root[:18]}…, {close_s:.2f} s")
        return ingest_s, close_s
    finally:
        ledger.close()
        if schema:
            drop_schema(schema)


def empty(args: argparse.Namespace, n: int, directory: Path) -> None:
    """Ingest into an empty ledger, beside the bare sqlite3 baseline."""
    log(f"generating {n} receipts…")
    lines = lines_for(1_000, n)
    log("baseline (bare pydantic + sqlite3)…")
    base = baseline(lines, directory)
    rows = []
    for kind in ("sqlite", "postgres"):
        for mode in args.parallel.split(","):
            log(f"livepool ingest into {kind} (parallel={mode})…")
            rate = ingest_rate(kind, lines, directory, mode)
            rows.append((f"{kind} (parallel={mode})", rate))
    print(f"\n### Ingest, end to end from JSONL ({len(lines):,} lines, 1,000 miners)\n")
    print("| target | items/s | vs. baseline |")
    print("|---|---:|---:|")
    print(f"| baseline: bare pydantic + sqlite3 executemany | {base:,.0f} | 1.00 |")
    for kind, rate in rows:
        if rate is None:
            print(f"| livepool → {kind} | skipped (unreachable) | |")
        else:
            print(f"| livepool → {kind} | {rate:,.0f} | {rate / base:.2f} |")


def steady(held: int, count: int, directory: Path) -> None:
    """Ingest into ledgers already holding ``held`` receipts, beside the bare baselines
    into tables already holding as many rows (each measured right before its livepool
    counterpart)."""
    log(f"steady state: generating {count:,} new receipts from {HELD_MINERS:,} miners…")
    lines = held_lines(count)
    log(f"baseline (bare pydantic + sqlite3) into {held:,} rows…")
    base_sqlite = baseline(lines, directory, held)
    log(f"livepool into SQLite holding {held:,}…")
    sqlite_rate = held_rate("sqlite", lines, directory, held)
    log(f"baseline (bare pydantic + psycopg COPY) into {held:,} rows…")
    base_pg = baseline_postgres(lines, held)
    log(f"livepool into PostgreSQL holding {held:,}…")
    pg_rate = held_rate("postgres", lines, directory, held) if base_pg is not None else None
    print(
        f"\n### Steady-state ingest, end to end from JSONL ({len(lines):,} lines, "
        f"{HELD_MINERS:,} miners) into a ledger already holding {held:,} receipts\n"
    )
    print("| target | items/s | vs. bare sqlite3 | vs. bare psycopg COPY |")
    print("|---|---:|---:|---:|")

    def cell(rate: float | None, base: float | None) -> str:
        return f"{rate / base:.2f}" if rate is not None and base else ""

    rows = [
        ("baseline: bare pydantic + sqlite3 executemany", base_sqlite),
        ("baseline: bare pydantic + psycopg COPY", base_pg),
        ("livepool → sqlite", sqlite_rate),
        ("livepool → postgres", pg_rate),
    ]
    for name, rate in rows:
        if rate is None:
            print(f"| {name} | skipped (unreachable) | | |")
        else:
            print(f"| {name} | {rate:,.0f} | {cell(rate, base_sqlite)} | {cell(rate, base_pg)} |")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a minute or so")
    parser.add_argument("--receipts", type=int, default=None, help="ingest benchmark size")
    parser.add_argument("--no-close", action="store_true", help="skip the close benchmark")
    parser.add_argument(
        "--held",
        type=int,
        default=None,
        help="steady state: receipts already in the ledger (default 10^6, 10^5 with "
        "--quick; 0 skips it)",
    )
    parser.add_argument(
        "--held-receipts",
        type=int,
        default=None,
        help="receipts ingested into the held ledger (default 200k, 50k with --quick)",
    )
    parser.add_argument("--no-empty", action="store_true", help="skip the empty-ledger ingest")
    parser.add_argument(
        "--parallel",
        default="auto",
        help="ingest mode(s), comma-separated: off, thread, process (default thread)",
    )
    args = parser.parse_args()
    n = args.receipts or (50_000 if args.quick else 300_000)
    sizes = (
        [(100, 10_000), (1_000, 100_000)]
        if args.quick
        else [
            (1_000, 100_000),
            (10_000, 1_000_000),
        ]
    )
    directory = Path(tempfile.mkdtemp(prefix="livepool-bench-"))
    try:
        if not args.no_empty:
            empty(args, n, directory)
        held = args.held if args.held is not None else (100_000 if args.quick else 1_000_000)
        if held:
            steady(held, args.held_receipts or (50_000 if args.quick else 200_000), directory)
        if not args.no_close:
            closes(sizes, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def closes(sizes: list[tuple[int, int]], directory: Path) -> None:
    """Close times after an end-to-end ingest (see close_bench.py for old against new)."""
    print("\n### Epoch close (one epoch, all its receipts)\n")
    print("| database | miners | receipts | ingest s | close s |")
    print("|---|---:|---:|---:|---:|")
    for kind in ("sqlite", "postgres"):
        for miners, receipts in sizes:
            timing = close_time(kind, miners, receipts, directory)
            if timing is None:
                print(f"| {kind} | {miners:,} | {receipts:,} | skipped | |")
                continue
            print(f"| {kind} | {miners:,} | {receipts:,} | {timing[0]:.1f} | {timing[1]:.2f} |")
            sys.stdout.flush()


if __name__ == "__main__":  # the guard also keeps parallel="process" workers out of main
    main()
