"""Dependencies of the routes, as ``Annotated`` aliases (the request path stays lean)."""

from __future__ import annotations

import functools
import time
from typing import Annotated

from eth_utils.address import is_checksum_address, to_checksum_address
from fastapi import Depends, HTTPException, Path, Request

from livepool import servicedb
from livepool.api.service import Service
from livepool.api.settings import ServiceSettings, get_settings
from livepool.errors import LedgerError

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


_HEX = frozenset("0123456789abcdefABCDEF")


@functools.lru_cache(maxsize=65_536)
def checksummed(address: str) -> tuple[str | None, str]:
    """``(checksummed, "")`` or ``(None, why not)``; cached (two keccaks otherwise)."""
    body = address[2:] if address[:2] in ("0x", "0X") else None
    if body is None or len(body) != 40 or not _HEX.issuperset(body):
        return None, f"address: not a 20-byte 0x-hex address: {address[:60]!r}"
    if body != body.lower() and body != body.upper() and not is_checksum_address(address):
        return None, f"address: {address} fails its EIP-55 checksum"
    return str(to_checksum_address("0x" + body)), ""


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
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
Clock = Annotated[int, Depends(get_clock)]
MinerAddress = Annotated[str, Depends(parse_address)]
Orchestrator = Annotated[str, Depends(require_orchestrator)]
