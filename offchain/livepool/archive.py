"""Retention: old epochs' receipts and verdicts move from the hot tables to files.

This module owns the archive file (its format, writing it, reading it back) and the two
uses of it: :func:`archive` (the operator's ``livepool archive``) and
:func:`check_archives` (the auditor's ``livepool check FOLDER --archive DIR``). It never
computes money itself: the checker feeds :class:`~livepool.accounting.EpochTally` and
:func:`~livepool.accounting.settle_epoch`, as the close does.

**The file** ``receipts-<epoch>.jsonl.gz`` (gzip, ``mtime`` 0, no name: the same rows
give the same bytes): one line per receipt credited to the epoch, exactly its canonical
bytes (:func:`livepool.receipts.canonical_receipt_bytes`, so ``keccak256(line)`` is its
digest), then one line per verdict charged in the epoch, ``{"verdict":`` + its canonical
bytes + ``}`` (the ``livepool ingest`` form; the bytes between the prefix and the last
``}`` are what its digest hashes). Each line ends with ``\\n``. The epoch's statement pins
both digest sets, so the file is checked against what was published.

**Which epochs** (:func:`plan`): in order, each closed epoch not archived yet whose
window ended at least ``older_than`` days ago and that is **published**: its
``epoch-N.json`` in the publish folder has exactly the ledger's statement bytes, its
``epoch-N.tree.json`` exactly the tree dump ``livepool epoch publish`` writes, and no
proposal of it is left *prepared* in ``chain_actions`` (a transaction whose fate is not
known yet; a confirmed, abandoned or absent proposal is fine: the keeper proposes only the
latest closed epoch, so many epochs are never proposed, and their cumulatives are carried
by the next root). The archive is then checked against the commitment the world has, not
only against the ledger. Epochs are archived in order and the run stops at the first one
that may not be (saying why), so a verdict's receipt, credited in an earlier epoch, is
always in an earlier archive. An epoch with neither receipts nor verdicts has no file.

**One epoch** (:func:`archive`), crash-safe at every step: (1) each receipt's canonical
bytes are rebuilt from its stored row and must hash to the stored digest (else refused,
naming the receipt); (2) the file is written to a temporary name, fsynced, renamed,
its folder fsynced; (3) it is read back and its digest sets must equal the statement's;
(4) one transaction takes the epoch lock, checks the hot tables still hold exactly the
statement's counts, deletes the epoch's rows (:func:`livepool.ledger.queries.
delete_archived_rows`) and records the file in ``archives``. A crash before (4) leaves
the rows and, at most, a file that a re-run verifies against the statement and uses; a
crash in (4) rolls it back; after (4) the epoch is skipped. A file found at the path that
is not recorded and does not match the statement is refused, never overwritten.

A receipt whose verdict is charged in a later epoch stays in the hot table (the verdict's
foreign key and that epoch's close need it) until that later epoch is archived.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import msgspec

from livepool import epochs
from livepool.accounting import EpochTally, MinerBalance, settle_epoch
from livepool.errors import LedgerError, LivepoolError, ValidationError
from livepool.hashing import keccak256
from livepool.humantime import relative
from livepool.ledger import Ledger, counters, queries
from livepool.publish import statement_path, tree_path
from livepool.receipts import (
    canonical_receipt_bytes,
    canonical_verdict_bytes,
    decode_receipt_fast,
    parse_receipt,
    parse_verdict,
    plausibility,
)
from livepool.statement import DigestSet, DigestSorter, MinerEntry, Statement, load_statement

__all__ = [
    "ARCHIVE_NAME",
    "ArchiveCheck",
    "ArchiveReport",
    "Archived",
    "Candidate",
    "Plan",
    "archive",
    "archive_path",
    "check_archives",
    "check_epoch_archive",
    "plan",
    "read_lines",
]

DAY: Final = 86_400
#: ``receipts-<epoch>.jsonl.gz``.
ARCHIVE_NAME: Final = re.compile(r"^receipts-(\d+)\.jsonl\.gz$")
_VERDICT_PREFIX: Final = b'{"verdict":'
#: gzip level: 3 writes ~2x faster than 6 for a few % more bytes on receipts.
_LEVEL: Final = 3
#: Lines buffered per write into the gzip stream.
_WRITE_BATCH: Final = 10_000
#: Called after the file is renamed into place and before it is verified and recorded.
#: Tests set it to raise, to prove a crash there is finished by the next run.
after_write: Callable[[int, Path], None] | None = None


def archive_path(folder: Path, epoch: int) -> Path:
    """Where epoch ``epoch``'s archive file lives in ``folder``."""
    return folder / f"receipts-{epoch}.jsonl.gz"


