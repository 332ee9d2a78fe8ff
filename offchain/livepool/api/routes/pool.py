"""The pool: configuration, funds, statistics, rig selection."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from livepool.api.deps import Clock, ServiceDep
from livepool.api.models import ERRORS, ConfigPublic, PoolPublic, SelectionPublic
from livepool.api.service import Service
from livepool.api.views import pool_view, selection_view

router = APIRouter(prefix="/v1", tags=["pool"], responses=ERRORS)

EIP712_NAME = "Livepool"
EIP712_VERSION = "1"


def pool_bytes(service: Service, now: int) -> bytes:
    """The pool view's JSON, from the cache or built (the app warms it at startup)."""

    def build() -> bytes:
        view = pool_view(service.ledger, service.state, service.settings, now)
        return PoolPublic.model_validate(view).model_dump_json().encode()

    return service.cached("pool", build)


@router.get("/pool", response_model=PoolPublic)
async def get_pool(service: ServiceDep, now: Clock) -> Response:
    """Pool configuration, roots, funds, statistics and a 7-day hourly chart."""
    body = service.fresh("pool") or await run_in_threadpool(pool_bytes, service, now)
    return Response(body, media_type="application/json")


@router.get("/selection", response_model=SelectionPublic)
def get_selection(service: ServiceDep, now: Clock) -> Response:
    """Online rigs ranked by score over the last hour."""

    def build() -> bytes:
        view = selection_view(service.ledger, service.settings, now)
        return SelectionPublic.model_validate(view).model_dump_json().encode()

    return Response(service.cached("selection", build), media_type="application/json")


@router.get("/config", response_model=ConfigPublic)
async def get_config(service: ServiceDep) -> dict[str, object]:
    """Chain, contract and EIP-712 domain for wallets."""
    s = service.settings
    return {
        "chain_id": s.chain_id,
        "contract": s.contract,
        "explorer_url": s.explorer_url,
        "eip712": {"name": EIP712_NAME, "version": EIP712_VERSION},
    }
