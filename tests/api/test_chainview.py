"""The chain view when the node is unreachable: requests keep being served from memory,
and the age of the chain data is reported."""

from __future__ import annotations

import time
from dataclasses import replace

from fastapi.testclient import TestClient

from livepool.api.app import create_app
from livepool.api.chainview import ChainState, RootInfo
from livepool.api.deps import get_clock
from livepool.config import get_settings
from tests.e2e.conftest import free_port

from .conftest import MINERS, NOW


def test_chain__node_unreachable__serves_and_reports_age(ledger, settings, tmp_path):
    abi = tmp_path / "LivepoolDistributor.json"
    abi.write_text('{"abi": []}')
    dead = settings.model_copy(
        update={
            "rpc_url": f"http://127.0.0.1:{free_port()}",
            "chain_refresh_seconds": 0.2,
            "abi_path": abi,
        }
    )
    app = create_app(ledger)
    app.dependency_overrides[get_settings] = lambda: dead
    app.dependency_overrides[get_clock] = lambda: NOW
    with TestClient(app) as client:
        service = app.state.service
        wait = time.monotonic() + 10
        while service.state.error is None:
            assert time.monotonic() < wait, "the refresher never tried the node"
            time.sleep(0.05)
        assert "Connection" in service.state.error or "connect" in service.state.error.lower()
        started = time.monotonic()
        response = client.get(f"/v1/miners/{MINERS[0]}")
        assert time.monotonic() - started < 2  # never waits on the node
        assert response.status_code == 200
        assert response.json()["chain"] == {"updated_at": None, "stale": True}
        # No root read yet: no proof rather than one against a root the chain may lack.
        proof = client.get(f"/v1/miners/{MINERS[0]}/proof")
        assert proof.status_code == 404
        assert proof.json() == {"detail": "there is no active root yet"}
        # A snapshot from before the node went away stays, and says how old it is.
        old = int(time.time()) - 60
        service.chain.state = replace(
            ChainState(),
            updated_at=old,
            block=10,
            active=RootInfo(epoch=0, root="0x" + "11" * 32, total=5, data_hash="0x" + "22" * 32),
            balance=10,
            total_claimed=0,
        )
        service.chain.refresh_once()  # fails again: keeps the snapshot, notes the error
        assert service.state.updated_at == old and service.state.error is not None
        body = client.get("/v1/pool").json()
        assert body["chain"] == {"updated_at": old, "stale": True}
        assert body["funds"]["balance"] == "10" and body["roots"]["active"]["epoch"] == 0
        assert client.get("/readyz").json()["chain_updated_at"] == old