# --- which epochs -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """An epoch that may be archived now: its counts and its statement's bytes."""

    epoch: int
    receipts: int
    verdicts: int
    statement: bytes


@dataclass
class Plan:
    """What a run would archive, in order, and why it stops where it stops (``waiting``:
    one line per reason, e.g. an epoch not published, or too young)."""

    candidates: list[Candidate] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    already: int = 0  # epochs archived before
    empty: int = 0  # closed epochs with nothing to archive


def _published_problem(ledger: Ledger, number: int, statement: bytes, folder: Path) -> str | None:
    """Why epoch ``number`` does not count as published in ``folder`` (None: it does)."""
    path = statement_path(folder, number)
    if not path.is_file():
        return f"not published: {path} is missing (livepool epoch publish {folder})"
    if path.read_bytes() != statement:
        return f"{path} differs from the ledger's statement: investigate before archiving"
    tree = tree_path(folder, number)
    if not tree.is_file():
        return f"not published: {tree} is missing (livepool epoch publish {folder})"
    if tree.read_bytes() != epochs.epoch_tree(ledger, number).dump_json().encode():
        return f"{tree} differs from the ledger's tree: investigate before archiving"
    proposal = ledger.chain_action("propose", f"epoch:{number}")
    if proposal is not None and proposal["state"] == "prepared":
        return (
            "its proposal is recorded as prepared, not confirmed (a transaction whose fate is "
            "not known yet): let the keeper or a chain script reconcile it first"
        )
    return None


def plan(ledger: Ledger, *, publish_dir: Path, older_than: float, now: int) -> Plan:
    """The epochs :func:`archive` would archive at ``now`` (see the module docstring)."""
    if not older_than >= 0:
        raise ValidationError(f"older_than: must be ≥ 0 days, got {older_than!r}")
    if not publish_dir.is_dir():
        raise ValidationError(f"{publish_dir}: not a folder of published statements")
    age = int(older_than * DAY)
    out = Plan()
    with ledger.read() as conn:
        archived = {int(r["epoch"]) for r in queries.list_archives(conn)}
        rows = queries.epoch_rows(conn)
    for row in rows:
        number = int(row["number"])
        if number in archived:
            out.already += 1
            continue
        if row["state"] == "open":  # open epochs follow the closed ones
            if now - int(row["end"]) >= age:
                out.waiting.append(f"epoch {number}: still open: close it first")
            break
        if now - int(row["end"]) < age:
            out.waiting.append(
                f"epoch {number}: ended {relative(int(row['end']), now)}, younger than "
                f"{older_than:g} days: kept, and every later epoch with it"
            )
            break
        with ledger.read() as conn:
            stored = queries.epoch_row(conn, number)
        body = str(stored.statement).encode()
        s = load_statement(body)
        if s.receipts.count == 0 and s.verdicts.count == 0:
            out.empty += 1
            continue
        problem = _published_problem(ledger, number, body, publish_dir)
        if problem is not None:
            out.waiting.append(f"epoch {number}: {problem}; later epochs wait (archived in order)")
            break
        out.candidates.append(Candidate(number, s.receipts.count, s.verdicts.count, body))
    return out


# --- writing one epoch ----------------------------------------------------------------------------

