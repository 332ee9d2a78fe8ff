"""Miners: balances and stats, payments, the claim proof, and signed payout settings."""

from __future__ import annotations

from typing import Annotated, Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from livepool.api.deps import Clock, MinerAddress, ServiceDep, checksummed
from livepool.api.models import (
    ERRORS,
    ErrorPublic,
    MinerPublic,
    PaymentsPublic,
    ProofPublic,
    SettingsIn,
    SettingsPublic,
)
from livepool.api.routes.pool import EIP712_NAME, EIP712_VERSION
from livepool.api.service import Service
from livepool.api.views import NotSeen, miner_view, not_seen_detail, payments_view
from livepool.ledger import service as servicedb

router = APIRouter(prefix="/v1/miners", tags=["miners"], responses=ERRORS)

_NOT_SEEN: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "The pool has never seen this miner."}
}
_BAD_SIGNATURE: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ErrorPublic,
        "description": "Bad or expired signature, replayed nonce, wrong domain.",
    },
    413: {"model": ErrorPublic, "description": "Body too large."},
    415: {"model": ErrorPublic, "description": "Not application/json."},
}
JSON = "application/json"
UINT256_MAX = 2**256 - 1

#: The EIP-712 types of a payout-settings change (docs/api.md).
SETTINGS_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "PayoutSettings": [
        {"name": "account", "type": "address"},
        {"name": "mode", "type": "string"},
        {"name": "threshold", "type": "uint256"},
        {"name": "gasCapBps", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}


def settings_typed_data(
    chain_id: int, contract: str, account: str, body: dict[str, Any]
) -> dict[str, Any]:
    """The full EIP-712 message a miner signs for ``body`` (mode, threshold, …)."""
    return {
        "types": SETTINGS_TYPES,
        "primaryType": "PayoutSettings",
        "domain": {
            "name": EIP712_NAME,
            "version": EIP712_VERSION,
            "chainId": chain_id,
            "verifyingContract": contract,
        },
        "message": {
            "account": account,
            "mode": body["mode"],
            "threshold": int(body["threshold"]),
            "gasCapBps": int(body.get("gas_cap_bps") or 0),
            "nonce": int(body["nonce"]),
            "deadline": int(body["deadline"]),
        },
    }


def _miner_bytes(service: Service, address: str, now: int) -> bytes:
    try:
        view = miner_view(service.ledger, service.state, service.settings, address, now)
    except NotSeen:
        return b""  # cached too: an unknown miner asked again costs nothing
    return MinerPublic.model_validate(view).model_dump_json().encode()


@router.get(
    "/{address}/proof",
    response_model=ProofPublic,
    responses={404: {"model": ErrorPublic, "description": "No leaf in the active root."}},
)
async def get_proof(
    address: Annotated[str, PathParam(description="The miner's address.")], request: Request
) -> Response:
    """The claim proof against the active root, with ready-to-send ``claim`` calldata."""
    # The hottest path: no Depends (each costs a solve per request), pre-serialised bytes.
    account, problem = checksummed(address)
    if account is None:
        raise HTTPException(422, problem)
    service: Service = request.app.state.service
    epoch = service.active_epoch
    if epoch is None:
        raise HTTPException(404, "there is no active root yet")
    proofs = service.proofs.ready(epoch)
    if proofs is None:
        proofs = await run_in_threadpool(service.proofs.get, epoch)
    body = proofs.render(account, service.state.claimed.get(account, 0))
    if body is None:
        raise HTTPException(
            404, f"account {account} has no leaf in the active root (epoch {epoch})"
        )
    return Response(body, media_type=JSON)


@router.get("/{address}", response_model=MinerPublic, responses=_NOT_SEEN)
async def get_miner(address: MinerAddress, service: ServiceDep, now: Clock) -> Response:
    """Balances, payout settings, next payout, stats, rigs, per-epoch history and a chart."""
    key = ("miner", address)
    body = service.fresh(key)
    if body is None:
        body = await run_in_threadpool(
            service.cached, key, lambda: _miner_bytes(service, address, now)
        )
    if not body:
        raise HTTPException(404, await run_in_threadpool(not_seen_detail, service.ledger, address))
    return Response(body, media_type=JSON)


@router.get("/{address}/payments", response_model=PaymentsPublic, responses=_NOT_SEEN)
def get_payments(
    address: MinerAddress,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> dict[str, Any]:
    """Payouts (claims and pushes) to this miner, newest first."""
    return payments_view(service.ledger, service.state, address, offset, limit)


@router.put(
    "/{address}/settings",
    response_model=SettingsPublic,
    responses={
        **_BAD_SIGNATURE,
        503: {"model": ErrorPublic, "description": "No contract configured."},
    },
)
def put_settings(
    address: MinerAddress, body: SettingsIn, service: ServiceDep, now: Clock
) -> dict[str, Any]:
    """Change payout mode, threshold and gas cap, signed by the miner with EIP-712."""
    settings = service.settings
    if not settings.contract:
        raise HTTPException(503, "payout settings need the pool's contract to be configured")
    threshold = int(body.threshold)
    if threshold > UINT256_MAX:
        raise HTTPException(422, "threshold: above 2**256 - 1")
    if body.deadline <= now:
        raise HTTPException(403, f"signature expired at {body.deadline} (now {now})")
    if body.deadline > now + settings.max_signature_seconds:
        raise HTTPException(
            403,
            f"deadline {body.deadline} is more than {settings.max_signature_seconds} s ahead",
        )
    typed = settings_typed_data(settings.chain_id, settings.contract, address, body.model_dump())
    try:
        signer = Account.recover_message(
            encode_typed_data(full_message=typed), signature=body.signature
        )
    except Exception:
        raise HTTPException(403, "signature: cannot be recovered") from None
    if signer != address:
        raise HTTPException(
            403,
            f"signature is not by {address} for this pool "
            f"(chain {settings.chain_id}, contract {settings.contract})",
        )
    saved = servicedb.save_signed_settings(
        service.ledger,
        address=address,
        mode=body.mode,
        threshold=threshold,
        gas_cap_bps=body.gas_cap_bps or 0,
        nonce=body.nonce,
        deadline=body.deadline,
        chain_id=settings.chain_id,
        contract=settings.contract,
        signature=body.signature,
        now=now,
    )
    if not saved:
        current = servicedb.miner_settings(service.ledger, address)["nonce"]
        raise HTTPException(403, f"nonce: must be {current + 1} (the stored nonce + 1)")
    service.invalidate()
    row = servicedb.miner_settings(service.ledger, address)
    return {**row, "threshold": str(row["threshold"])}
