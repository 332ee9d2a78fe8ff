"""Orchestrator-only ingest: batches of receipts and verdicts, one outcome per item.

The body is read by hand (not by a pydantic model): its size and content type are
checked before it is parsed, and each item goes raw to :mod:`livepool.ingest`'s fast
path, the same code as ``livepool ingest``. A batch is written in one transaction, and
the ingest is idempotent on ids, so a retried (or concurrent) batch changes nothing.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from livepool import ingest as _ingest
from livepool.api.deps import Orchestrator, ServiceDep
from livepool.api.models import ERRORS, ErrorPublic, IngestResultPublic, ReceiptsIn, VerdictsIn
from livepool.api.service import Service
from livepool.ledger import service as servicedb

router = APIRouter(prefix="/v1", tags=["ingest"], responses=ERRORS)

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "Missing, invalid or revoked token."},
    413: {"model": ErrorPublic, "description": "Too many items, or a body too large."},
    415: {"model": ErrorPublic, "description": "The body is not application/json."},
    503: {"model": ErrorPublic, "description": "The ledger cannot be reached."},
}


class _Receipts(msgspec.Struct):
    receipts: list[msgspec.Raw]


class _Verdicts(msgspec.Struct):
    verdicts: list[msgspec.Raw]


class _AllOutcomes(_ingest.IngestReport):
    """An ingest report that keeps every item's outcome (the CLI's keeps problems only)."""

    def __init__(self) -> None:
        super().__init__(keep=0)
        self.outcomes: dict[int, _ingest.ItemResult] = {}

    def _note(self, item: _ingest.ItemResult) -> None:
        super()._note(item)
        self.outcomes[item.index] = item


async def _read_items(
    request: Request, service: Service, shape: type[Any], key: str
) -> list[bytes]:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise HTTPException(415, f"content type must be application/json, not {media or 'none'!r}")
    limit = service.settings.max_body_bytes
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise HTTPException(413, f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body over {limit} bytes")
    try:
        items = getattr(msgspec.json.decode(bytes(body), type=shape), key)
    except msgspec.DecodeError as exc:
        raise HTTPException(422, f"body: expected {{{key!r}: [...]}}: {exc}") from None
    if len(items) > service.settings.max_batch:
        raise HTTPException(
            413, f"{key}: {len(items)} items, at most {service.settings.max_batch} per request"
        )
    return [bytes(item) for item in items]


def _rejected(index: int, kind: str, item_id: Any, reason: str) -> tuple[Any, ...]:
    return (_ingest._REJECTED, index, kind, item_id, reason)


def _store(service: Service, orchestrator: str, items: list[bytes], kind: str) -> dict[str, Any]:
    """Check each item's orchestrator, then ingest: the per-item results of the batch."""
    ledger = service.ledger
    entries = _ingest._prepare(list(enumerate(items)), ledger.is_sqlite)
    ids: dict[int, str | None] = {}
    if kind == "verdict":
        wanted = [e[2].receipt_id for e in entries if e[0] == _ingest._VERDICT]
        owners = servicedb.receipt_orchestrators(ledger, wanted) if wanted else {}
    checked = []
    for entry in entries:
        tag, index = entry[0], entry[1]
        if tag == _ingest._RECEIPT:
            ids[index] = entry[2][0]
            if kind != "receipt":
                entry = _rejected(
                    index, "receipt", entry[2][0], "a receipt: post it to /v1/receipts"
                )
            elif entry[2][1] != orchestrator:
                entry = _rejected(
                    index,
                    "receipt",
                    entry[2][0],
                    f"orchestrator: {entry[2][1]} is not this token's orchestrator",
                )
        elif tag == _ingest._VERDICT:
            rid = entry[2].receipt_id
            ids[index] = rid
            if kind != "verdict":
                entry = _rejected(index, "verdict", rid, "a verdict: post it to /v1/verdicts")
            elif rid in owners and owners[rid] != orchestrator:
                entry = _rejected(
                    index, "verdict", rid, f"receipt_id: receipt {rid!r} is another orchestrator's"
                )
        checked.append(entry)
    report = _AllOutcomes()
    writer = _ingest._Writer(ledger, report, chunk_size=len(items) + 1)
    if checked:
        writer.write(checked)
        _ingest.catch_up_counters(ledger)  # SQLite counts after storing (ledger.counters)
    results = []
    metrics = service.metrics
    for index in range(len(items)):
        problem = report.outcomes.get(index)
        if problem is None:
            results.append({"id": ids.get(index), "outcome": "accepted", "reason": None})
            continue
        results.append(
            {
                "id": problem.id,
                "outcome": problem.outcome,
                "reason": None if problem.outcome == "duplicate" else problem.reason,
            }
        )
        if problem.outcome == "rejected":
            metrics.rejects.labels(_ingest._reason_key(problem)).inc()
    for outcome in ("accepted", "duplicate", "conflict", "rejected"):
        count = getattr(report, outcome)
        if count:
            metrics.ingest.labels(kind, outcome).inc(count)
    if report.accepted:
        service.invalidate()
    return {
        "results": results,
        "accepted": report.accepted,
        "duplicate": report.duplicate,
        "conflict": report.conflict,
        "rejected": report.rejected,
    }


def _body_doc(model: type[Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


@router.post(
    "/receipts",
    response_model=IngestResultPublic,
    responses=_ERRORS,
    openapi_extra=_body_doc(ReceiptsIn),
)
async def post_receipts(request: Request, orchestrator: Orchestrator, service: ServiceDep) -> Any:
    """Store a batch of work receipts (at most ``max_batch``, 1000 by default)."""
    items = await _read_items(request, service, _Receipts, "receipts")
    return await run_in_threadpool(_store, service, orchestrator, items, "receipt")


@router.post(
    "/verdicts",
    response_model=IngestResultPublic,
    responses=_ERRORS,
    openapi_extra=_body_doc(VerdictsIn),
)
async def post_verdicts(request: Request, orchestrator: Orchestrator, service: ServiceDep) -> Any:
    """Store a batch of failed-verification verdicts for this orchestrator's receipts."""
    items = await _read_items(request, service, _Verdicts, "verdicts")
    wrapped = [b'{"verdict":' + item + b"}" for item in items]
    return await run_in_threadpool(_store, service, orchestrator, wrapped, "verdict")