_encode_sorted = msgspec.json.Encoder(order="sorted").encode
_OPTIONAL_JSON: Final = ("profiles", "renditions")
_FIELDS: Final = (
    "broadcaster",
    "duration_ms",
    "finished_at",
    "id",
    "latency_ms",
    "node",
    "orchestrator",
    "pixels_decoded",
    "pixels_encoded",
    "pixels_per_unit",
    "price_per_unit",
    "profiles",
    "region",
    "renditions",
    "round",
    "seq",
    "status",
    "stream",
    "transcoder",
)


_decode_json = msgspec.json.decode
#: Positions of :data:`_FIELDS` (and the digest, id, epoch) in the rows streamed, by the
#: rows' own field names (found on the first row).
_Layout = tuple[tuple[tuple[str, int, bool], ...], int, int, int]


def _layout(row: Any) -> _Layout:
    index = {name: i for i, name in enumerate(row._fields)}
    fields = tuple((name, index[name], name in _OPTIONAL_JSON) for name in _FIELDS)
    return fields, index["digest"], index["id"], index["credited_epoch"]


def _receipt_line(row: Any, layout: _Layout) -> bytes:
    """The canonical bytes of a stored receipt row, checked against its stored digest.

    msgspec writes the canonical form in the common case; whatever it spells otherwise
    (the digest tells) is rebuilt through the receipt model, the one definition."""
    fields, digest_at, id_at, epoch_at = layout
    obj: dict[str, Any] = {}
    for name, at, is_json in fields:
        value = row[at]
        if value is not None:
            obj[name] = _decode_json(value) if is_json else value
    obj["price_per_unit"] = int(obj["price_per_unit"])
    obj["pixels_per_unit"] = int(obj["pixels_per_unit"])
    stored = bytes(row[digest_at])
    line = _encode_sorted(obj)
    if keccak256(line) == stored:
        return line
    where = f"epoch {row[epoch_at]}: receipt {row[id_at]!r}"
    try:
        line = canonical_receipt_bytes(parse_receipt(obj))
    except ValidationError as exc:
        raise LedgerError(
            f"{where}: its stored fields are not a valid receipt ({exc}): refusing to "
            "archive the epoch"
        ) from None
    if keccak256(line) != stored:
        raise LedgerError(
            f"{where}: its stored fields hash to 0x{keccak256(line).hex()}, not its stored "
            f"digest 0x{stored.hex()}: the row was changed after ingest; refusing to archive "
            "the epoch"
        )
    return line


