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

Speed: a chunk is parsed first (stage 1, pure: the msgspec fast path of
:func:`livepool.receipts.decode_receipt_fast`, else pydantic) and then written (stage 2,
in input order, one transaction): so parsing the next chunk can overlap writing the
last (``parallel``). Rows are stored by :func:`livepool.ledger.queries.store_receipts`:
the driver's ``executemany`` (SQLite, optimistic ``ON
CONFLICT DO NOTHING`` in a savepoint, redone with a look-up of existing ids only when
something was already there) or ``COPY`` (PostgreSQL: straight into ``receipts`` in a
savepoint, else into a temporary table and one ``INSERT … SELECT … ON CONFLICT DO NOTHING
RETURNING id``). In the same transaction, the rows written (not those found stored
already) are added to the counters the service reads (:mod:`livepool.ledger.counters`).
"""

from __future__ import annotations

import collections
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, Literal, cast

import msgspec
import pydantic
from sqlalchemy import Connection

from livepool.errors import ValidationError
from livepool.hashing import keccak256
from livepool.ledger import Ledger, counters, queries
from livepool.ledger.queries import RECEIPT_COLUMNS
from livepool.receipts import (
    Receipt,
    Rendition,
    Verdict,
    canonical_receipt_bytes,
    canonical_verdict_bytes,
    decode_receipt_fast,
    parse_receipt,
    parse_verdict,
    plausibility,
)

__all__ = [
    "DEFAULT_CHUNK",
    "DEFAULT_PARALLEL",
    "IngestReport",
    "ItemResult",
    "Rejected",
    "catch_up_counters",
    "ingest_jsonl",
    "ingest_receipts",
    "iter_jsonl",
]

#: Items per transaction: large enough to amortise commits, small enough to bound memory.
DEFAULT_CHUNK: Final = 20_000
#: How ingest overlaps parsing and writing (see :func:`ingest_receipts`).
Parallel = Literal["auto", "off", "thread", "process"]
_PARALLEL: Final = ("auto", "off", "thread", "process")
#: ``auto``: one thing at a time on SQLite (its driver overlaps badly with parsing:
#: ~32k/s "off" against ~28k/s "thread"), a writer thread on PostgreSQL (~38k/s against
#: ~28k/s), as measured by ``bench/ingest_bench.py --parallel off,thread,process``.
DEFAULT_PARALLEL: Final[Parallel] = "auto"
#: How many non-accepted items a report keeps in full (counts by reason are kept for all).
DEFAULT_KEEP: Final = 1_000

Outcome = Literal["accepted", "duplicate", "conflict", "rejected", "flagged"]

_BASE_WIDTH: Final = len(RECEIPT_COLUMNS) - 3  # what parsing alone can fill in
_DIGEST: Final = RECEIPT_COLUMNS.index("digest")
_CREDITED: Final = RECEIPT_COLUMNS.index("credited_epoch")
_FLAGGED: Final = RECEIPT_COLUMNS.index("flagged")

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
    flagged: int = 0  # receipts accepted but implausible: credited nothing at close
    flagged_items: list[ItemResult] = field(default_factory=list)
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
        """One line: ``accepted 10 (8 receipts, 2 verdicts), duplicate 2, conflict 0,
        rejected 1`` (and ``, flagged N`` when receipts were implausible)."""
        flagged = (
            f", flagged {self.flagged} (implausible: credited nothing)" if self.flagged else ""
        )
        return (
            f"accepted {self.accepted} ({self.receipts} receipts, {self.verdicts} verdicts), "
            f"duplicate {self.duplicate}, conflict {self.conflict}, rejected {self.rejected}"
            f"{flagged}"
        )


def _reason_key(item: ItemResult) -> str:
    if item.outcome == "conflict":
        return "conflict"
    fields = [part.split(":", 1)[0].strip() for part in item.reason.split("; ")]
    return f"{item.kind}: " + ", ".join(dict.fromkeys(f for f in fields if f))


# --- parsing ----------------------------------------------------------------------------

_Parsed = tuple[Literal["receipt"], Receipt] | tuple[Literal["verdict"], Verdict]


class Rejected(ValidationError):
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


# --- stage 1: parse (pure, no database) ------------------------------------------------------
# Each item becomes one entry: (_RECEIPT, index, base row), (_VERDICT, index, verdict,
# digest) or (_REJECTED, index, kind, id, reason). Nothing here depends on the ledger,
# so it runs ahead of the writer (another thread or process) without changing a result.

_RECEIPT: Final = 0
_VERDICT: Final = 1
_REJECTED: Final = 2

_encode_json = msgspec.json.Encoder().encode

_Entry = tuple[Any, ...]


def _base_row(
    r: Any, digest: bytes, renditions_json: str | None, sqlite: bool, profiles: dict[Any, str]
) -> tuple[Any, ...]:
    """The receipt's row up to ``digest`` (columns in :data:`_RECEIPT_COLUMNS` order)."""
    profiles_json = None
    if r.profiles is not None:
        key = tuple(r.profiles)
        profiles_json = profiles.get(key)
        if profiles_json is None:
            profiles_json = profiles[key] = json.dumps(r.profiles)
    price: int | str = r.price_per_unit
    ppu: int | str = r.pixels_per_unit
    if sqlite:  # SQLite integers stop at 2**63: UInt256 columns hold decimal text
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
        None if r.renditions is None else plausibility(r),
        digest,
    )


