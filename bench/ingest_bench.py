"""Ingest and epoch-close benchmarks: receipts/s into SQLite and PostgreSQL, close times.

    python bench/ingest_bench.py            # full: 300k receipts; close up to 10k × 1M
    python bench/ingest_bench.py --quick    # 50k receipts; close 100 × 10k and 1k × 100k

Ingest is measured end to end from JSONL bytes already in memory (parse, validate,
deduplicate, store), beside a baseline measured in the same run: a bare pydantic model
(no bounds, no address checks) validated from the same lines and written with
``sqlite3.executemany`` into a table with only a primary key. Tables are markdown on
stdout; progress goes to stderr. PostgreSQL is ``LIVEPOOL_BENCH_POSTGRES_URL`` (default
the test server); it is skipped with a note when unreachable.
"""

from __future__ import annotations

import argparse
import operator
import os
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal
from urllib.parse import quote

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


def baseline(lines: list[bytes], directory: Path) -> float:
    """Bare pydantic + sqlite3 executemany: receipts/s."""
    db = sqlite3.connect(directory / "baseline.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE r (id TEXT PRIMARY KEY, orchestrator, transcoder, stream, seq, "
        "finished_at, duration_ms, latency_ms, pixels_decoded, pixels_encoded, price, ppu, "
        "status)"
    )
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
    return len(receipts) / elapsed


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a minute or so")
    parser.add_argument("--receipts", type=int, default=None, help="ingest benchmark size")
    parser.add_argument("--no-close", action="store_true", help="skip the close benchmark")
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
    if args.no_close:
        return
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
