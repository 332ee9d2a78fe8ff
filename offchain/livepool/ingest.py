"""Idempotent ingest of receipts and verdicts into the ledger.

This module owns the path from raw input (JSON lines, decoded mappings or models) to
stored rows: parse and validate (:mod:`livepool.receipts`), check against the pool
configuration, deduplicate, store. It never computes money.

Contract (DESIGN.md, "Work receipt"):

- Same ``id`` and same canonical bytes as a stored receipt: a **duplicate**, a no-op.
- Same ``id``, other content: a **conflict**; reported, nothing changed.
- Anything invalid: **rejected** with a reason naming the field.
- Each item stands alone: one bad item never stops or half-writes another. Items are
  written in chunks (one transaction each); every row is one receipt, so no item is ever
  half-written, and a crash loses at most the chunk in flight (re-ingest: duplicates).

Verdicts (``{"verdict": {receipt_id, ok: false, reason}}`` as a line or mapping, or a
:class:`~livepool.receipts.Verdict`) are idempotent on ``receipt_id``; a verdict for a
receipt the ledger does not hold (yet) is rejected. Within a chunk receipts are stored
before verdicts, so a verdict may follow its receipt in the same batch.

Crediting: a receipt is credited to the epoch its ``finished_at`` falls in, or — when
that epoch is already closed — to the open epoch (the one after the last closed); a
verdict is charged in its receipt's credited epoch, or the open one when that closed.
An implausible receipt (:func:`livepool.receipts.plausibility`) is stored with the
reason in ``flagged`` and is charged, not credited, at close.

Speed: JSON lines go straight to pydantic's Rust JSON validator; rows are written with
the driver's ``executemany`` (SQLite, optimistic ``ON CONFLICT DO NOTHING`` in a
savepoint, re-done with a look-up of existing ids only when something was already there)
or ``COPY`` into a temporary table and one ``INSERT … SELECT … ON CONFLICT DO NOTHING
RETURNING id`` (PostgreSQL).
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, Literal, cast

import pydantic
from sqlalchemy import Connection, select

from livepool import epochs as _epochs
from livepool.errors import ValidationError
from livepool.ledger import Ledger, receipts, verdicts
from livepool.receipts import (
    Receipt,
    Rendition,
    Verdict,
    canonical_receipt_bytes,
    canonical_verdict_bytes,
    keccak256,
    parse_receipt,
    parse_verdict,
    plausibility,
)

__all__ = [
    "DEFAULT_CHUNK",
    "IngestReport",
    "ItemResult",
    "Rejected",
    "ingest_jsonl",
    "ingest_receipts",
    "iter_jsonl",
]

#: Items per transaction: large enough to amortise commits, small enough to bound memory.
DEFAULT_CHUNK: Final = 20_000
#: How many non-accepted items a report keeps in full (counts by reason are kept for all).
DEFAULT_KEEP: Final = 1_000

Outcome = Literal["accepted", "duplicate", "conflict", "rejected"]

_RECEIPT_COLUMNS: Final = (
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
    "epoch",
    "credited_epoch",
    "flagged",
    "digest",
    "received_at",
)
_COLS: Final = ", ".join(_RECEIPT_COLUMNS)
_SQLITE_INSERT: Final = (
    f"INSERT INTO receipts ({_COLS}) VALUES ({', '.join('?' * len(_RECEIPT_COLUMNS))}) "
    "ON CONFLICT (id) DO NOTHING"
)
_SQLITE_PARAMS: Final = 500  # ids per look-up query (well under SQLite's variable limit)

_validate_json = Receipt.model_validate_json
_renditions_json = pydantic.TypeAdapter(list[Rendition]).dump_json


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What happened to one input item that was not simply accepted."""

    index: int  # position in the input (0-based; for a JSONL file, line number - 1)
    kind: Literal["receipt", "verdict", "unknown"]
    id: str | None  # receipt id (or the verdict's receipt_id), when it could be read
    outcome: Outcome
    reason: str


