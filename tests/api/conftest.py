"""Fixtures for the service's tests: a pool ledger on SQLite and PostgreSQL with one closed
epoch and an open one, an app on it (TestClient), a fixed clock, tokens and signers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from fastapi.testclient import TestClient

from livepool import epochs
from livepool.api.app import create_app
from livepool.api.deps import get_clock
from livepool.api.routes.miners import settings_typed_data
from livepool.config import Settings, get_settings
from livepool.ingest import ingest_receipts
from livepool.ledger import Ledger
from livepool.ledger import service as servicedb
from tests.e2e.conftest import anvil  # noqa: F401  (a fixture)
from tests.offchain.conftest import _make_url, postgres_admin  # noqa: F401  (fixtures)

GENESIS = 1_764_028_800  # 2025-11-25T00:00:00Z
DAY = 86_400
#: The clock of every request: two hours into epoch 1 (epoch 0 closed).
NOW = GENESIS + DAY + 2 * 3_600
FEE = "0x00000000000000000000000000000000000000fe"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CHAIN_ID = 31337
#: Orchestrators and miners are keys we hold, so tests can sign as them.
ORCH_KEYS = [Account.from_key(bytes([0x11] * 31 + [i])) for i in (1, 2)]
MINER_KEYS = [Account.from_key(bytes([0x22] * 31 + [i])) for i in (1, 2, 3)]
ORCHESTRATOR = ORCH_KEYS[0].address
OTHER_ORCHESTRATOR = ORCH_KEYS[1].address
MINERS = [k.address for k in MINER_KEYS]
STRANGER = "0x000000000000000000000000000000000000dEaD"


def make_receipt(n: int, **overrides: Any) -> dict[str, Any]:
    """A valid receipt ``r-<n>`` for miner ``n % 2`` (the third miner never works)."""
    receipt: dict[str, Any] = {
        "id": f"r-{n}",
        "orchestrator": ORCHESTRATOR,
        "transcoder": MINERS[n % 2],
        "stream": f"stream-{n % 5}",
        "seq": n,
        "finished_at": GENESIS + (n * 97) % DAY,
        "duration_ms": 2_000,
        "latency_ms": 500 + n % 1000,
        "pixels_decoded": 124_416_000,
        "pixels_encoded": 93_715_200,
        "price_per_unit": 1_000,
        "pixels_per_unit": 1,
        "status": "ok" if n % 50 else "failed",
        "node": f"rig-{n % 3}",
        "region": "eu",
    }
    receipt.update(overrides)
    return receipt


def seeded_receipts() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What :func:`seeded_ledger` ingests: epoch 0's 200 receipts, then epoch 1's 50."""
    closed = [make_receipt(n) for n in range(200)]
    late = [make_receipt(1_000 + n, finished_at=NOW - 900 + n * 10) for n in range(50)]
    return closed, late


def seeded_ledger(url: str) -> Ledger:
    """Epoch 0 with 200 receipts, closed; 50 more receipts in the open epoch 1."""
    closed, late = seeded_receipts()
    ledger = Ledger(url)
    epochs.configure(
        ledger,
        fee_address=FEE,
        genesis=GENESIS,
        epoch_seconds=DAY,
        settle_seconds=3_600,
        orchestrator=ORCHESTRATOR,
        commission_bps=500,
    )
    report = ingest_receipts(ledger, closed)
    assert report.accepted == 200, report.summary()
    epochs.close_epoch(ledger, 0, now=GENESIS + DAY + 3_600)
    assert ingest_receipts(ledger, late).accepted == 50
    return ledger


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Ledger]:
    """The seeded pool ledger, on SQLite and on PostgreSQL."""
    ledger = seeded_ledger(_make_url(request, tmp_path))
    yield ledger
    ledger.close()


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    return Settings(
        chain_id=CHAIN_ID,
        contract=CONTRACT,
        rpc_url=None,
        web_dir=tmp_path / "no-dashboard",
        chain_refresh_seconds=3600,
        view_cache_seconds=0,
    )


@pytest.fixture
def app(ledger: Ledger, settings: Settings) -> Any:
    app = create_app(ledger)
    app.dependency_overrides[get_settings] = lambda: settings
    app.dependency_overrides[get_clock] = lambda: NOW
    return app


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def tokens(ledger: Ledger) -> SimpleNamespace:
    """Bearer headers: ``ours`` (ORCHESTRATOR), ``other`` (another orchestrator),
    ``revoked`` (ORCHESTRATOR's, revoked)."""
    ours, _ = servicedb.create_token(ledger, ORCHESTRATOR, "test")
    other, _ = servicedb.create_token(ledger, OTHER_ORCHESTRATOR, "other")
    revoked, info = servicedb.create_token(ledger, ORCHESTRATOR, "old")
    servicedb.revoke_token(ledger, info.token_id)
    return SimpleNamespace(
        ours={"Authorization": f"Bearer {ours}"},
        other={"Authorization": f"Bearer {other}"},
        revoked={"Authorization": f"Bearer {revoked}"},
    )


@pytest.fixture
def sign() -> Callable[..., dict[str, Any]]:
    """``sign(key, body, chain_id=…, contract=…, account=…)``: the body with its
    EIP-712 ``signature``."""

    def make(
        key: Any,
        body: dict[str, Any],
        *,
        chain_id: int = CHAIN_ID,
        contract: str = CONTRACT,
        account: str | None = None,
    ) -> dict[str, Any]:
        typed = settings_typed_data(chain_id, contract, account or key.address, body)
        signed = key.sign_message(encode_typed_data(full_message=typed))
        return {**body, "signature": "0x" + bytes(signed.signature).hex()}

    return make
