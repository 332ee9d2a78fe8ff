"""The SQLite write path, one schema-4 change at a time (issue 10's closing note).

    python bench/write_path_bench.py                  # held 500,000, then 200,000 timed
    python bench/write_path_bench.py --held 1000000 --receipts 200000

Each variant gets a fresh ledger file that already holds ``--held`` receipts (written by
the same variant's path, untimed), then the timed step writes ``--receipts`` more rows
through the code's own ``queries.store_receipts`` in 10,000-row transactions (ingest's
chunk), with ``ensure_open_epochs`` as ingest calls it: no JSON, no parsing, so only the
write path is measured. The variants add one change each, in the order schema 4 made
them:

1. schema 3's write path: receipts indexed by (credited_epoch, transcoder, node), 4 KiB
   pages, SQLite's automatic checkpoint every 1,000 WAL pages;
2. the index on credited_epoch alone;
3. 16 KiB pages;
4. checkpoints deferred to the end (``Ledger.bulk``; the final checkpoint is timed);
5. the counters kept at ingest, counted in each chunk's transaction
   (``counters.count_receipts``: what PostgreSQL does);
6. the counters counted after storing, by the catch-up at the end (``counters.catch_up``
   in 200,000-row transactions: what SQLite does). Schema 4 as shipped on SQLite.

Rows/s and the ratio to variant 1, in one run; variants run in turn, twice each
(``--rounds``), and the table gives each one's best round. Rows are as dense in time as
a pool doing ``--per-day`` receipts a day (default 10**7, issue 10's big pool), which
decides how many receipts share a rig-hour counter.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bulkledger

from livepool.ingest import catch_up_counters
from livepool.ledger import Ledger, counters, queries

VARIANTS = (
    "schema 3 write path",
    "+ index on credited_epoch alone",
    "+ 16 KiB pages",
    "+ checkpoints deferred to the end",
    "+ counters, counted per chunk (as on PostgreSQL)",
    "instead, counters counted after storing (SQLite's catch-up)",
)
CHUNK = 10_000


def _ledger(path: Path, variant: int) -> Ledger:
    if variant < 2:  # fix the page size before the ledger's connection asks for 16 KiB
        db = sqlite3.connect(path)
        db.execute("PRAGMA page_size=4096")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE bench_page_size (x)")
        db.close()
    ledger = Ledger(f"sqlite:///{path}")
    if variant == 0:
        with ledger.transaction() as conn:
            conn.exec_driver_sql("DROP INDEX ix_receipts_epoch")
            conn.exec_driver_sql(
                "CREATE INDEX ix_receipts_epoch_miner_node "
                "ON receipts (credited_epoch, transcoder, node)"
            )
    bulkledger.configure(ledger)
    return ledger


def _write(ledger: Ledger, rows: list[tuple[Any, ...]], variant: int) -> None:
    count = variant == 4
    for start in range(0, len(rows), CHUNK):
        part = rows[start : start + CHUNK]
        with ledger.transaction() as conn:
            queries.store_receipts(conn, part)
            if count:
                counters.count_receipts(conn, part)
            queries.ensure_open_epochs(conn, [0], bulkledger.START, bulkledger.EPOCH)
    if variant == 5:
        catch_up_counters(ledger)


def _rows(held: int, timed: int, miners: int, per_day: int) -> tuple[list[Any], list[Any]]:
    """The first ``held + timed`` rows of a pool doing ``per_day`` receipts a day (so the
    rows are as dense in time, per rig and hour, as that pool's)."""
    rows: list[Any] = []
    for chunk in bulkledger.iter_chunks(miners, max(per_day, held + timed), seed=7, sqlite=True):
        rows.extend(tuple(r) for r in chunk)
        if len(rows) >= held + timed:
            break
    return rows[:held], rows[held : held + timed]


def run(variant: int, held_rows: list[Any], timed_rows: list[Any], tmp: Path) -> float:
    path = tmp / f"v{variant}.db"
    ledger = _ledger(path, variant)
    deferred = variant >= 3
    with ledger.bulk() if deferred else nullcontext():
        _write(ledger, held_rows, variant)
    ledger.checkpoint()
    start = time.perf_counter()
    with ledger.bulk() if deferred else nullcontext():
        _write(ledger, timed_rows, variant)
    seconds = time.perf_counter() - start  # the deferred checkpoint included
    ledger.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return len(timed_rows) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--held", type=int, default=500_000, help="receipts already stored")
    parser.add_argument("--receipts", type=int, default=200_000, help="receipts timed")
    parser.add_argument("--miners", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--per-day", type=int, default=10**7, help="the pool's receipts a day (time density)"
    )
    args = parser.parse_args()
    print(f"making {args.held + args.receipts:,} rows…", file=sys.stderr, flush=True)
    held_rows, timed_rows = _rows(args.held, args.receipts, args.miners, args.per_day)
    best = [0.0] * len(VARIANTS)
    with tempfile.TemporaryDirectory(prefix="livepool-write-") as tmp:
        for round_ in range(args.rounds):
            for variant, name in enumerate(VARIANTS):
                rate = run(variant, held_rows, timed_rows, Path(tmp))
                best[variant] = max(best[variant], rate)
                print(f"  round {round_ + 1}: {name}: {rate:,.0f} rows/s", file=sys.stderr)
    print(
        f"\nSQLite write path, {args.receipts:,} rows into a ledger holding {args.held:,} "
        f"({args.miners:,} miners, {args.per_day:,} receipts a day), best of {args.rounds}:\n"
    )
    print("| variant | rows/s | × schema 3 | × the line before (6: × line 4) |")
    print("|---|---:|---:|---:|")
    for variant, name in enumerate(VARIANTS):
        prev = best[min(variant - 1, 3)] if variant else best[0]
        print(f"| {name} | {best[variant]:,.0f} | {best[variant] / best[0]:.2f} | "
              f"{best[variant] / prev:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