@dataclass
class IngestReport:
    """Counts per outcome, per-item detail for the first ``keep`` problems, and counts by
    reason (the reason's field names, e.g. ``transcoder`` or ``conflict``)."""

    accepted: int = 0
    duplicate: int = 0
    conflict: int = 0
    rejected: int = 0
    receipts: int = 0  # receipts accepted
    verdicts: int = 0  # verdicts accepted
    problems: list[ItemResult] = field(default_factory=list)
    by_reason: Counter[str] = field(default_factory=Counter)
    keep: int = DEFAULT_KEEP

    @property
    def total(self) -> int:
        """Items seen (blank lines excluded)."""
        return self.accepted + self.duplicate + self.conflict + self.rejected

    @property
    def ok(self) -> bool:
        """``True`` when nothing was rejected or conflicted (duplicates are fine)."""
        return not (self.conflict or self.rejected)

    def _note(self, item: ItemResult) -> None:
        if item.outcome == "duplicate":
            self.duplicate += 1
        elif item.outcome == "conflict":
            self.conflict += 1
        else:
            self.rejected += 1
        if item.outcome != "duplicate":
            self.by_reason[_reason_key(item)] += 1
            if len(self.problems) < self.keep:
                self.problems.append(item)

    def summary(self) -> str:
        """One line: ``accepted 10, duplicate 2, conflict 0, rejected 1``."""
        return (
            f"accepted {self.accepted}, duplicate {self.duplicate}, "
            f"conflict {self.conflict}, rejected {self.rejected}"
        )


def _reason_key(item: ItemResult) -> str:
    if item.outcome == "conflict":
        return "conflict"
    fields = [part.split(":", 1)[0].strip() for part in item.reason.split("; ")]
    return f"{item.kind}: " + ", ".join(dict.fromkeys(f for f in fields if f))


# --- parsing ----------------------------------------------------------------------------

_Parsed = tuple[Literal["receipt"], Receipt] | tuple[Literal["verdict"], Verdict]


