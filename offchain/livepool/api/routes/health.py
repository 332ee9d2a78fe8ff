"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from livepool.api.deps import ServiceDep
from livepool.api.models import HealthPublic, ReadyPublic
from livepool.ledger import service as servicedb

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthPublic)
async def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadyPublic, responses={503: {"model": ReadyPublic}})
def readyz(service: ServiceDep) -> JSONResponse:
    """The ledger can be read (503 otherwise); says when chain data was last refreshed."""
    ok = servicedb.check_ledger(service.ledger)
    body = {
        "status": "ready" if ok else "not ready",
        "ledger": ok,
        "chain_updated_at": service.state.updated_at,
    }
    return JSONResponse(body, status_code=200 if ok else 503)
