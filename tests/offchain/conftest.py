"""Fixtures for the accountant's tests: a fresh ledger on SQLite and on PostgreSQL.

``ledger`` is parametrised over ``sqlite`` (a file in ``tmp_path``) and ``postgres`` (a
fresh schema ``t_<random>`` in the database ``test`` on 127.0.0.1:5432, dropped after
the test; ``LIVEPOOL_TEST_POSTGRES_URL`` overrides the server). An unreachable server
fails the PostgreSQL tests with the reason, unless ``LIVEPOOL_SKIP_POSTGRES=1`` is set:
then they are skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from livepool import epochs
from livepool.ledger import Ledger

POSTGRES_URL = os.environ.get(
    "LIVEPOOL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

#: Fee address of the test pool (never a miner).
FEE = "0x00000000000000000000000000000000000000fe"
ORCHESTRATOR = "0x8ba1f109551bD432803012645Ac136ddd64DBA72"
MINERS = (
    "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF",
    "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69",
    "0x1efF47bc3a10a45D4B230B5d10E37751FE6AA718",
    "0xe1AB8145F7E55DC933d51a18c793F901A3A0b276",
)
#: The test pool's genesis: epoch 0 is [GENESIS, GENESIS + 1 day).
GENESIS = 1_764_028_800  # 2025-11-25T00:00:00Z
DAY = 86_400


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_URL} is unreachable: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Any]:
    """An engine on the test database for creating and dropping schemas."""
    problem = _postgres_problem()
    if problem is not None:
        if os.environ.get("LIVEPOOL_SKIP_POSTGRES") == "1":
            pytest.skip(f"{problem} (LIVEPOOL_SKIP_POSTGRES=1)")
        pytest.fail(
            f"{problem}. Start it, or set LIVEPOOL_SKIP_POSTGRES=1 to skip these tests.",
            pytrace=False,
        )
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """The URL of an empty database (SQLite file, or a fresh PostgreSQL schema)."""
    return _make_url(request, tmp_path)


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Ledger]:
    """A migrated, configured ledger (fee address :data:`FEE`, genesis :data:`GENESIS`,
    1-day epochs settling 1 hour, 5 % commission, penalty 1x)."""
    ledger = Ledger(_make_url(request, tmp_path))
    epochs.configure(
        ledger,
        fee_address=FEE,
        genesis=GENESIS,
        epoch_seconds=DAY,
        settle_seconds=3_600,
        orchestrator=ORCHESTRATOR,
        commission_bps=500,
    )
    try:
        yield ledger
    finally:
        ledger.close()


def _make_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'livepool.db'}"
    admin = request.getfixturevalue("postgres_admin")
    schema = f"t_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))

    request.addfinalizer(drop)
    return f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def pool() -> SimpleNamespace:
    """The test pool's constants: ``FEE``, ``ORCHESTRATOR``, ``MINERS``, ``GENESIS``, ``DAY``."""
    return SimpleNamespace(
        FEE=FEE, ORCHESTRATOR=ORCHESTRATOR, MINERS=MINERS, GENESIS=GENESIS, DAY=DAY
    )


@pytest.fixture
def make_receipt() -> Callable[..., dict[str, Any]]:
    """``make_receipt(n, **overrides)``: a valid receipt dict, id ``r-<n>``, finishing
    ``n`` seconds into epoch 0 (override ``finished_at`` to move it)."""

    def make(n: int = 0, **overrides: Any) -> dict[str, Any]:
        receipt: dict[str, Any] = {
            "id": f"r-{n}",
            "orchestrator": ORCHESTRATOR,
            "transcoder": MINERS[n % len(MINERS)],
            "stream": f"stream-{n % 7}",
            "seq": n,
            "finished_at": GENESIS + n % DAY,
            "duration_ms": 2_000,
            "latency_ms": 900,
            "pixels_decoded": 124_416_000,
            "pixels_encoded": 93_715_200,
            "price_per_unit": 1_000 + (n * 37) % 500,
            "pixels_per_unit": 1 if n % 5 else 3,
            "status": "ok",
            "profiles": ["720p30", "480p30", "360p30"],
            "node": f"rig-{n % 3}",
        }
        receipt.update(overrides)
        return {k: v for k, v in receipt.items() if v is not None}

    return make