def _prepare(chunk: list[tuple[int, Any]], sqlite: bool) -> list[_Entry]:
    """Parse and validate one chunk of ``(index, item)``: the writer's entries, in order."""
    out: list[_Entry] = []
    append = out.append
    profiles: dict[Any, str] = {}
    for index, item in chunk:
        cls = item.__class__
        decoded = decode_receipt_fast(item) if cls is bytes or cls is str else None
        if decoded is not None:  # the common case: no pydantic model at all
            r, canonical = decoded
            renditions = r.renditions
            rj = None if renditions is None else _encode_json(renditions).decode()
            append((_RECEIPT, index, _base_row(r, keccak256(canonical), rj, sqlite, profiles)))
            continue
        try:
            kind, model = _parse(item)
        except _Rejected as exc:
            rid = exc.item_id if isinstance(item, Rejected) else _item_id(item)
            append((_REJECTED, index, exc.kind, rid, exc.reason))
            continue
        if kind == "verdict":
            verdict = cast(Verdict, model)
            append((_VERDICT, index, verdict, keccak256(canonical_verdict_bytes(verdict))))
            continue
        receipt = cast(Receipt, model)
        digest = keccak256(canonical_receipt_bytes(receipt))
        rj = None if receipt.renditions is None else _renditions_json(receipt.renditions).decode()
        append((_RECEIPT, index, _base_row(receipt, digest, rj, sqlite, profiles)))
    return out


def _prepare_job(job: tuple[list[tuple[int, Any]], bool]) -> list[_Entry]:
    return _prepare(*job)


# --- stage 2: write (one transaction per chunk, in input order) -------------------------


class _Context:
    """What every item of one ingest call is checked against."""

    def __init__(self, ledger: Ledger, conn: Connection) -> None:
        config = queries.read_config(conn)
        self.genesis: int = config.genesis
        self.epoch_seconds: int = config.epoch_seconds
        self.fee_address: str | None = config.fee_address
        last = queries.last_closed(conn, lock="share")
        self.open_epoch: int = -1 if last is None else last + 1
        # Receipts of archived epochs are refused: their ids left the ledger, so a repeat
        # could no longer be told from a new receipt (it would be paid twice).
        archived = queries.archived_through(conn)
        self.archived: int = -1 if archived is None else archived
        self.conn = conn

    def ensure_epochs(self, numbers: set[int]) -> None:
        """Make an ``open`` row for each epoch that now has something credited to it."""
        queries.ensure_open_epochs(self.conn, numbers, self.genesis, self.epoch_seconds)


