"""The service's settings (``LIVEPOOL_*`` environment variables), read when first asked for.

Nothing is read at import time: :func:`get_settings` builds them once per process, and
tests override it (``app.dependency_overrides[get_settings]``) or pass settings to
:func:`livepool.api.app.create_app`.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["REPO_ROOT", "ServiceSettings", "get_settings"]

#: The repository (for the default dashboard and artifact folders).
REPO_ROOT = Path(__file__).resolve().parents[3]


class ServiceSettings(BaseSettings):
    """How the service runs: where the ledger is, which chain and contract, limits."""

    model_config = SettingsConfigDict(env_prefix="LIVEPOOL_", extra="ignore")

    #: SQLAlchemy URL; empty: SQLite at ``<data_dir>/livepool.db``.
    database_url: str | None = None
    data_dir: Path = Path("./data")
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
    chain_refresh_seconds: float = 15.0
    #: Pool and miner views are recomputed at most this often (a request never waits
    #: for more than one recomputation).
    view_cache_seconds: float = 5.0
    #: Most seconds ahead a settings signature's deadline may be.
    max_signature_seconds: int = 3600


@functools.lru_cache(maxsize=1)
def get_settings() -> ServiceSettings:
    """The process's settings, read from the environment once."""
    return ServiceSettings()
