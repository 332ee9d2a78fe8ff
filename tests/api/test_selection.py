"""Rig selection: ``GET /v1/selection``, the pool's top rigs and a miner's rigs all rank
by :func:`livepool.quality.score` over the sliding window."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from livepool import quality
from livepool.ingest import ingest_receipts
from livepool.ledger import Ledger
from livepool.ledger import service as servicedb
from tests.api.conftest import MINERS, NOW, make_receipt

#: rig -> (latency ms of a 2-second segment, every n-th segment fails; 0 = never)
RIGS = {
    "healthy-1": (400, 0),
    "healthy-2": (700, 0),
    "slow": (2_600, 0),  # 1.3× real time: falls behind the live stream
    "flaky": (400, 5),  # one segment in five fails
}


def _work(ledger: Ledger) -> None:
    items: list[dict[str, Any]] = []
    for r, (node, (latency, fail_every)) in enumerate(RIGS.items()):
        for i in range(60):
            n = 10_000 + r * 100 + i
            failed = fail_every and i % fail_every == 0
            items.append(
                make_receipt(
                    n,
                    transcoder=MINERS[2],
                    node=node,
                    finished_at=NOW - 900 + i * 10,
                    latency_ms=latency + i % 7,
                    status="failed" if failed else "ok",
                )
            )
    assert ingest_receipts(ledger, items).accepted == len(items)


def test_selection__slow_and_flaky_rigs__rank_below_healthy_ones(app, ledger):
    _work(ledger)  # before the app starts: it warms its views

    with TestClient(app) as client:
        response = client.get("/v1/selection")

    assert response.status_code == 200
    body = response.json()
    assert body["window_seconds"] == 3_600
    ours = [r for r in body["rigs"] if r["address"] == MINERS[2]]
    assert [r["node"] for r in ours] == ["healthy-1", "healthy-2", "flaky", "slow"]
    by_node = {r["node"]: r for r in ours}
    assert by_node["healthy-1"]["score"] > 0.9
    assert by_node["slow"]["score"] < 0.3  # behind real time: 0.5 / r² at most
    assert by_node["slow"]["realtime_ratio"] < 1
    assert by_node["flaky"]["success_rate"] == 1 - 12 / 60
    assert by_node["flaky"]["segments"] == 60
    scores = [r["score"] for r in body["rigs"]]
    assert scores == sorted(scores, reverse=True)


def test_selection__scores_are_quality_score_over_the_window(app, ledger):
    _work(ledger)
    windows = servicedb.rig_windows(ledger, NOW - 3_600, NOW)

    with TestClient(app) as client:
        rigs = client.get("/v1/selection").json()["rigs"]
        miner = client.get(f"/v1/miners/{MINERS[2]}").json()
        top = {r["node"]: r["score"] for r in client.get("/v1/pool").json()["top_rigs"]}
    selection = {r["node"]: r["score"] for r in rigs}

    for node in RIGS:
        expected = round(quality.score(windows[(MINERS[2], node)]) or 0.0, 6)
        assert selection[node] == expected
        assert {r["node"]: r["score"] for r in miner["rigs"]}[node] == expected
        if node in top:
            assert top[node] == expected


def test_selection__rig_without_recent_work__is_not_ranked(app, ledger):
    item = make_receipt(20_000, transcoder=MINERS[2], node="gone", finished_at=NOW - 7_200)
    assert ingest_receipts(ledger, [item]).accepted == 1

    with TestClient(app) as client:
        body = client.get("/v1/selection").json()

    assert "gone" not in {r["node"] for r in body["rigs"]}
