"""Large ledgers for the benchmarks, built fast and honestly (outside any timed step).

    build(ledger, receipts=1_000_000, miners=10_000)

No JSON is generated or parsed: receipt rows are made in Python, already in
``livepool.ledger.queries.RECEIPT_COLUMNS`` order, and written by the code's own write
path, ``queries.store_receipts(conn, rows)``, in chunks of 50,000 (one
``ledger.transaction()`` each), with ``queries.ensure_open_epochs`` and
``queries.insert_verdicts`` as ingest calls them. When the code under test keeps counters
at ingest (schema 4's ``livepool.ledger.counters.count_receipts``) and
``store_receipts`` does not already call it, each chunk is counted too, so the ledger
looks like one that ingest filled. Works with any checkout of the package (old or new):
it only imports what both have.

The rows (deterministic for a seed):

- ``miners`` payout addresses, each with 1–4 rigs (``node`` = ``m<miner>-rig<k>``) in one
  of five regions, work spread by rig capacity;
- streams of ~600 segments each (2-second segments), a broadcaster, a ladder (profiles,
  renditions, pixels) and a price per unit of 1,000–1,500 wei, ``pixels_per_unit`` 1
  (85 %) or 2; a stream's price moves now and then (2 % of its segments re-draw it
  ±5 %), so prices vary per receipt as real ones do;
- 1 % ``failed``; 1 in 10,000 flagged implausible (a ``flagged`` reason);
- ids are random UUIDs (random primary keys, as in production); the 32-byte digest is
  blake2b of the id;
- ``receipts`` rows in epoch 0 (the one the close benchmark closes), plus
  ``next_share`` × that in epoch 1 (still open: the close must skip them);
- ``verdicts`` failed verifications (default 300) of ok receipts of epoch 0, charged in 0.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from livepool import epochs
from livepool.hashing import checksum_address, keccak256
from livepool.ledger import Ledger, queries

FEE = "0x00000000000000000000000000000000000000fe"
START = 1_764_028_800  # genesis: 2025-11-25T00:00:00Z
EPOCH = 86_400
CHUNK = 50_000
#: The row layout this module writes; both the old and the new code must take it.
COLUMNS = (
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
    "epoch",
    "credited_epoch",
    "received_at",
)

_RENDITIONS = {"720p30": (1280, 720), "480p30": (854, 480), "360p30": (640, 360)}
_LADDERS = (
    (0.7, ("720p30", "480p30", "360p30")),
    (0.2, ("720p30",)),
    (0.1, ("480p30", "360p30")),
)
_REGIONS = ("fra", "nyc", "lax", "sin", "lon")
_DECODED = 1920 * 1080 * 60


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _address(seed: int, kind: str, index: int) -> str:
    return checksum_address("0x" + keccak256(f"{seed}:{kind}:{index}".encode())[-20:].hex())


def configure(ledger: Ledger) -> None:
    """The pool's configuration before anything is stored (genesis, fee, 5 % commission)."""
    epochs.configure(ledger, fee_address=FEE, genesis=START, commission_bps=500, now=START)