class Rejected(Exception):
    """An item refused before it reached ingest (an importer's mapping error).

    Pass one among the items and the report counts it as rejected with ``reason``.
    """

    def __init__(
        self,
        kind: Literal["receipt", "verdict", "unknown"],
        reason: str,
        item_id: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.item_id = item_id


_Rejected = Rejected


def _parse_slow(item: Any) -> _Parsed:
    """Parse anything the fast path refused, with the receipts module's error messages."""
    if isinstance(item, Rejected):
        raise item
    if isinstance(item, Receipt):
        return "receipt", item
    if isinstance(item, Verdict):
        return "verdict", item
    if isinstance(item, bytes | bytearray | str):
        try:
            item = json.loads(item)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Rejected("unknown", f"not JSON: {exc}") from None
    if not isinstance(item, Mapping):
        raise _Rejected("unknown", f"not a JSON object: {type(item).__name__}")
    if "verdict" in item:
        if len(item) != 1:
            raise _Rejected("verdict", "verdict: a verdict line holds only the 'verdict' key")
        try:
            return "verdict", parse_verdict(item["verdict"])
        except ValidationError as exc:
            raise _Rejected("verdict", str(exc)) from None
    try:
        return "receipt", parse_receipt(item)
    except ValidationError as exc:
        raise _Rejected("receipt", str(exc)) from None


def _parse(item: Any) -> _Parsed:
    if isinstance(item, bytes | str):
        try:
            return "receipt", _validate_json(item)
        except pydantic.ValidationError:
            pass  # a verdict, or a bad receipt: the slow path says which and why
    return _parse_slow(item)


def _item_id(item: Any) -> str | None:
    """Best-effort id of an unparseable item, for the report."""
    try:
        if isinstance(item, bytes | str):
            item = json.loads(item)
        if isinstance(item, Mapping):
            if isinstance(item.get("verdict"), Mapping):
                value = item["verdict"].get("receipt_id")
            else:
                value = item.get("id")
            return value if isinstance(value, str) else None
    except (ValueError, UnicodeDecodeError):
        pass
    return None


# --- the chunk writer --------------------------------------------------------------------


class _Context:
    """What every item of one ingest call is checked against."""

    def __init__(self, ledger: Ledger, conn: Connection) -> None:
        config = _epochs.pool_config(ledger, conn)
        self.genesis: int = config["genesis"]
        self.epoch_seconds: int = config["epoch_seconds"]
        self.fee_address: str | None = config["fee_address"]
        last = ledger.last_closed(conn, lock="share")
        self.open_epoch: int = -1 if last is None else last + 1
        self.sqlite = ledger.is_sqlite


def _receipt_row(
    r: Receipt, digest: bytes, ctx: _Context, now: int, profiles_cache: dict[Any, str]
) -> tuple[Any, ...]:
    if r.finished_at < ctx.genesis:
        raise ValidationError(
            f"finished_at: {r.finished_at} is before the pool's genesis {ctx.genesis}"
        )
    if r.transcoder == ctx.fee_address:
        raise ValidationError(f"transcoder: {r.transcoder} is the pool's fee address")
    epoch = (r.finished_at - ctx.genesis) // ctx.epoch_seconds
    profiles = r.profiles
    if profiles is not None:
        key = tuple(profiles)
        profiles_json = profiles_cache.get(key)
        if profiles_json is None:
            profiles_json = profiles_cache[key] = json.dumps(profiles)
    else:
        profiles_json = None
    renditions = r.renditions
    if renditions is not None:
        renditions_json: str | None = _renditions_json(renditions).decode()
        flagged = plausibility(r)
    else:
        renditions_json = flagged = None
    price: int | str = r.price_per_unit
    ppu: int | str = r.pixels_per_unit
    if ctx.sqlite:  # SQLite integers stop at 2**63: UInt256 columns hold decimal text
        price, ppu = str(price), str(ppu)
    return (
        r.id,
        r.orchestrator,
        r.transcoder,
        r.stream,
        r.seq,
        r.finished_at,
        r.duration_ms,
        r.latency_ms,
        r.pixels_decoded,
        r.pixels_encoded,
        price,
        ppu,
        r.status,
        r.node,
        r.region,
        r.broadcaster,
        r.round,
        profiles_json,
        renditions_json,
        epoch,
        max(epoch, ctx.open_epoch),
        flagged,
        digest,
        now,
    )


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
    """Insert ``rows``; return ``{id: stored digest}`` of those already there (not written)."""
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


def _store_postgres(conn: Connection, rows: list[tuple[Any, ...]]) -> dict[str, bytes]:
    """Same contract as :func:`_store_sqlite`, by COPY into a temporary table."""
    dbapi: Any = conn.connection.driver_connection
    with dbapi.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS livepool_ingest_rx "
            "(LIKE receipts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        cur.execute("TRUNCATE livepool_ingest_rx")
        with cur.copy(f"COPY livepool_ingest_rx ({_COLS}) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(row)
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


def _ensure_epochs(ledger: Ledger, conn: Connection, ctx: _Context, numbers: set[int]) -> None:
    """Make an ``open`` row for each epoch that now has something credited to it."""
    if not numbers:
        return
    from livepool.ledger import epochs

    known = set(
        conn.execute(select(epochs.c.number).where(epochs.c.number.in_(sorted(numbers)))).scalars()
    )
    rows = [
        {
            "number": n,
            "start": ctx.genesis + n * ctx.epoch_seconds,
            "end": ctx.genesis + (n + 1) * ctx.epoch_seconds,
            "state": "open",
        }
        for n in sorted(numbers - known)
    ]
    if rows:
        conn.execute(epochs.insert(), rows)


def _ingest_chunk(
    ledger: Ledger, chunk: list[tuple[int, Any]], report: IngestReport, seen: dict[str, bytes]
) -> None:
    now = int(time.time())
    profiles_cache: dict[Any, str] = {}
    with ledger.transaction() as conn:
        ctx = _Context(ledger, conn)
        rows: list[tuple[Any, ...]] = []
        row_index: list[int] = []
        pending_verdicts: list[tuple[int, Verdict, bytes]] = []
        credited: set[int] = set()
        for index, item in chunk:
            try:
                kind, model = _parse(item)
            except _Rejected as exc:
                rid = exc.item_id if isinstance(item, Rejected) else _item_id(item)
                report._note(ItemResult(index, exc.kind, rid, "rejected", exc.reason))
                continue
            if kind == "verdict":
                verdict = cast(Verdict, model)
                pending_verdicts.append(
                    (index, verdict, keccak256(canonical_verdict_bytes(verdict)))
                )
                continue
            receipt = cast(Receipt, model)
            digest = keccak256(canonical_receipt_bytes(receipt))
            before = seen.get(receipt.id)
            if before is not None:
                outcome: Outcome = "duplicate" if before == digest else "conflict"
                report._note(
                    ItemResult(index, "receipt", receipt.id, outcome, _why(outcome, "receipt"))
                )
                continue
            try:
                row = _receipt_row(receipt, digest, ctx, now, profiles_cache)
            except ValidationError as exc:
                report._note(ItemResult(index, "receipt", receipt.id, "rejected", str(exc)))
                continue
            seen[receipt.id] = digest
            rows.append(row)
            row_index.append(index)
            credited.add(row[20])

        if rows:
            store = _store_sqlite if ctx.sqlite else _store_postgres
            existing = store(conn, rows)
            written = set()
            for row, index in zip(rows, row_index, strict=True):
                rid = row[0]
                stored = existing.get(rid)
                if stored is None:
                    report.accepted += 1
                    report.receipts += 1
                    written.add(row[20])
                    continue
                seen[rid] = stored
                outcome = "duplicate" if stored == row[22] else "conflict"
                report._note(ItemResult(index, "receipt", rid, outcome, _why(outcome, "receipt")))
            _ensure_epochs(ledger, conn, ctx, written)
        if pending_verdicts:
            _store_verdicts(ledger, conn, ctx, pending_verdicts, report, now)


def _why(outcome: Outcome, kind: str) -> str:
    if outcome == "duplicate":
        return f"{kind} already stored with the same content"
    key = "id" if kind == "receipt" else "receipt_id"
    return f"{key}: a {kind} with this {key} is stored with different content"


def _store_verdicts(
    ledger: Ledger,
    conn: Connection,
    ctx: _Context,
    items: list[tuple[int, Verdict, bytes]],
    report: IngestReport,
    now: int,
) -> None:
    ids = sorted({v.receipt_id for _, v, _ in items})
    known: dict[str, tuple[int, bytes | None]] = {}
    for start in range(0, len(ids), _SQLITE_PARAMS):
        part = ids[start : start + _SQLITE_PARAMS]
        query = (
            select(receipts.c.id, receipts.c.credited_epoch, verdicts.c.digest)
            .select_from(receipts.outerjoin(verdicts, verdicts.c.receipt_id == receipts.c.id))
            .where(receipts.c.id.in_(part))
        )
        for rid, epoch, digest in conn.execute(query):
            known[rid] = (int(epoch), bytes(digest) if digest is not None else None)
    rows: list[dict[str, Any]] = []
    for index, verdict, digest in items:
        rid = verdict.receipt_id
        if rid not in known:
            report._note(
                ItemResult(
                    index,
                    "verdict",
                    rid,
                    "rejected",
                    f"receipt_id: no receipt {rid!r} in the ledger",
                )
            )
            continue
        epoch, stored = known[rid]
        if stored is not None:
            outcome: Outcome = "duplicate" if stored == digest else "conflict"
            report._note(ItemResult(index, "verdict", rid, outcome, _why(outcome, "verdict")))
            continue
        known[rid] = (epoch, digest)
        charged = max(epoch, ctx.open_epoch)
        rows.append(
            {
                "receipt_id": rid,
                "ok": verdict.ok,
                "reason": verdict.reason,
                "digest": digest,
                "charged_epoch": charged,
                "received_at": now,
            }
        )
    if rows:
        conn.execute(verdicts.insert(), rows)
        report.accepted += len(rows)
        report.verdicts += len(rows)
        _ensure_epochs(ledger, conn, ctx, {int(r["charged_epoch"]) for r in rows})


# --- public API ----------------------------------------------------------------------------


def ingest_receipts(
    ledger: Ledger,
    items: Iterable[Any],
    *,
    chunk_size: int = DEFAULT_CHUNK,
    keep: int = DEFAULT_KEEP,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest a batch of receipts and verdicts; return what became of each.

    ``items``: JSON texts (``bytes``/``str``, one receipt or ``{"verdict": {...}}``),
    decoded mappings, or :class:`~livepool.receipts.Receipt` / :class:`Verdict` models,
    in any mix; ``None`` items (blank lines) are skipped but keep their index. Streams:
    ``items`` may be a generator of any length; ``chunk_size`` items are written per
    transaction. ``progress(n)`` is called after each chunk with the items it held.
    """
    if chunk_size < 1:
        raise ValidationError(f"chunk_size: must be ≥ 1, got {chunk_size}")
    report = IngestReport(keep=keep)
    seen: dict[str, bytes] = {}  # id -> digest of what this call stored or found
    numbered: Iterator[tuple[int, Any]] = (
        (i, item) for i, item in enumerate(items) if item is not None
    )
    while True:
        chunk = list(itertools.islice(numbered, chunk_size))
        if not chunk:
            break
        _ingest_chunk(ledger, chunk, report, seen)
        if len(seen) > 4 * chunk_size:
            seen.clear()  # bound memory: later repeats are still caught by the database
        if progress is not None:
            progress(chunk[-1][0] + 1)
    return report


def iter_jsonl(stream: IO[bytes]) -> Iterator[bytes | None]:
    """Lines of a JSONL byte stream; blank lines become ``None`` (skipped, numbered)."""
    for line in stream:
        stripped = line.strip()
        yield stripped or None


def ingest_jsonl(
    ledger: Ledger,
    path: str | Path,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    keep: int = DEFAULT_KEEP,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest a JSONL file (receipts, and ``{"verdict": {...}}`` lines), streaming it.

    ``progress(n)`` gets the bytes read so far (for a progress bar over the file size).
    Item indexes in the report are line numbers - 1.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; the generator reads it
    except OSError as exc:
        raise ValidationError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        on_chunk = None
        if progress is not None:
            report_progress = progress

            def on_chunk(_: int) -> None:
                report_progress(handle.tell())

        return ingest_receipts(
            ledger, iter_jsonl(handle), chunk_size=chunk_size, keep=keep, progress=on_chunk
        )
