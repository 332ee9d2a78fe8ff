"""Typed configuration: the pool's (stored in the ledger) and the process's (environment).

:class:`PoolConfig` is what the operator sets with ``livepool config``: a frozen pydantic
model, validated once when made, with its history of commission changes. It is read and
written through the ledger (:func:`livepool.ledger.queries.read_config`,
:func:`~livepool.ledger.queries.write_config`); :func:`livepool.epochs.configure`
changes it. It does no I/O.

:class:`Settings` is the process's: where the ledger lives (and any further process
option belongs here too), from ``LIVEPOOL_*`` environment variables, made by the cached
:func:`get_settings` on first use — nothing is read from the environment at import.
Tests change the environment, then call ``get_settings.cache_clear()``.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Final

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer
from pydantic_settings import BaseSettings, SettingsConfigDict

from livepool.accounting import BPS_DENOMINATOR, PoolSettings, commission_in_force, parse_fraction
from livepool.errors import EpochError, ValidationError
from livepool.hashing import checksum_address

__all__ = ["DEFAULT_DATA_DIR", "REPO_ROOT", "PoolConfig", "Settings", "get_settings", "or_setting"]

DEFAULT_DATA_DIR: Final = Path("./data")

#: A placeholder fee leaf that lets a configuration without a fee address be validated.
_NO_FEE: Final = "0x" + "00" * 20


def _address(value: Any) -> str | None:
    if value is None:
        return None
    return checksum_address(value)  # raises ValueError saying why


def _fraction(name: str) -> Any:
    return BeforeValidator(lambda value: parse_fraction(value, name))


Address = Annotated[str | None, BeforeValidator(_address)]
Rational = Annotated[Fraction, PlainSerializer(str, return_type=str)]


class PoolConfig(BaseModel):
    """The pool configuration, validated; ``commission`` is ``((effective_epoch, bps), …)``.

    ``fee_address`` is required before the first close; ``genesis`` and
    ``epoch_seconds`` cannot change once a receipt is stored (checked by
    :func:`livepool.epochs.configure`, which sees the ledger).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    fee_address: Address = None
    genesis: int = 0
    epoch_seconds: int = 86_400
    settle_seconds: int = 3_600
    penalty_multiplier: Annotated[Rational, _fraction("penalty_multiplier")] = Fraction(1)
    decode_weight: Annotated[Rational, _fraction("decode_weight")] = Fraction(0)
    orchestrator: Address = None
    commission: tuple[tuple[int, int], ...] = ()

    @classmethod
    def make(cls, **values: Any) -> PoolConfig:
        """Validate ``values``; raise :class:`ValidationError` naming the first bad field."""
        try:
            config = cls(**values)
        except pydantic.ValidationError as exc:
            error = exc.errors()[0]
            name = ".".join(map(str, error["loc"])) or "config"
            message = str(error.get("ctx", {}).get("error") or error["msg"])
            raise ValidationError(f"{name}: {message.removeprefix('Value error, ')}") from None
        config.settings(0, fee_required=False)  # the accounting's own bounds, once
        for _, bps in config.commission:
            if not 0 <= bps <= BPS_DENOMINATOR:
                raise ValidationError(f"commission_bps: must be 0..10000, got {bps!r}")
        return config

    def changed(self, **changes: Any) -> PoolConfig:
        """A validated copy with the ``changes`` that are not ``None``."""
        given = {k: v for k, v in changes.items() if v is not None}
        return PoolConfig.make(**{**self.stored(), "commission": self.commission, **given})

    def commission_bps(self, epoch: int) -> int:
        """The commission in force for ``epoch`` (0 before any change)."""
        return commission_in_force(epoch, list(self.commission))

    def settings(self, epoch: int, *, fee_required: bool = True) -> PoolSettings:
        """The accounting's settings for ``epoch``; needs a fee address unless told not."""
        fee = self.fee_address
        if fee is None:
            if fee_required:
                raise EpochError(
                    "pool not configured: set the fee address first "
                    "(livepool config --fee-address …)"
                )
            fee = _NO_FEE
        return PoolSettings(
            fee_address=fee,
            genesis=self.genesis,
            commission_bps=self.commission_bps(epoch),
            penalty_multiplier=self.penalty_multiplier,
            decode_weight=self.decode_weight,
            epoch_seconds=self.epoch_seconds,
            settle_seconds=self.settle_seconds,
        )

    def stored(self) -> dict[str, Any]:
        """The JSON the ledger keeps (the commission history lives in its own table)."""
        return self.model_dump(mode="json", exclude={"commission"})

    def to_json(self) -> dict[str, Any]:
        """What ``livepool config`` prints: :meth:`stored` plus the commission history."""
        return {**self.stored(), "commission": [list(c) for c in self.commission]}


#: The repository (for the default dashboard and compiled-artifact folders).
REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """The process's settings, from ``LIVEPOOL_<FIELD>`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="LIVEPOOL_", frozen=True, extra="ignore")

    #: SQLAlchemy URL of the ledger; ``None``: SQLite under :attr:`data_dir`.
    database_url: str | None = None
    #: Where the SQLite ledger, published statements and deployment records live.
    data_dir: Path = DEFAULT_DATA_DIR

    # --- retention (`livepool archive`) ------------------------------------------------------
    #: An epoch's receipts stay in the hot tables until its window ended this many days
    #: ago (and it is closed and published); then `livepool archive` may move them.
    retain_days: float = pydantic.Field(default=30.0, ge=0)
    #: Where archive files go; ``None``: ``DATA_DIR/archive``.
    archive_dir: Path | None = None

    # --- the service (`livepool serve`) ---------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    #: The chain and the distributor; without ``contract`` and ``rpc_url`` the service
    #: runs off-chain (the latest closed epoch stands in for the active root).
    chain_id: int = 31337
    contract: str | None = None
    rpc_url: str | None = None
    #: The block the contract was deployed in (logs are read from there).
    deploy_block: int = 0
    explorer_url: str = "https://arbiscan.io"
    #: The compiled artifact with the distributor's ABI (ape's manifest, or a
    #: ``LivepoolDistributor.json`` holding ``{"abi": …}``).
    abi_path: Path = REPO_ROOT / ".build" / "__local__.json"
    web_dir: Path = REPO_ROOT / "web" / "dist"
    published_dir: Path | None = None
    #: Most items in one POST /v1/receipts or /v1/verdicts; bodies above max_body_bytes
    #: are refused before they are read.
    max_batch: int = 1000
    max_body_bytes: int = 4 * 1024 * 1024
    #: A rig or miner is online when it sent a receipt this recently.
    online_seconds: int = 600
    #: The sliding window rig scores (``GET /v1/selection``, top rigs, a miner's rigs)
    #: are computed over.
    selection_window_seconds: int = 3600
    chain_refresh_seconds: float = 15.0
    #: Pool and miner views are recomputed at most this often (a request never waits
    #: for more than one recomputation).
    view_cache_seconds: float = 5.0
    #: Most seconds ahead a settings signature's deadline may be.
    max_signature_seconds: int = 3600


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process settings, read from the environment on the first call and kept."""
    return Settings()


def or_setting(name: str) -> Callable[[Any, Any, Any], Any]:
    """A click option callback: the value given, else the setting ``name`` (so the
    command line, then ``LIVEPOOL_*``, then the default decide, read at run time)."""

    def callback(_ctx: Any, _param: Any, value: Any) -> Any:
        return getattr(get_settings(), name) if value is None else value

    return callback
