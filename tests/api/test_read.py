"""The public read-only endpoints, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import math

from livepool import epochs
from livepool.hashing import keccak256
from livepool.merkle import MerkleTree, leaf_hash, verify_proof
from livepool.quality import LATENCY_RATIO_EDGES

from .conftest import CONTRACT, DAY, FEE, GENESIS, MINERS, NOW, STRANGER, seeded_receipts


def _edge_above(value: float) -> float:
    """The smallest latency-ratio bucket edge at or above ``value``."""
    return min(e for e in LATENCY_RATIO_EDGES if e >= value)


def test_healthz__ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz__ledger_readable__ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "ledger": True, "chain_updated_at": None}


def test_pool__configuration_epoch_and_stats(client):
    response = client.get("/v1/pool")
    assert response.status_code == 200
    body = response.json()
    assert body["contract"] == CONTRACT
    assert body["fee_address"] == FEE
    assert body["commission_bps"] == 500
    assert body["epoch"]["number"] == 1
    assert body["epoch"]["start"] == GENESIS + 86_400
    assert body["epoch"]["settle_at"] == GENESIS + 2 * 86_400 + 3_600
    assert body["price"] == {"price_per_unit": "1000", "pixels_per_unit": "1"}
    stats = body["stats"]
    closed, late = seeded_receipts()
    assert stats["miners"] == 2
    assert stats["rigs"] == 6
    # "24 h": the hours overlapping the last 24 h (NOW is on the hour: exactly 24 of them).
    day = [r for r in closed + late if NOW - DAY <= r["finished_at"] <= NOW]
    ok = [r for r in day if r["status"] == "ok"]
    assert stats["segments_24h"] == len(day) > 50
    assert stats["failed_rate_24h"] == (len(day) - len(ok)) / len(day)
    assert stats["pixels_per_second"]["day"] == sum(r["pixels_encoded"] for r in ok) / DAY
    # "now": the hours overlapping the last online_seconds (600 s): the last hour.
    last_hour = [r for r in ok if r["finished_at"] >= NOW - 3_600]
    assert stats["pixels_per_second"]["now"] == sum(r["pixels_encoded"] for r in last_hour) / 3_600
    # Online: a receipt finished in the last 600 s; each miner's three rigs have one.
    online = {(r["transcoder"], r["node"]) for r in late if r["finished_at"] > NOW - 600}
    assert (stats["rigs_online"], stats["miners_online"]) == (len(online), 2) == (6, 2)
    # The open epoch's gross: every ok receipt of epoch 1 (price 1000 wei per pixel).
    assert stats["gross_unsettled"] == str(
        sum(r["pixels_encoded"] * r["price_per_unit"] for r in late if r["status"] == "ok")
    )
    # Percentiles are histogram bucket edges, never below the true value.
    ratios = sorted(r["latency_ms"] / r["duration_ms"] for r in day)
    p50, p95 = (ratios[math.ceil(q * len(ratios)) - 1] for q in (0.5, 0.95))
    assert stats["latency_ratio_p50"] == _edge_above(p50)
    assert stats["latency_ratio_p95"] == _edge_above(p95)
    assert len(body["series"]["t"]) == len(body["series"]["pixels_per_second"]) == 168
    assert body["chain"] == {"updated_at": None, "stale": True}
    assert body["funds"]["balance"] is None  # no chain configured


def test_config__eip712_domain(client):
    response = client.get("/v1/config")
    assert response.status_code == 200
    assert response.json()["eip712"] == {"name": "Livepool", "version": "1"}


def test_epochs__newest_first_with_states(client):
    response = client.get("/v1/epochs")
    assert response.status_code == 200
    body = response.json()
    assert [e["number"] for e in body["epochs"]] == [1, 0]
    assert [e["state"] for e in body["epochs"]] == ["open", "closed"]
    assert body["epochs"][1]["miners"] == 2
    assert body["next_before"] is None
    page = client.get("/v1/epochs?limit=1").json()
    assert [e["number"] for e in page["epochs"]] == [1] and page["next_before"] == 1
    assert [e["number"] for e in client.get("/v1/epochs?before=1").json()["epochs"]] == [0]


def test_statement__exact_bytes_etag_and_cache(client, ledger):
    response = client.get("/v1/epochs/0")
    assert response.status_code == 200
    assert response.content == epochs.epoch_statement(ledger, 0)
    data_hash = "0x" + keccak256(response.content).hex()
    assert response.headers["etag"] == f'"{data_hash}"'
    assert "immutable" in response.headers["cache-control"]
    again = client.get("/v1/epochs/0", headers={"If-None-Match": f'"{data_hash}"'})
    assert again.status_code == 304


def test_tree__oz_dump_rebuilds_root(client, ledger):
    response = client.get("/v1/epochs/0/tree")
    assert response.status_code == 200
    tree = MerkleTree.load(response.text)
    statement = json.loads(client.get("/v1/epochs/0").content)
    assert tree.root_hex == statement["root"]
    assert "immutable" in response.headers["cache-control"]


def test_statement__open_or_unknown_epoch__404(client):
    for n in (1, 7):
        response = client.get(f"/v1/epochs/{n}")
        assert response.status_code == 404
        assert "not closed" in response.json()["detail"]
    assert client.get("/v1/epochs/5/tree").status_code == 404


def test_epoch__negative_or_huge__422(client):
    assert client.get("/v1/epochs/-1").status_code == 422
    assert client.get(f"/v1/epochs/{2**70}").status_code == 422


def test_miner__balances_stats_rigs_history(client, ledger):
    miner = MINERS[0]
    response = client.get(f"/v1/miners/{miner.lower()}")
    assert response.status_code == 200
    body = response.json()
    assert body["address"] == miner
    tree = epochs.epoch_tree(ledger, 0)
    balances = body["balances"]
    assert balances["cumulative"] == str(tree.amount(miner))  # off-chain: last closed epoch
    assert balances["claimed"] == "0"
    assert balances["claimable"] == balances["cumulative"]
    assert int(balances["unsettled"]) > 0  # epoch 1's receipts
    assert body["settings"] == {
        "mode": "claim",
        "threshold": "0",
        "gas_cap_bps": None,
        "nonce": 0,
        "updated_at": None,
    }
    assert body["next_payout"]["reason"] == "claimable"
    assert {r["node"] for r in body["rigs"]} == {"rig-0", "rig-1", "rig-2"}
    assert any(r["online"] for r in body["rigs"])
    assert body["epochs"][0]["epoch"] == 0
    assert body["epochs"][0]["cumulative"] == balances["cumulative"]
    closed, late = seeded_receipts()
    mine = [r for r in closed + late if r["transcoder"] == miner]
    day = [r for r in mine if NOW - DAY <= r["finished_at"] <= NOW]
    assert body["stats"]["segments_24h"] == len(day) > 0
    assert body["stats"]["failed_24h"] == sum(r["status"] != "ok" for r in day)
    assert body["first_seen"] == min(r["finished_at"] for r in mine)
    assert body["last_seen"] == max(r["finished_at"] for r in mine)


def test_miner__unknown__404_says_since_when(client):
    response = client.get(f"/v1/miners/{STRANGER}")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert STRANGER in detail and "has not been seen" in detail and "existed since 20" in detail


def test_miner__bad_addresses__422(client):
    good = MINERS[0]
    mixed_wrong = good[:2] + good[2:].swapcase()
    for bad in ("0x123", "zz" + good[2:], good[:-1] + "g", mixed_wrong):
        response = client.get(f"/v1/miners/{bad}")
        assert response.status_code == 422, bad
        assert isinstance(response.json()["detail"], str)
    assert client.get(f"/v1/miners/{good.upper().replace('0X', '0x')}").status_code == 200


def test_proof__verifies_against_root_with_calldata(client, ledger):
    miner = MINERS[1]
    response = client.get(f"/v1/miners/{miner}/proof")
    assert response.status_code == 200
    body = response.json()
    tree = epochs.epoch_tree(ledger, 0)
    assert body["account"] == miner
    assert body["cumulative"] == str(tree.amount(miner))
    assert body["claimable"] == body["cumulative"] and body["claimed"] == "0"
    assert body["root"] == tree.root_hex and body["epoch"] == 0
    assert verify_proof(body["root"], leaf_hash(miner, int(body["cumulative"])), body["proof"])
    assert body["tx"]["to"] == CONTRACT and body["tx"]["value"] == "0"
    assert body["tx"]["data"].startswith(
        "0x" + keccak256(b"claim(address,uint256,bytes32[])")[:4].hex()
    )


def test_proof__no_leaf__404(client):
    response = client.get(f"/v1/miners/{MINERS[2]}/proof")
    assert response.status_code == 404
    assert "no leaf" in response.json()["detail"]


def test_payments__none_yet(client):
    response = client.get(f"/v1/miners/{MINERS[0]}/payments")
    assert response.status_code == 200
    assert response.json() == {"payments": [], "total": 0}


def test_selection__online_rigs_ranked(client):
    response = client.get("/v1/selection")
    assert response.status_code == 200
    body = response.json()
    assert body["window_seconds"] == 3600
    scores = [r["score"] for r in body["rigs"]]
    assert scores == sorted(scores, reverse=True) and scores


def test_metrics__prometheus_text(client):
    client.get("/v1/pool")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "livepool_http_request_seconds_bucket" in response.text
    assert 'route="/v1/pool"' in response.text
    assert "0x" not in response.text  # no per-miner labels


def test_dashboard__not_built__says_so(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "dashboard not built: run make setup" in response.text


def test_dashboard__built__served(ledger, settings, tmp_path):
    from fastapi.testclient import TestClient

    from livepool.api.app import create_app
    from livepool.config import get_settings

    web = tmp_path / "dist"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<html>dashboard</html>")
    (web / "assets" / "app.js").write_text("console.log(1)")
    app = create_app(ledger)
    app.dependency_overrides[get_settings] = lambda: settings.model_copy(update={"web_dir": web})
    with TestClient(app) as client:
        assert client.get("/").text == "<html>dashboard</html>"
        assert client.get("/assets/app.js").text == "console.log(1)"
        assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi__every_endpoint_documented(client):
    schema = client.get("/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            assert op.get("description") or op.get("summary"), (method, path)
            assert "200" in op["responses"], (method, path)