class _Writer:
    """Stage 2: checks against the ledger, deduplication, storage and the report.

    Runs one chunk at a time in input order, whatever thread calls it, so the report
    (counts, problems, their order) is the same as a strictly sequential ingest's.
    """

    def __init__(self, ledger: Ledger, report: IngestReport, chunk_size: int) -> None:
        self.ledger = ledger
        self.report = report
        # id -> digest of what this call stored or found, in two generations: the older
        # is dropped when the newer fills up (memory stays bounded; a repeat seen no more
        # is still caught by the database, with the same outcome).
        self.seen: dict[str, bytes] = {}
        self.older: dict[str, bytes] = {}
        self.limit = 2 * chunk_size
        self.direct = True  # PostgreSQL: COPY straight into receipts until an id clashes

    def write(self, entries: list[_Entry]) -> None:
        """Store one prepared chunk in one transaction and note every outcome."""
        ledger, report, seen, older = self.ledger, self.report, self.seen, self.older
        note = report._note
        now = int(time.time())
        with ledger.transaction() as conn:
            ctx = _Context(ledger, conn)
            genesis, seconds, fee = ctx.genesis, ctx.epoch_seconds, ctx.fee_address
            open_epoch, archived = ctx.open_epoch, ctx.archived
            rows: list[tuple[Any, ...]] = []
            row_index: list[int] = []
            pending_verdicts: list[tuple[int, Verdict, bytes]] = []
            for entry in entries:
                tag, index = entry[0], entry[1]
                if tag == _RECEIPT:
                    base = entry[2]
                    rid = base[0]
                    before = seen.get(rid) or older.get(rid)
                    if before is not None:
                        outcome: Outcome = "duplicate" if before == base[_DIGEST] else "conflict"
                        note(ItemResult(index, "receipt", rid, outcome, _why(outcome, "receipt")))
                        continue
                    finished_at = base[5]
                    if finished_at < genesis:
                        reason = (
                            f"finished_at: {finished_at} is before the pool's genesis {genesis}"
                        )
                        note(ItemResult(index, "receipt", rid, "rejected", reason))
                        continue
                    if base[2] == fee:
                        reason = f"transcoder: {fee} is the pool's fee address"
                        note(ItemResult(index, "receipt", rid, "rejected", reason))
                        continue
                    epoch = (finished_at - genesis) // seconds
                    if epoch <= archived:
                        reason = (
                            f"finished_at: {finished_at} falls in epoch {epoch}, which is "
                            f"archived (epochs up to {archived} are): a receipt that old "
                            "cannot be told from one already paid, so it is refused"
                        )
                        note(ItemResult(index, "receipt", rid, "rejected", reason))
                        continue
                    seen[rid] = base[_DIGEST]
                    rows.append((*base, epoch, max(epoch, open_epoch), now))
                    row_index.append(index)
                elif tag == _VERDICT:
                    pending_verdicts.append((index, entry[2], entry[3]))
                else:
                    note(ItemResult(index, entry[2], entry[3], "rejected", entry[4]))

            if rows:
                self._store(ctx, rows, row_index)
            if pending_verdicts:
                _store_verdicts(conn, ctx, pending_verdicts, report, now)
        if len(seen) > self.limit:
            self.older, self.seen = seen, {}

    def _store(self, ctx: _Context, rows: list[tuple[Any, ...]], row_index: list[int]) -> None:
        """Store a chunk's new receipt rows; note those found stored already."""
        report, seen = self.report, self.seen
        existing = queries.store_receipts(ctx.conn, rows, direct=self.direct)
        self.direct = not existing
        # The counters the service reads: on PostgreSQL in the same transaction, exactly
        # the rows written (never those stored already); on SQLite by the catch-up at the
        # end of the ingest (see livepool.ledger.counters).
        if counters.inline(ctx.conn):
            counters.count_receipts(
                ctx.conn, [row for row in rows if row[0] not in existing] if existing else rows
            )
        written = set()
        for row, index in zip(rows, row_index, strict=True):
            rid = row[0]
            stored = existing.get(rid)
            if stored is None:
                report.accepted += 1
                report.receipts += 1
                written.add(row[_CREDITED])
                if row[_FLAGGED] is not None:
                    report.flagged += 1
                    if len(report.flagged_items) < report.keep:
                        report.flagged_items.append(
                            ItemResult(index, "receipt", rid, "flagged", str(row[_FLAGGED]))
                        )
                continue
            seen[rid] = stored
            outcome: Outcome = "duplicate" if stored == row[_DIGEST] else "conflict"
            report._note(ItemResult(index, "receipt", rid, outcome, _why(outcome, "receipt")))
        ctx.ensure_epochs(written)


