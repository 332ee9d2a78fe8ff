"""Epochs: the list, each closed epoch's statement and its Merkle tree (immutable)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from livepool.api.deps import ServiceDep
from livepool.api.models import ERRORS, EpochListPublic, ErrorPublic
from livepool.api.service import Service
from livepool.api.views import epoch_state
from livepool.epochs import epoch_tree
from livepool.ledger import service as servicedb

router = APIRouter(prefix="/v1/epochs", tags=["epochs"], responses=ERRORS)

MAX_EPOCH = 2**62
IMMUTABLE = "public, max-age=31536000, immutable"
EpochNumber = Annotated[int, Path(ge=0, le=MAX_EPOCH, description="Epoch number.")]
_NOT_CLOSED: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "The epoch is unknown or still open."}
}
_IMMUTABLE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}}},
    304: {"description": "Not modified (If-None-Match matched the ETag)."},
    **_NOT_CLOSED,
}


@router.get("", response_model=EpochListPublic)
def list_epochs(
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(ge=0, le=MAX_EPOCH)] = None,
) -> dict[str, Any]:
    """Epochs, newest first, with their state on chain."""
    rows = servicedb.epoch_page(service.ledger, limit + 1, before)
    more = len(rows) > limit
    rows = rows[:limit]
    state = service.state
    return {
        "epochs": [
            {
                **r,
                "state": epoch_state(r, state),
                "total": None if r["total"] is None else str(r["total"]),
                "miners": int(r["miners"] or 0),
            }
            for r in rows
        ],
        "next_before": rows[-1]["number"] if more else None,
    }


def _closed(service: Service, number: int) -> tuple[bytes, str]:
    found = service.statements.get(number)
    if found is None:
        row = servicedb.closed_epoch(service.ledger, number)
        if row is None:
            raise HTTPException(404, f"epoch {number} is not closed (no statement yet)")
        found = service.statements[number] = (str(row["statement"]).encode(), str(row["data_hash"]))
    return found


def _immutable(request: Request, body: bytes, etag: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/{number}", response_class=Response, responses=_IMMUTABLE_DOC)
def get_statement(number: EpochNumber, request: Request, service: ServiceDep) -> Response:
    """The statement: the exact canonical bytes whose keccak256 is the on-chain data hash."""
    body, data_hash = _closed(service, number)
    return _immutable(request, body, f'"{data_hash}"')


@router.get("/{number}/tree", response_class=Response, responses=_IMMUTABLE_DOC)
def get_tree(number: EpochNumber, request: Request, service: ServiceDep) -> Response:
    """The OpenZeppelin StandardMerkleTree ``standard-v1`` dump of the epoch."""
    _, data_hash = _closed(service, number)
    body = service.trees.get(number)
    if body is None:
        body = service.trees[number] = epoch_tree(service.ledger, number).dump_json().encode()
    return _immutable(request, body, f'"tree-{data_hash}"')
