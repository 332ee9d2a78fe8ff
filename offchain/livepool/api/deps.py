"""Dependencies of the routes, as ``Annotated`` aliases (the request path stays lean)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

from livepool.api.service import Service
from livepool.config import Settings, get_settings
from livepool.errors import LedgerError
from livepool.hashing import checksum_address
from livepool.ledger import service as servicedb

__all__ = [
    "Clock",
    "MinerAddress",
    "Orchestrator",
    "ServiceDep",
    "SettingsDep",
    "checksummed",
    "get_clock",
    "get_service",
    "parse_address",
]


async def get_service(request: Request) -> Service:
    """The app's service (ledger, chain view, caches), made at startup."""
    service: Service = request.app.state.service
    return service


async def get_clock() -> int:
    """Unix seconds now (tests override it)."""
    return int(time.time())


def checksummed(address: str) -> tuple[str | None, str]:
    """``(checksummed, "")`` or ``(None, why not)``, by the package's one address policy."""
    try:
        return checksum_address(address), ""
    except ValueError as exc:
        return None, f"address: {exc}"


async def parse_address(
    address: Annotated[
        str, Path(description="An address: all lower-case, all upper-case, or EIP-55 checksummed.")
    ],
) -> str:
    """The checksummed address, or 422 (mixed case must match its checksum)."""
    account, problem = checksummed(address)
    if account is None:
        raise HTTPException(422, problem)
    return account


def require_orchestrator(
    request: Request, service: Annotated[Service, Depends(get_service)]
) -> str:
    """The orchestrator whose bearer token authorises this request, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    try:
        orchestrator = servicedb.verify_token(service.ledger, token.strip())
    except LedgerError:
        raise HTTPException(503, "the ledger cannot be read right now") from None
    if orchestrator is None:
        raise HTTPException(401, "invalid or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return orchestrator


ServiceDep = Annotated[Service, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Clock = Annotated[int, Depends(get_clock)]
MinerAddress = Annotated[str, Depends(parse_address)]
Orchestrator = Annotated[str, Depends(require_orchestrator)]
