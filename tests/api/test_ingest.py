"""Orchestrator ingest over HTTP: tokens, per-item outcomes, idempotence, limits."""

from __future__ import annotations

import json
import threading

from livepool.ledger import receipts, verdicts

from .conftest import MINERS, NOW, OTHER_ORCHESTRATOR, make_receipt


def fresh(n: int, **overrides):
    return make_receipt(5_000 + n, finished_at=NOW - 100, **overrides)


def test_receipts__new_batch__each_accepted(client, tokens, ledger):
    before = ledger.count(receipts)
    batch = [fresh(i) for i in range(3)]
    response = client.post("/v1/receipts", json={"receipts": batch}, headers=tokens.ours)
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 3 and body["duplicate"] == body["conflict"] == body["rejected"] == 0
    assert [r["id"] for r in body["results"]] == ["r-5000", "r-5001", "r-5002"]
    assert {r["outcome"] for r in body["results"]} == {"accepted"}
    assert ledger.count(receipts) == before + 3


def _counted_segments(ledger) -> int:
    with ledger.read() as conn:
        return int(conn.exec_driver_sql("SELECT coalesce(sum(segments), 0) FROM rigs").scalar())


def test_receipts__new_batch__counted_for_the_views_before_the_answer(client, tokens, ledger):
    before = _counted_segments(ledger)
    batch = [fresh(10 + i) for i in range(4)]
    response = client.post("/v1/receipts", json={"receipts": batch}, headers=tokens.ours)
    assert response.json()["accepted"] == 4
    assert _counted_segments(ledger) == before + 4
    client.post("/v1/receipts", json={"receipts": batch}, headers=tokens.ours)  # a retry
    assert _counted_segments(ledger) == before + 4


def test_receipts__mixed_batch__outcome_per_item(client, tokens, ledger):
    client.post("/v1/receipts", json={"receipts": [fresh(0), fresh(1)]}, headers=tokens.ours)
    before = ledger.count(receipts)
    batch = [
        fresh(0),  # duplicate
        fresh(1, latency_ms=1),  # conflict: same id, other content
        fresh(2, duration_ms=0),  # rejected: invalid field
        fresh(3, orchestrator=OTHER_ORCHESTRATOR),  # rejected: not this token's
        fresh(4),  # accepted
        "not an object",  # rejected
    ]
    response = client.post("/v1/receipts", json={"receipts": batch}, headers=tokens.ours)
    assert response.status_code == 200
    body = response.json()
    outcomes = [r["outcome"] for r in body["results"]]
    assert outcomes == ["duplicate", "conflict", "rejected", "rejected", "accepted", "rejected"]
    assert "duration_ms" in body["results"][2]["reason"]
    assert "orchestrator" in body["results"][3]["reason"]
    assert (body["accepted"], body["duplicate"], body["conflict"], body["rejected"]) == (1, 1, 1, 3)
    assert ledger.count(receipts) == before + 1
    stored = ledger.receipt("r-5001")
    assert stored is not None and stored["latency_ms"] != 1


def test_receipts__retried_batch__changes_nothing(client, tokens, ledger):
    batch = {"receipts": [fresh(i) for i in range(10)]}
    assert client.post("/v1/receipts", json=batch, headers=tokens.ours).json()["accepted"] == 10
    count = ledger.count(receipts)
    again = client.post("/v1/receipts", json=batch, headers=tokens.ours).json()
    assert again["duplicate"] == 10 and again["accepted"] == 0
    assert ledger.count(receipts) == count


def test_receipts__same_batch_twice_concurrently__stored_once(client, tokens, ledger):
    before = ledger.count(receipts)
    batch = {"receipts": [fresh(i) for i in range(300)]}
    results: list[dict] = []

    def post() -> None:
        results.append(client.post("/v1/receipts", json=batch, headers=tokens.ours).json())

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ledger.count(receipts) == before + 300
    assert sorted(r["accepted"] for r in results) == [0, 300]
    assert sorted(r["duplicate"] for r in results) == [0, 300]