def _why(outcome: Outcome, kind: str) -> str:
    if outcome == "duplicate":
        return f"{kind} already stored with the same content"
    key = "id" if kind == "receipt" else "receipt_id"
    return f"{key}: a {kind} with this {key} is stored with different content"


def _store_verdicts(
    conn: Connection,
    ctx: _Context,
    items: list[tuple[int, Verdict, bytes]],
    report: IngestReport,
    now: int,
) -> None:
    known = queries.verdict_targets(conn, sorted({v.receipt_id for _, v, _ in items}))
    rows: list[dict[str, Any]] = []
    archived: list[int | None] = []  # looked up once, when a receipt is unknown
    for index, verdict, digest in items:
        rid = verdict.receipt_id
        if rid not in known:
            if not archived:
                archived.append(queries.archived_through(conn))
            why = f"receipt_id: no receipt {rid!r} in the ledger"
            if archived[0] is not None:
                # Archived receipts left the ledger (livepool.archive); telling whether this
                # one is among them would take an index of every archived id.
                why += (
                    f" (epochs up to {archived[0]} are archived: if it was credited in one "
                    "of them, that epoch is settled for good and no verdict can charge it)"
                )
            report._note(ItemResult(index, "verdict", rid, "rejected", why))
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
        queries.insert_verdicts(conn, rows)
        report.accepted += len(rows)
        report.verdicts += len(rows)
        ctx.ensure_epochs({int(r["charged_epoch"]) for r in rows})


# --- public API ----------------------------------------------------------------------------


def ingest_receipts(
    ledger: Ledger,
    items: Iterable[Any],
    *,
    chunk_size: int = DEFAULT_CHUNK,
    keep: int = DEFAULT_KEEP,
    progress: Callable[[int], None] | None = None,
    parallel: Parallel = DEFAULT_PARALLEL,
) -> IngestReport:
    """Ingest a batch of receipts and verdicts; return what became of each.

    ``items``: JSON texts (``bytes``/``str``, one receipt or ``{"verdict": {...}}``),
    decoded mappings, or :class:`~livepool.receipts.Receipt` / :class:`Verdict` models,
    in any mix; ``None`` items (blank lines) are skipped but keep their index. Streams:
    ``items`` may be a generator of any length; ``chunk_size`` items are written per
    transaction. ``progress(n)`` is called after each chunk with the items it held.

    ``parallel``: ``"auto"`` (default) picks ``"off"`` on SQLite and ``"thread"`` on
    PostgreSQL (see :data:`DEFAULT_PARALLEL`); ``"thread"`` parses the next chunk while
    a writer thread stores the last one (the database driver releases the GIL);
    ``"process"`` parses in a worker process instead; ``"off"`` does one thing at a
    time. The report is the same whichever is chosen: chunks are stored in input order.
    """
    if chunk_size < 1:
        raise ValidationError(f"chunk_size: must be ≥ 1, got {chunk_size}")
    if parallel not in _PARALLEL:
        raise ValidationError(f"parallel: one of {', '.join(_PARALLEL)}, got {parallel!r}")
    report = IngestReport(keep=keep)
    writer = _Writer(ledger, report, chunk_size)
    sqlite = ledger.is_sqlite
    if parallel == "auto":
        parallel = "off" if sqlite else "thread"
    numbered: Iterator[tuple[int, Any]] = (
        (i, item) for i, item in enumerate(items) if item is not None
    )
    chunks = iter(lambda: list(itertools.islice(numbered, chunk_size)), [])

    def done(chunk: list[tuple[int, Any]]) -> None:
        if progress is not None:
            progress(chunk[-1][0] + 1)

    with ledger.bulk():  # SQLite: one WAL checkpoint at the end, not one per 1,000 pages
        try:
            _run(writer, chunks, sqlite, parallel, done)
        finally:  # what was stored is counted, even when a later chunk failed
            if sqlite:
                catch_up_counters(ledger)
    return report