class Rows:
    """Receipt rows of one simulated pool, generated chunk by chunk."""

    def __init__(self, miners: int, *, seed: int = 7, sqlite: bool, streams: int) -> None:
        rng = self.rng = random.Random(seed)
        self.sqlite = sqlite
        self.orchestrator = _address(seed, "orchestrator", 0)
        broadcasters = [_address(seed, "broadcaster", i) for i in range(8)]
        self.rigs: list[tuple[str, str, str, float]] = []  # address, node, region, speed
        capacity: list[int] = []
        for m in range(miners):
            address = _address(seed, "miner", m)
            region = rng.choice(_REGIONS)
            for k in range(rng.randint(1, 4)):
                cap = sum(rng.choice((4, 6, 10, 14, 16)) for _ in range(rng.randint(1, 4)))
                self.rigs.append((address, f"m{m}-rig{k}", region, max(1.0, min(8.0, cap / 3))))
                capacity.append(cap)
        # Work goes to rigs in proportion to capacity: rig k appears capacity[k] times.
        self.pick = [k for k, cap in enumerate(capacity) for _ in range(cap)]
        self.streams: list[list[Any]] = []
        ladder_weights = [w for w, _ in _LADDERS]
        for _ in range(max(1, streams)):
            profiles = rng.choices([p for _, p in _LADDERS], ladder_weights)[0]
            renditions = [
                {
                    "fps": 30,
                    "height": _RENDITIONS[p][1],
                    "pixels": _RENDITIONS[p][0] * _RENDITIONS[p][1] * 60,
                    "profile": p,
                    "width": _RENDITIONS[p][0],
                }
                for p in profiles
            ]
            ppu = 1 if rng.random() < 0.85 else 2
            price = rng.randint(1_000, 1_500) * ppu
            # stream id, seq, price, ppu, broadcaster, profiles, renditions, pixels
            self.streams.append(
                [
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    0,
                    price,
                    ppu,
                    rng.choice(broadcasters),
                    json.dumps(list(profiles)),
                    json.dumps(renditions, separators=(",", ":")),
                    sum(r["pixels"] for r in renditions),
                ]
            )

    def chunk(
        self, count: int, first_at: float, step: float, epoch: int, keep: set[int], offset: int
    ) -> tuple[list[tuple[Any, ...]], list[str]]:
        """``count`` rows finishing from ``first_at`` every ``step`` s, credited to
        ``epoch``; row ``offset + i`` in ``keep`` is made ok and unflagged and its id
        returned (a verdict will target it)."""
        rng, rigs, pick, streams = self.rng, self.rigs, self.pick, self.streams
        random_, bits = rng.random, rng.getrandbits
        picks = len(pick)
        orchestrator, sqlite = self.orchestrator, self.sqlite
        blake = hashlib.blake2b
        rows: list[tuple[Any, ...]] = []
        kept: list[str] = []
        for i in range(count):
            stream = streams[int(random_() * len(streams))]
            address, node, region, speed = rigs[pick[int(random_() * picks)]]
            if random_() < 0.02:  # the broadcaster moved its price
                base = stream[2] // stream[3]
                stream[2] = max(1, int(base * (0.95 + 0.1 * random_()))) * stream[3]
            seq = stream[1]
            stream[1] = seq + 1
            h = f"{bits(128):032x}"  # a random UUID's text (version 4, variant 10xx)
            rid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"
            finished = int(first_at + i * step)
            status, flagged = "ok", None
            if offset + i in keep:
                kept.append(rid)
            else:
                roll = random_()
                if roll < 0.01:
                    status = "failed"
                elif roll > 0.9999:
                    flagged = (
                        f"pixels_encoded: {stream[7] * 3} exceed the renditions' "
                        f"{stream[7]} nominal pixels x 1.02"
                    )
            price, ppu = stream[2], stream[3]
            rows.append(
                (
                    rid,
                    orchestrator,
                    address,
                    stream[0],
                    seq,
                    finished,
                    2_000,
                    int(2_000 / speed * (0.8 + 0.4 * random_())),
                    _DECODED,
                    stream[7] * 3 if flagged else stream[7],
                    str(price) if sqlite else price,
                    str(ppu) if sqlite else ppu,
                    status,
                    node,
                    region,
                    stream[4],
                    None,
                    stream[5],
                    stream[6],
                    flagged,
                    blake(rid.encode(), digest_size=32).digest(),
                    epoch,
                    epoch,
                    finished + 30,
                )
            )
        return rows, kept


def _counter(ledger: Ledger) -> Callable[[Any, list[tuple[Any, ...]]], None] | None:
    """``counters.count_receipts`` when this checkout has a working one, else ``None``."""
    try:
        from livepool.ledger import counters  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    count = getattr(counters, "count_receipts", None)
    return count if callable(count) else None


def _counted(conn: Any) -> bool:
    """Whether the counters hold anything (``store_receipts`` keeps them itself)."""
    try:
        with conn.begin_nested():
            return conn.exec_driver_sql("SELECT 1 FROM rigs LIMIT 1").first() is not None
    except Exception:
        return False