def test_receipts__no_token__401_nothing_stored(client, ledger):
    before = ledger.count(receipts)
    response = client.post("/v1/receipts", json={"receipts": [fresh(0)]})
    assert response.status_code == 401
    assert response.json() == {"detail": "missing bearer token"}
    bad = client.post(
        "/v1/receipts", json={"receipts": [fresh(0)]}, headers={"Authorization": "Bearer lp_x_y"}
    )
    assert bad.status_code == 401
    assert ledger.count(receipts) == before


def test_receipts__revoked_token__401(client, tokens, ledger):
    before = ledger.count(receipts)
    response = client.post("/v1/receipts", json={"receipts": [fresh(0)]}, headers=tokens.revoked)
    assert response.status_code == 401
    assert response.json()["detail"] == "invalid or revoked token"
    assert ledger.count(receipts) == before


def test_receipts__another_orchestrators_token__rejected_nothing_stored(client, tokens, ledger):
    before = ledger.count(receipts)
    response = client.post("/v1/receipts", json={"receipts": [fresh(0)]}, headers=tokens.other)
    assert response.status_code == 200
    assert response.json()["results"][0]["outcome"] == "rejected"
    assert ledger.count(receipts) == before


def test_receipts__oversized_batch__413(client, tokens, ledger):
    before = ledger.count(receipts)
    batch = {"receipts": [fresh(i) for i in range(1001)]}
    response = client.post("/v1/receipts", json=batch, headers=tokens.ours)
    assert response.status_code == 413
    assert "at most 1000" in response.json()["detail"]
    assert ledger.count(receipts) == before


def test_receipts__oversized_body__413(client, tokens):
    body = json.dumps({"receipts": [], "pad": "x" * (5 * 1024 * 1024)})
    response = client.post(
        "/v1/receipts", content=body, headers={**tokens.ours, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_receipts__wrong_content_type__415(client, tokens):
    response = client.post(
        "/v1/receipts", content="receipts", headers={**tokens.ours, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_receipts__malformed_body__422(client, tokens):
    for body in ("{", "[]", '{"receipts": 3}'):
        response = client.post(
            "/v1/receipts",
            content=body,
            headers={**tokens.ours, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, body
        assert isinstance(response.json()["detail"], str)


def test_verdicts__for_own_receipt__accepted_then_duplicate(client, tokens, ledger):
    client.post("/v1/receipts", json={"receipts": [fresh(0)]}, headers=tokens.ours)
    verdict = {"receipt_id": "r-5000", "ok": False, "reason": "hash mismatch"}
    response = client.post("/v1/verdicts", json={"verdicts": [verdict]}, headers=tokens.ours)
    assert response.status_code == 200
    assert response.json()["results"] == [{"id": "r-5000", "outcome": "accepted", "reason": None}]
    again = client.post("/v1/verdicts", json={"verdicts": [verdict]}, headers=tokens.ours)
    assert again.json()["results"][0]["outcome"] == "duplicate"
    assert ledger.count(verdicts) == 1


def test_verdicts__unknown_or_other_orchestrators_receipt__rejected(client, tokens, ledger):
    unknown = {"receipt_id": "nope", "ok": False, "reason": "x"}
    theirs = {"receipt_id": "r-1", "ok": False, "reason": "x"}
    response = client.post(
        "/v1/verdicts", json={"verdicts": [unknown, theirs]}, headers=tokens.other
    )
    assert response.status_code == 200
    assert [r["outcome"] for r in response.json()["results"]] == ["rejected", "rejected"]
    assert ledger.count(verdicts) == 0


def test_ingest__counts_in_metrics(client, tokens):
    client.post(
        "/v1/receipts", json={"receipts": [fresh(0), fresh(1, seq=-1)]}, headers=tokens.ours
    )
    text = client.get("/metrics").text
    assert 'livepool_ingest_items_total{kind="receipt",outcome="accepted"} 1.0' in text
    assert 'livepool_ingest_items_total{kind="receipt",outcome="rejected"} 1.0' in text
    assert "livepool_ingest_rejects_total" in text


def test_ingest__new_work_shows_in_miner_view(client, tokens):
    before = client.get(f"/v1/miners/{MINERS[0]}").json()["stats"]["segments_24h"]
    client.post("/v1/receipts", json={"receipts": [fresh(0)]}, headers=tokens.ours)
    after = client.get(f"/v1/miners/{MINERS[0]}").json()["stats"]["segments_24h"]
    assert after == before + 1