def _verdict_line(number: int, row: Any) -> bytes:
    canonical = canonical_verdict_bytes(
        parse_verdict({"ok": bool(row.ok), "reason": row.reason, "receipt_id": row.receipt_id})
    )
    if keccak256(canonical) != bytes(row.digest):
        raise LedgerError(
            f"epoch {number}: the verdict on receipt {row.receipt_id!r} does not rebuild its "
            "stored digest: refusing to archive the epoch"
        )
    return _VERDICT_PREFIX + canonical + b"}"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - a platform without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(ledger: Ledger, number: int, path: Path) -> None:
    """Rebuild and check every line from the hot tables; write them atomically to ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as raw:
            with (
                gzip.GzipFile(
                    filename="", mode="wb", fileobj=raw, compresslevel=_LEVEL, mtime=0
                ) as gz,
                ledger.read() as conn,
            ):
                batch: list[bytes] = []
                layout: _Layout | None = None
                for row in queries.epoch_receipt_rows(conn, number):
                    if layout is None:
                        layout = _layout(row)
                    batch.append(_receipt_line(row, layout))
                    if len(batch) >= _WRITE_BATCH:
                        gz.write(b"\n".join(batch) + b"\n")
                        batch.clear()
                batch.extend(
                    _verdict_line(number, v) for v in queries.epoch_verdict_rows(conn, number)
                )
                if batch:
                    gz.write(b"\n".join(batch) + b"\n")
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def read_lines(path: Path) -> Iterator[bytes]:
    """The lines of an archive file, without their newline."""
    try:
        with gzip.open(path, "rb") as gz:
            for line in gz:
                yield line.rstrip(b"\n")
    except (OSError, EOFError) as exc:
        raise LedgerError(f"{path}: not a readable gzip file: {exc}") from None


def _digest_sets(lines: Iterable[bytes]) -> tuple[DigestSet, DigestSet]:
    """The receipts' and verdicts' digest sets of an archive's lines (no parsing: a
    receipt line is its canonical bytes, a verdict line wraps its canonical bytes)."""
    receipt_digests, verdict_digests = DigestSorter(), DigestSorter()
    for line in lines:
        if line.startswith(_VERDICT_PREFIX) and line.endswith(b"}"):
            verdict_digests.add(keccak256(line[len(_VERDICT_PREFIX) : -1]))
        else:
            receipt_digests.add(keccak256(line))
    return receipt_digests.result(), verdict_digests.result()


def _file_matches(path: Path, s: Statement) -> str | None:
    """Why the file at ``path`` is not epoch ``s.epoch``'s archive (None: it is)."""
    try:
        got_r, got_v = _digest_sets(read_lines(path))
    except LivepoolError as exc:
        return str(exc)
    if got_r != s.receipts:
        return f"its receipts ({got_r.count}, {got_r.digest}) are not the statement's"
    if got_v != s.verdicts:
        return f"its verdicts ({got_v.count}, {got_v.digest}) are not the statement's"
    return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Archived:
    """One epoch's outcome: its file, what moved, how long it took."""

    epoch: int
    path: Path
    receipts: int
    verdicts: int
    bytes: int
    seconds: float
    kept: int = 0  # receipts left in the hot table for a later epoch's verdict
    earlier: int = 0  # receipts of earlier archived epochs deleted with their verdicts
    reused: bool = False  # the file was there already (a run that crashed wrote it)
    skipped: bool = False  # another run archived it meanwhile

    def line(self) -> str:
        """What ``livepool archive`` prints for it."""
        if self.skipped:
            return f"epoch {self.epoch}: archived meanwhile by another run, skipped"
        extra = f"; {self.kept} receipts kept for later verdicts" if self.kept else ""
        extra += f"; {self.earlier} earlier receipts released" if self.earlier else ""
        extra += " (file from an interrupted run, verified)" if self.reused else ""
        return (
            f"epoch {self.epoch}: archived {self.receipts} receipts and {self.verdicts} "
            f"verdicts to {self.path} ({self.bytes:,} bytes, {self.seconds:.1f} s){extra}"
        )


def _archive_epoch(ledger: Ledger, c: Candidate, folder: Path, now: int) -> Archived:
    start = time.monotonic()
    number = c.epoch
    s = load_statement(c.statement)
    path = archive_path(folder, number)
    reused = path.exists()
    if reused:
        problem = _file_matches(path, s)
        if problem is not None:
            raise LedgerError(
                f"epoch {number}: {path} exists, is not recorded as its archive and {problem}: "
                "move it away and run again"
            )
    else:
        _write_file(ledger, number, path)
        if after_write is not None:
            after_write(number, path)
        problem = _file_matches(path, s)
        if problem is not None:
            path.unlink(missing_ok=True)
            raise LedgerError(
                f"epoch {number}: the archive written from the ledger does not match the "
                f"published statement: {problem}; nothing deleted"
            )
    size = path.stat().st_size
    row = {
        "epoch": number,
        "path": str(path.resolve()),
        "sha256": _sha256(path),
        "bytes": size,
        "receipts": s.receipts.count,
        "verdicts": s.verdicts.count,
        "receipts_digest": s.receipts.digest,
        "verdicts_digest": s.verdicts.digest,
        "archived_at": now,
    }
    with ledger.transaction() as conn:
        queries.last_closed(conn, lock="update")  # no close or ingest runs meanwhile
        if queries.archive_row(conn, number) is not None:
            return Archived(number, path, 0, 0, size, time.monotonic() - start, skipped=True)
        counts = queries.epoch_row_counts(conn, number)
        if counts != (s.receipts.count, s.verdicts.count):
            raise LedgerError(
                f"epoch {number}: the hot tables hold {counts[0]} receipts and {counts[1]} "
                f"verdicts for it, the statement {s.receipts.count} and {s.verdicts.count}: "
                "nothing deleted"
            )
        # The counters must have seen every row before any leaves (SQLite counts after
        # storing); then SQLite's rowid cursor comes down to what is left.
        while counters.catch_up(conn, counters.CATCH_UP_BATCH) == counters.CATCH_UP_BATCH:
            pass
        deleted = queries.delete_archived_rows(conn, number)
        counters.lower_cursor(conn)
        queries.record_archive(conn, row)
    return Archived(
        number,
        path,
        s.receipts.count,
        s.verdicts.count,
        size,
        time.monotonic() - start,
        kept=deleted["kept"],
        earlier=deleted["earlier"],
        reused=reused,
    )