def build(
    ledger: Ledger,
    receipts: int,
    miners: int,
    *,
    seed: int = 7,
    verdicts: int = 300,
    next_share: float = 0.01,
    progress: Callable[[str], None] = log,
) -> dict[str, Any]:
    """Fill ``ledger`` (fresh, configured by :func:`configure`) as described in the module
    docstring; return what was written and how fast."""
    if tuple(queries.RECEIPT_COLUMNS) != COLUMNS:
        raise SystemExit(
            f"queries.RECEIPT_COLUMNS changed: {queries.RECEIPT_COLUMNS}; update {__file__}"
        )
    started = time.perf_counter()
    extra = int(receipts * next_share)
    rows = Rows(miners, seed=seed, sqlite=ledger.is_sqlite, streams=receipts // 600)
    rng = random.Random(seed + 1)
    keep = set(rng.sample(range(receipts), min(verdicts, receipts)))
    kept: list[str] = []
    count = _counter(ledger)
    counting: bool | None = None  # decided after the first chunk
    written = 0
    last_note = started
    plan = [(receipts, START, 0.99 * EPOCH / max(receipts, 1), 0)]
    if extra:
        plan.append((extra, START + EPOCH, 3_600 / extra, 1))  # the settle hour of epoch 1
    with ledger.transaction() as conn:
        queries.ensure_open_epochs(conn, {0, 1} if extra else {0}, START, EPOCH)
    for total, first_at, step, epoch in plan:
        for offset in range(0, total, CHUNK):
            n = min(CHUNK, total - offset)
            chunk, ids = rows.chunk(
                n, first_at + offset * step, step, epoch, keep if epoch == 0 else set(), offset
            )
            kept += ids
            with ledger.transaction() as conn:
                existing = queries.store_receipts(conn, chunk)
                if existing:
                    raise SystemExit(f"{len(existing)} receipt ids were stored already")
                if counting is None:
                    counting = count is not None and not _counted(conn)
                if counting:
                    try:
                        count(conn, chunk)  # type: ignore[misc]
                    except NotImplementedError:
                        counting = False  # a stub (counters being written): nothing to keep
            written += n
            now = time.perf_counter()
            if now - last_note >= 10 or written == receipts + extra:
                progress(
                    f"    built {written:,}/{receipts + extra:,} receipts, "
                    f"{written / (now - started):,.0f} rows/s"
                )
                last_note = now
    if counting and ledger.is_sqlite:
        # Counted chunk by chunk above: tell SQLite's catch-up (schema 4) it has nothing
        # left, or the first ingest into this ledger would count it all again.
        from livepool.ledger import counters  # type: ignore[attr-defined,unused-ignore]

        cursor = getattr(counters, "COUNTED_ROWID", None)
        if cursor is not None:
            with ledger.transaction() as conn:
                top = conn.exec_driver_sql("SELECT max(rowid) FROM receipts").scalar()
                queries.set_meta(conn, cursor, str(top or 0))
    with ledger.transaction() as conn:
        queries.insert_verdicts(
            conn,
            [
                {
                    "receipt_id": rid,
                    "ok": False,
                    "reason": "hash mismatch",
                    "digest": hashlib.blake2b(b"verdict:" + rid.encode(), digest_size=32).digest(),
                    "charged_epoch": 0,
                    "received_at": START + EPOCH,
                }
                for rid in kept
            ],
        )
    elapsed = time.perf_counter() - started
    vacuum_s = vacuum(ledger)
    return {
        "receipts": receipts,
        "next_epoch": extra,
        "verdicts": len(kept),
        "miners": miners,
        "rigs": len(rows.rigs),
        "counters": bool(counting),
        "build_s": elapsed,
        "rows_per_s": (receipts + extra) / elapsed,
        "vacuum_s": vacuum_s,
    }


def vacuum(ledger: Ledger) -> float:
    """PostgreSQL: ``VACUUM ANALYZE`` the bulk-loaded tables, as autovacuum would have done
    long before a day's epoch is closed (else it may start during the timed step). SQLite:
    nothing (it has no background maintenance). Returns the seconds it took."""
    if ledger.is_sqlite:
        return 0.0
    started = time.perf_counter()
    with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - started


def iter_chunks(miners: int, receipts: int, *, seed: int, sqlite: bool) -> Iterator[list[Any]]:
    """Just the rows (epoch 0), chunk by chunk: for a bare baseline's table."""
    rows = Rows(miners, seed=seed, sqlite=sqlite, streams=receipts // 600)
    step = 0.99 * EPOCH / max(receipts, 1)
    for offset in range(0, receipts, CHUNK):
        yield rows.chunk(min(CHUNK, receipts - offset), START + offset * step, step, 0, set(), 0)[0]