def catch_up_counters(ledger: Ledger) -> int:
    """SQLite: count every receipt stored but not counted yet (one transaction per
    1,000,000); return how many. Ingest does it at its end; run it after a crash. No-op on
    PostgreSQL, which counts in each chunk's transaction."""
    if not ledger.is_sqlite:
        return 0
    total = 0
    while True:
        with ledger.transaction() as conn:
            n = counters.catch_up(conn, counters.CATCH_UP_BATCH)
        total += n
        if n < counters.CATCH_UP_BATCH:
            return total


def _run(
    writer: _Writer,
    chunks: Iterator[list[tuple[int, Any]]],
    sqlite: bool,
    parallel: str,
    done: Callable[[list[tuple[int, Any]]], None],
) -> None:
    if parallel == "off":
        for chunk in chunks:
            writer.write(_prepare(chunk, sqlite))
            done(chunk)
    elif parallel == "thread":
        with ThreadPoolExecutor(1, thread_name_prefix="livepool-ingest") as pool:
            pending: tuple[Future[None], list[tuple[int, Any]]] | None = None
            for chunk in chunks:
                entries = _prepare(chunk, sqlite)  # overlaps the write of the previous chunk
                if pending is not None:
                    pending[0].result()
                    done(pending[1])
                pending = pool.submit(writer.write, entries), chunk
            if pending is not None:
                pending[0].result()
                done(pending[1])
    else:
        _ingest_processes(writer, chunks, sqlite, done)


def _ingest_processes(
    writer: _Writer,
    chunks: Iterator[list[tuple[int, Any]]],
    sqlite: bool,
    done: Callable[[list[tuple[int, Any]]], None],
) -> None:
    """Parse chunks in a worker process, a few ahead, and write them here in order."""
    import multiprocessing

    # fork: the worker starts in milliseconds with everything imported (spawn: ~1 s).
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(1) as workers:
        ahead: collections.deque[tuple[Any, list[tuple[int, Any]]]] = collections.deque()
        for chunk in chunks:
            if all(item.__class__ is bytes or item.__class__ is str for _, item in chunk):
                ahead.append((workers.apply_async(_prepare_job, ((chunk, sqlite),)), chunk))
            else:  # models and importer rejections stay in this process
                ahead.append((_prepare(chunk, sqlite), chunk))
            while len(ahead) > 2:
                _write_ahead(writer, ahead.popleft(), done)
        while ahead:
            _write_ahead(writer, ahead.popleft(), done)


def _write_ahead(
    writer: _Writer,
    job: tuple[Any, list[tuple[int, Any]]],
    done: Callable[[list[tuple[int, Any]]], None],
) -> None:
    entries, chunk = job
    writer.write(entries if isinstance(entries, list) else entries.get())
    done(chunk)


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
