"""Request (``…In``) and response (``…Public``) models of the HTTP API (docs/api.md).

Amounts are decimal strings of wei (``Wei``), rates are floats, times unix seconds.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "ERRORS",
    "ChainFreshness",
    "ConfigPublic",
    "EpochListPublic",
    "ErrorPublic",
    "HealthPublic",
    "IngestResultPublic",
    "MinerPublic",
    "PaymentsPublic",
    "PoolPublic",
    "ProofPublic",
    "ReadyPublic",
    "ReceiptsIn",
    "SelectionPublic",
    "SettingsIn",
    "SettingsPublic",
    "VerdictsIn",
]

Wei = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,78}$")]
Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
Hex32 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-f]{64}$")]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorPublic(_Out):
    """Every 4xx/5xx body: one plain sentence."""

    detail: str


#: Documented on every router: the shape of an error.
ERRORS: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorPublic, "description": "Malformed input (an address, a number, a body)."},
}


class ChainFreshness(_Out):
    updated_at: int | None
    stale: bool


class HealthPublic(_Out):
    status: Literal["ok"]


class ReadyPublic(_Out):
    status: Literal["ready", "not ready"]
    ledger: bool
    chain_updated_at: int | None


class CommissionNext(_Out):
    commission_bps: int
    effective_epoch: int


class PricePublic(_Out):
    price_per_unit: Wei
    pixels_per_unit: Wei


class EpochWindow(_Out):
    number: int
    start: int
    end: int
    settle_at: int
    seconds: int
    settle_seconds: int


class RootPublic(_Out):
    epoch: int
    root: Hex32
    total: Wei
    data_hash: Hex32
    valid_at: int | None = None


class RootsPublic(_Out):
    active: RootPublic | None
    pending: RootPublic | None


class FundsPublic(_Out):
    balance: Wei | None
    total_claimed: Wei | None
    liabilities: Wei | None
    surplus: Wei | None
    solvent: bool | None


class PixelRates(_Out):
    now: float
    day: float
    week: float


class PoolStats(_Out):
    miners: int
    miners_online: int
    rigs: int
    rigs_online: int
    pixels_per_second: PixelRates
    segments_24h: int
    failed_rate_24h: float
    gross_unsettled: Wei
    latency_ratio_p50: float | None
    latency_ratio_p95: float | None
    paid_total: Wei | None


class Series(_Out):
    t: list[int]
    pixels_per_second: list[float]


class TopRig(_Out):
    address: str
    node: str
    score: float
    pixels_per_second: float
    success_rate: float
    latency_p95_ratio: float | None
    realtime_ratio: float | None


class PoolPublic(_Out):
    chain_id: int
    contract: str | None
    explorer_url: str
    fee_address: str | None
    commission_bps: int
    commission_next: CommissionNext | None
    penalty_multiplier: float
    decode_weight: float
    price: PricePublic | None
    epoch: EpochWindow
    roots: RootsPublic
    funds: FundsPublic
    stats: PoolStats
    series: Series
    top_rigs: list[TopRig]
    chain: ChainFreshness


class EpochRow(_Out):
    number: int
    start: int
    end: int
    state: Literal["open", "closed", "proposed", "pending", "active", "superseded", "revoked"]
    root: str | None
    data_hash: str | None
    total: Wei | None
    closed_at: int | None
    miners: int


class EpochListPublic(_Out):
    epochs: list[EpochRow]
    next_before: int | None


class Balances(_Out):
    unsettled: Wei
    in_pending_root: Wei
    claimable_at: int | None
    cumulative: Wei
    claimed: Wei
    claimable: Wei
    debt: Wei
    pushed: Wei


class SettingsPublic(_Out):
    mode: Literal["claim", "push"]
    threshold: Wei
    gas_cap_bps: int | None
    nonce: int
    updated_at: int | None


class NextPayout(_Out):
    reason: Literal["below_threshold", "epoch_open", "challenge_window", "claimable", "queued_push"]
    eta: int | None
    amount: Wei
    detail: str


class MinerStats(_Out):
    pixels_per_second_24h: float
    segments_24h: int
    failed_24h: int
    flagged_24h: int
    latency_ratio_p95: float | None


class RigPublic(_Out):
    node: str
    online: bool
    last_seen: int | None
    region: str | None
    pixels_per_second: float
    segments: int
    failed: int
    latency_p95_ms: float | None
    realtime_ratio: float | None
    score: float


class MinerEpoch(_Out):
    epoch: int
    segments: int
    failed_segments: int
    pixels: Wei
    gross: Wei
    commission: Wei
    penalty: Wei
    overhead: Wei
    delta: Wei
    cumulative: Wei
    debt: Wei


class MinerPublic(_Out):
    address: str
    first_seen: int | None
    last_seen: int | None
    balances: Balances
    settings: SettingsPublic
    next_payout: NextPayout
    stats: MinerStats
    rigs: list[RigPublic]
    epochs: list[MinerEpoch]
    series: Series
    chain: ChainFreshness


class PaymentPublic(_Out):
    kind: Literal["claim", "push"]
    tx_hash: str
    block: int
    amount: Wei
    gas_charged: Wei
    time: int | None
    recipient: str


class PaymentsPublic(_Out):
    payments: list[PaymentPublic]
    total: int


class ClaimTx(_Out):
    to: str | None
    data: str
    value: Wei


class ProofPublic(_Out):
    account: str
    cumulative: Wei
    claimed: Wei
    claimable: Wei
    proof: list[Hex32]
    root: Hex32
    epoch: int
    contract: str | None
    chain_id: int
    tx: ClaimTx


class SelectionRig(_Out):
    address: str
    node: str
    score: float
    success_rate: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    realtime_ratio: float | None
    segments: int


class SelectionPublic(_Out):
    window_seconds: int
    rigs: list[SelectionRig]


class Eip712Public(_Out):
    name: str
    version: str


class ConfigPublic(_Out):
    chain_id: int
    contract: str | None
    explorer_url: str
    eip712: Eip712Public


class ItemResultPublic(_Out):
    id: str | None
    outcome: Literal["accepted", "duplicate", "conflict", "rejected"]
    reason: str | None


class IngestResultPublic(_Out):
    results: list[ItemResultPublic]
    accepted: int
    duplicate: int
    conflict: int
    rejected: int


# --- requests -----------------------------------------------------------------------------


class ReceiptsIn(BaseModel):
    """A batch of work receipts (DESIGN.md, "Work receipt"), each checked on its own."""

    receipts: list[dict[str, object]] = Field(max_length=1000)


class VerdictIn(BaseModel):
    receipt_id: str
    ok: bool
    reason: str


class VerdictsIn(BaseModel):
    """A batch of verification verdicts."""

    verdicts: list[VerdictIn] = Field(max_length=1000)


class SettingsIn(BaseModel):
    """Payout settings signed with EIP-712 by the miner's address."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["claim", "push"]
    threshold: Wei
    gas_cap_bps: Annotated[int, Field(ge=0, le=10_000)] | None = None
    nonce: Annotated[int, Field(ge=1, le=2**63 - 1)]
    deadline: Annotated[int, Field(ge=0, le=2**63 - 1)]
    signature: Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{130}$")]