@dataclass
class ArchiveReport:
    """A run: the plan, and each epoch archived (empty on a dry run)."""

    plan: Plan
    archived: list[Archived] = field(default_factory=list)
    dry_run: bool = False


def archive(
    ledger: Ledger,
    *,
    archive_dir: Path,
    publish_dir: Path,
    older_than: float,
    now: int | None = None,
    dry_run: bool = False,
    progress: Callable[[Archived], None] | None = None,
) -> ArchiveReport:
    """Archive every epoch :func:`plan` allows, in order, one at a time (module docstring).

    ``progress`` is called after each epoch. A failure stops the run with a
    :class:`~livepool.errors.LivepoolError`; the epochs archived before it stay archived
    and the failing one is unchanged (its rows are all still in the hot tables).
    """
    now = int(time.time()) if now is None else now
    planned = plan(ledger, publish_dir=publish_dir, older_than=older_than, now=now)
    report = ArchiveReport(planned, dry_run=dry_run)
    if dry_run or not planned.candidates:
        return report
    try:
        archive_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationError(f"archive dir {archive_dir}: cannot create it: {exc}") from None
    if not os.access(archive_dir, os.W_OK):
        raise ValidationError(f"archive dir {archive_dir}: not writable")
    for candidate in planned.candidates:
        done = _archive_epoch(ledger, candidate, archive_dir, now)
        report.archived.append(done)
        if progress is not None:
            progress(done)
    return report


# --- the auditor's check ----------------------------------------------------------------------

#: A receipt's facts as the tally needs them:
#: ``(miner, price_per_unit, pixels_per_unit, status, flagged, pixels_encoded, pixels_decoded)``.
Facts = tuple[str, int, int, str, bool, int, int]


class _IdOnly(msgspec.Struct):
    id: str


_decode_id = msgspec.json.Decoder(_IdOnly).decode


def _receipt_facts(line: bytes) -> tuple[str, Facts, int, str | None]:
    """``(id, facts, finished_at, problem)`` of a receipt line; raises ValidationError
    when it is no receipt at all."""
    decoded = decode_receipt_fast(line)
    if decoded is not None:
        r: Any = decoded[0]
        canonical = decoded[1]
    else:
        try:
            obj = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError(f"not JSON: {exc}") from None
        r = parse_receipt(obj)
        canonical = canonical_receipt_bytes(r)
    flagged = r.renditions is not None and plausibility(r) is not None
    facts: Facts = (
        r.transcoder,
        int(r.price_per_unit),
        int(r.pixels_per_unit),
        r.status,
        flagged,
        int(r.pixels_encoded),
        int(r.pixels_decoded),
    )
    problem = None if canonical == line else f"receipt {r.id!r} is not in canonical form"
    return r.id, facts, int(r.finished_at), problem


