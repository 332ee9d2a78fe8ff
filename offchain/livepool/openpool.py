"""Importer for the Livepeer Open Pool fork's event batches (file, folder, HTTP poller).

The fork (``Livepeer-Open-Pool/go-livepeer-openpool``, ``events/tracker.go``) writes JSON
arrays of ``{ID, EventType, Version, Payload, NodeType, Region, DT}``; older builds serve
the same events at ``GET {url}/pool/events?lastCheckTime=<RFC3339>``. This module maps
them onto the ledger and owns nothing else (validation and storage are
:mod:`livepool.ingest`'s).

``job-processed`` events become receipts. The fork's events carry no stream, segment
number or decoded pixels, and no orchestrator address, so the importer **fills in**:

=================  =================================================================
receipt field      from the event
=================  =================================================================
``id``             ``ID`` (the event's UUID: re-importing a batch is a no-op)
``transcoder``     ``Payload.ethAddress``
``pixels_encoded`` ``Payload.computeUnits``
``price_per_unit`` ``Payload.pricePerComputeUnit``; ``pixels_per_unit`` = 1
``latency_ms``     ``Payload.responseTime``; ``duration_ms`` = ``Payload.duration``
``finished_at``    ``DT`` (RFC 3339, seconds; fractions dropped)
``region``         ``Region``; ``status`` = ``ok`` (the fork only reports done jobs)
``stream``         **filled in**: ``"openpool"``
``seq``            **filled in**: ``0``
``pixels_decoded`` **filled in**: ``0`` (so ``decode_weight`` has no effect on them)
``orchestrator``   **filled in**: the pool's configured orchestrator address
=================  =================================================================

Other events (``worker-connected``, ``worker-disconnected``, …) update the rig's status
in the ``nodes`` table: the rig is ``Payload.ethAddress`` plus ``Payload.node`` when
given, else the host part of ``Payload.connection`` (the port changes on every
reconnect), else ``NodeType``. ``…-connected`` sets ``online``, ``…-disconnected``
``offline``; any other event type only records that the rig was seen.

The poller remembers, per URL, the time of its last successful request (``meta`` key
``poll:<url>``) and asks from a minute before it, so events stamped just before a poll
are not missed; the overlap is harmless, ingest being idempotent.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from livepool.errors import LivepoolError, ValidationError
from livepool.hashing import checksum_address
from livepool.ingest import IngestReport, Rejected, ingest_receipts
from livepool.ledger import Ledger

__all__ = [
    "FILLED_IN",
    "OpenPoolReport",
    "event_to_receipt",
    "import_events",
    "import_path",
    "parse_dt",
    "poll",
    "read_events",
]

#: Receipt fields the fork does not report, and the values the importer puts there.
FILLED_IN: Final = {"stream": "openpool", "seq": 0, "pixels_decoded": 0, "status": "ok"}
#: Re-ask this much before the last poll, so late-stamped events are not missed.
POLL_OVERLAP_SECONDS: Final = 60

_RFC3339: Final = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


@dataclass
class OpenPoolReport:
    """The ingest report of the receipts, plus what the other events did."""

    ingest: IngestReport = field(default_factory=IngestReport)
    rig_events: int = 0
    ignored: Counter[str] = field(default_factory=Counter)  # reason -> events

    @property
    def ok(self) -> bool:
        """``True`` when no receipt was rejected or conflicted."""
        return self.ingest.ok

    def summary(self) -> str:
        """One line for the CLI."""
        extra = f"; rig events {self.rig_events}"
        if self.ignored:
            extra += f"; ignored {sum(self.ignored.values())}"
        return self.ingest.summary() + extra


def parse_dt(value: Any) -> int:
    """Unix seconds of an RFC 3339 timestamp (``2025-11-25T00:00:00Z``, Go's nanosecond
    fractions and offsets included); fractions of a second are dropped."""
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationError(f"DT: not an RFC 3339 timestamp: {value!r:.60}")
    day, clock, _fraction, zone = match.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{zone}")
    except ValueError as exc:
        raise ValidationError(f"DT: {exc}: {value!r:.60}") from None
    return int(moment.timestamp())


def _rfc3339(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_to_receipt(event: Mapping[str, Any], orchestrator: str) -> dict[str, Any]:
    """The receipt dict for a ``job-processed`` event (see the module docstring).

    Raises :class:`ValidationError` naming the event field when one is missing; the
    values themselves are checked by ingest.
    """
    payload = event.get("Payload")
    if not isinstance(payload, Mapping):
        raise ValidationError("Payload: missing or not an object")
    missing = [
        f"Payload.{k}"
        for k in ("ethAddress", "computeUnits", "pricePerComputeUnit", "responseTime", "duration")
        if k not in payload
    ]
    if missing:
        raise ValidationError("; ".join(f"{m}: field required" for m in missing))
    receipt: dict[str, Any] = {
        "id": event.get("ID"),
        "orchestrator": orchestrator,
        "transcoder": payload["ethAddress"],
        "finished_at": parse_dt(event.get("DT")),
        "duration_ms": payload["duration"],
        "latency_ms": payload["responseTime"],
        "pixels_encoded": payload["computeUnits"],
        "price_per_unit": payload["pricePerComputeUnit"],
        "pixels_per_unit": 1,
        **FILLED_IN,
    }
    if event.get("Region"):
        receipt["region"] = event["Region"]
    return receipt


def _rig(event: Mapping[str, Any]) -> tuple[str, str, str]:
    payload = event.get("Payload")
    if not isinstance(payload, Mapping):
        raise ValidationError("Payload: missing or not an object")
    try:
        address = checksum_address(payload.get("ethAddress"))
    except ValueError as exc:
        raise ValidationError(f"Payload.ethAddress: {exc}") from None
    node = payload.get("node")
    if not node and isinstance(payload.get("connection"), str):
        node = payload["connection"].rsplit(":", 1)[0].strip("[]")
    node = str(node or event.get("NodeType") or "default")[:128]
    kind = str(event.get("EventType"))
    if kind.endswith("-disconnected"):
        status = "offline"
    elif kind.endswith("-connected"):
        status = "online"
    else:
        status = "seen"
    return address, node, status


def import_events(
    ledger: Ledger,
    events: Iterable[Any],
    *,
    orchestrator: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> OpenPoolReport:
    """Import Open Pool events: ``job-processed`` as receipts, others as rig status.

    ``orchestrator``: the pool orchestrator address filled into every receipt; default
    the pool configuration's ``orchestrator``.
    """
    if orchestrator is None:
        orchestrator = ledger.read_config().orchestrator
        if not orchestrator:
            raise ValidationError(
                "orchestrator: Open Pool events carry none; configure the pool orchestrator "
                "address (livepool config --orchestrator 0x…) or pass it"
            )
    report = OpenPoolReport()
    rig_events: list[tuple[Mapping[str, Any], tuple[str, str, str]]] = []

    def receipts_of() -> Iterator[Any]:
        for event in events:
            if not isinstance(event, Mapping):
                yield Rejected("unknown", f"event: not a JSON object: {type(event).__name__}")
                continue
            kind = event.get("EventType")
            if kind == "job-processed":
                try:
                    yield event_to_receipt(event, orchestrator)
                except ValidationError as exc:
                    rid = event.get("ID") if isinstance(event.get("ID"), str) else None
                    yield Rejected("receipt", str(exc), rid)
                continue
            try:
                rig_events.append((event, _rig(event)))
            except ValidationError as exc:
                report.ignored[f"{kind}: {exc}"] += 1

    report.ingest = ingest_receipts(ledger, receipts_of(), progress=progress)
    updates = _rig_updates(rig_events, report)
    if updates:
        ledger.update_nodes(updates)
        report.rig_events += len(updates)
    return report


def _rig_updates(
    rig_events: list[tuple[Mapping[str, Any], tuple[str, str, str]]], report: OpenPoolReport
) -> list[dict[str, Any]]:
    """The rig status updates of non-job events (those without a valid time are ignored,
    and counted as such in ``report``)."""
    updates: list[dict[str, Any]] = []
    for event, (address, node, status) in rig_events:
        try:
            seen_at = parse_dt(event.get("DT"))
        except ValidationError as exc:
            report.ignored[f"{event.get('EventType')}: {exc}"] += 1
            continue
        updates.append(
            {
                "address": address,
                "node": node,
                "status": status,
                "event_name": str(event.get("EventType"))[:64],
                "seen_at": seen_at,
                "region": (str(event["Region"])[:64] if event.get("Region") else None),
                "detail": json.dumps(event.get("Payload"), sort_keys=True)[:2000],
            }
        )
    return updates


def read_events(path: str | Path) -> Iterator[Any]:
    """Events from a batch file (a JSON array) or every ``*.json`` under a folder (the
    tracker's bucket layout ``{region}/{nodeType}/…json``), in path order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
    elif path.exists():
        files = [path]
    else:
        raise ValidationError(f"{path}: no such file or folder")
    for file in files:
        try:
            batch = json.loads(file.read_bytes())
        except (OSError, ValueError) as exc:
            raise ValidationError(f"{file}: not a JSON event batch: {exc}") from None
        if batch is None:
            continue
        if not isinstance(batch, list):
            raise ValidationError(f"{file}: an event batch is a JSON array")
        yield from batch


def import_path(
    ledger: Ledger, path: str | Path, *, orchestrator: str | None = None
) -> OpenPoolReport:
    """Import a batch file or a folder of them."""
    return import_events(ledger, read_events(path), orchestrator=orchestrator)


def _fetch(
    url: str, timeout: float, retries: int, backoff: float, sleep: Callable[[float], None]
) -> Any:
    attempt = 0
    while True:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                body = response.read()
            return json.loads(body) if body.strip() else []
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt >= retries:
                raise LivepoolError(f"poll {url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt >= retries:
                reason = getattr(exc, "reason", exc)
                raise LivepoolError(
                    f"poll {url}: unreachable after {retries + 1} tries: {reason}"
                ) from None
        except ValueError as exc:
            raise LivepoolError(f"poll {url}: the answer is not JSON: {exc}") from None
        sleep(backoff * 2**attempt)
        attempt += 1


def poll(
    ledger: Ledger,
    url: str,
    since: int | None = None,
    *,
    orchestrator: str | None = None,
    timeout: float = 10.0,
    retries: int = 4,
    backoff: float = 0.5,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> OpenPoolReport:
    """Fetch ``GET {url}/pool/events?lastCheckTime=…`` once and import what it returns.

    ``since`` (unix seconds) defaults to the last successful poll of this ``url`` minus
    :data:`POLL_OVERLAP_SECONDS` (or the beginning of time). Transient failures (network,
    HTTP 5xx) are retried ``retries`` times with exponential backoff; the cursor only
    moves after a successful import.
    """
    base = url.rstrip("/")
    key = f"poll:{base}"[:256]
    if since is None:
        stored = ledger.cursor(key)
        since = max(0, int(stored) - POLL_OVERLAP_SECONDS) if stored else 0
    asked_at = int(now())
    query = urllib.parse.urlencode({"lastCheckTime": _rfc3339(since)})
    events = _fetch(f"{base}/pool/events?{query}", timeout, retries, backoff, sleep)
    if not isinstance(events, list):
        raise LivepoolError(f"poll {url}: expected a JSON array of events")
    report = import_events(ledger, events, orchestrator=orchestrator)
    ledger.set_cursor(key, str(asked_at))
    return report