@dataclass
class _EpochScan:
    """Pass 1 over one archive file."""

    groups: dict[tuple[str, int, int, str, bool], list[int]] = field(default_factory=dict)
    verdict_targets: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _scan(number: int, s: Statement, lines: Iterable[bytes]) -> _EpochScan:
    out = _EpochScan()
    settings = s.settings.to_settings()
    receipt_digests, verdict_digests = DigestSorter(), DigestSorter()
    for index, line in enumerate(lines, 1):
        where = f"epoch {number}: archive line {index}"
        if line.startswith(_VERDICT_PREFIX):
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict) or set(obj) != {"verdict"}:
                    raise ValidationError("a verdict line holds only the 'verdict' key")
                verdict = parse_verdict(obj["verdict"])
            except (ValueError, LivepoolError) as exc:
                out.problems.append(f"{where}: not a verdict: {exc}")
                continue
            canonical = canonical_verdict_bytes(verdict)
            if line != _VERDICT_PREFIX + canonical + b"}":
                out.problems.append(f"{where}: verdict not in canonical form")
            verdict_digests.add(keccak256(canonical))
            out.verdict_targets.append(verdict.receipt_id)
            continue
        try:
            rid, facts, finished_at, problem = _receipt_facts(line)
        except ValidationError as exc:
            out.problems.append(f"{where}: not a receipt: {exc}")
            continue
        if problem is not None:
            out.problems.append(f"{where}: {problem}")
        if finished_at < settings.genesis or settings.epoch_of(finished_at) > number:
            out.problems.append(
                f"{where}: receipt {rid!r} finished at {finished_at}, after epoch {number}'s "
                "window: it cannot be credited to it"
            )
        receipt_digests.add(keccak256(line))
        acc = out.groups.setdefault(facts[:5], [0, 0, 0])
        acc[0] += facts[5]
        acc[1] += facts[6]
        acc[2] += 1
    for what, digests, pinned in (
        ("receipts", receipt_digests, s.receipts),
        ("verdicts", verdict_digests, s.verdicts),
    ):
        try:
            got = digests.result()
        except ValidationError as exc:
            out.problems.append(f"epoch {number}: archived {what}: {exc}")
            continue
        if got.count != pinned.count:
            out.problems.append(
                f"epoch {number}: the archive holds {got.count} {what}, the statement "
                f"{pinned.count}"
            )
        elif got.digest != pinned.digest:
            out.problems.append(
                f"epoch {number}: the archived {what}' digest is {got.digest}, the "
                f"statement's {pinned.digest}"
            )
    return out


def _find(lines: Iterable[bytes], wanted: set[str]) -> Iterator[tuple[str, Facts]]:
    """Pass 2: the facts of the receipts of ``wanted`` found among ``lines``."""
    for line in lines:
        if line.startswith(_VERDICT_PREFIX):
            continue
        try:
            rid = _decode_id(line).id
        except (msgspec.ValidationError, msgspec.DecodeError):
            continue  # reported by pass 1
        if rid in wanted:
            try:
                yield rid, _receipt_facts(line)[1]
            except ValidationError:
                continue


_COMPARED: Final = tuple(name for name in MinerEntry.model_fields if name != "address")


def check_epoch_archive(
    s: Statement,
    scan: _EpochScan,
    receipts_of: Mapping[str, tuple[int, Facts]],
) -> list[str]:
    """Recompute epoch ``s.epoch``'s per-miner work from its archive ``scan`` (and, for its
    verdicts, their receipts: ``receipts_of``, id → (credited epoch, facts)) and compare
    every miner line with the statement's. Pure."""
    number = s.epoch
    problems: list[str] = []
    groups = {k: list(v) for k, v in scan.groups.items()}
    tally = EpochTally()
    for rid in scan.verdict_targets:
        found = receipts_of.get(rid)
        if found is None:
            problems.append(
                f"epoch {number}: the verdict on receipt {rid!r}: its receipt is in no archive "
                "given, so its charge cannot be recomputed"
            )
            continue
        credited, (t, price, ppu, status, flag, enc, dec) = found
        if status != "ok" or flag:
            continue  # never paid (failed), or charged already (implausible)
        if credited == number:
            acc = groups[(t, price, ppu, status, False)]
            acc[0] -= enc
            acc[1] -= dec
            acc[2] -= 1
            tally.charge(t, enc, dec, price, ppu)
        elif credited < number:
            tally.charge(t, enc, dec, price, ppu, clawback=True)
        else:
            problems.append(
                f"epoch {number}: the verdict on receipt {rid!r} is charged before its "
                f"receipt's epoch {credited}"
            )
    for (t, price, ppu, status, flag), (enc, dec, n) in groups.items():
        if n == 0:
            continue
        if status != "ok":
            tally.fail(t, n)
        elif flag:
            tally.charge(t, enc, dec, price, ppu, segments=n)
        else:
            tally.credit(t, enc, dec, price, ppu, segments=n)
    try:
        result = settle_epoch(
            s.settings.to_settings(),
            tally,
            overhead={m.address: m.overhead for m in s.miners if m.overhead},
            previous={m.address: MinerBalance(m.cumulative - m.delta, m.debt_in) for m in s.miners},
            pool_cumulative=s.pool.cumulative - s.pool.delta,
        )
    except LivepoolError as exc:
        return [*problems, f"epoch {number}: cannot settle the archived work: {exc}"]
    stated = {m.address: m for m in s.miners}
    recomputed = {r.address: r for r in result.miners}
    for address in sorted(set(stated) | set(recomputed), key=str.lower):
        m, r = stated.get(address), recomputed.get(address)
        where = f"epoch {number}: miner {address}"
        if m is None:
            problems.append(f"{where}: has work in the archive but no line in the statement")
            continue
        if r is None:
            problems.append(f"{where}: has a line in the statement but no work in the archive")
            continue
        for name in _COMPARED:
            if getattr(m, name) != getattr(r, name):
                problems.append(
                    f"{where}: {name} is {getattr(m, name)} in the statement, "
                    f"{getattr(r, name)} from the archive"
                )
    return problems


@dataclass
class ArchiveCheck:
    """The archives checked against their statements, and every discrepancy."""

    checked: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def archive_files(folder: Path) -> dict[int, Path]:
    """Every ``receipts-N.jsonl.gz`` of ``folder``, by epoch."""
    if not folder.is_dir():
        raise ValidationError(f"{folder}: not a folder of archives")
    found: dict[int, Path] = {}
    for path in folder.iterdir():
        match = ARCHIVE_NAME.match(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def check_archives(statements: Mapping[int, bytes], folder: Path) -> ArchiveCheck:
    """Check every archive file of ``folder`` against the published statement of its
    epoch (``statements``: epoch → published bytes): digest sets, then each miner's
    segments, failed and charged segments, pixels, gross, penalty and clawback bases
    (and what follows from them) recomputed from the archived receipts and verdicts.

    A verdict's receipt may have been credited in an earlier epoch (a late verdict): it
    is looked up in the other archive files, so give the folder every archive up to the
    latest one checked. Cost: one pass over each file, and a second one over every file
    when any verdict is archived; memory ~70 bytes per receipt of the largest epoch (its
    digests are sorted, as the statement's set digest requires).
    """
    report = ArchiveCheck()
    files = archive_files(folder)
    scans: dict[int, tuple[Statement, _EpochScan]] = {}
    for number in sorted(files):
        raw = statements.get(number)
        if raw is None:
            report.problems.append(
                f"epoch {number}: archived in {files[number].name}, but no statement is "
                "published to check it against"
            )
            continue
        try:
            s = load_statement(raw)
            scan = _scan(number, s, read_lines(files[number]))
        except LivepoolError as exc:
            report.problems.append(f"epoch {number}: {exc}")
            continue
        report.problems += scan.problems
        scans[number] = (s, scan)
    wanted = {rid for _, scan in scans.values() for rid in scan.verdict_targets}
    receipts_of: dict[str, tuple[int, Facts]] = {}
    if wanted:
        last = max(n for n, (_, scan) in scans.items() if scan.verdict_targets)
        for number in sorted(n for n in files if n <= last):
            try:
                for rid, facts in _find(read_lines(files[number]), wanted):
                    if rid in receipts_of:
                        report.problems.append(
                            f"receipt {rid!r} is archived twice: epochs "
                            f"{receipts_of[rid][0]} and {number}"
                        )
                    receipts_of[rid] = (number, facts)
            except LivepoolError:
                continue  # reported by pass 1
    for number, (s, scan) in scans.items():
        report.problems += check_epoch_archive(s, scan, receipts_of)
        report.checked.append(number)
    return report
