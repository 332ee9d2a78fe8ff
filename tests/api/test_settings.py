"""Miner payout settings signed with EIP-712: accepted once, refused otherwise, audited."""

from __future__ import annotations

from eth_account import Account
from sqlalchemy import select

from livepool.ledger.service import settings_signatures

from .conftest import MINER_KEYS, NOW

KEY = MINER_KEYS[0]


def body(nonce: int = 1, **overrides):
    b = {
        "mode": "push",
        "threshold": "10000000000000000",
        "gas_cap_bps": 1000,
        "nonce": nonce,
        "deadline": NOW + 600,
    }
    b.update(overrides)
    return b


def trail(ledger):
    with ledger.read() as conn:
        return conn.execute(select(settings_signatures)).all()


def test_settings__signed_by_miner__saved_and_audited(client, sign, ledger):
    response = client.put(f"/v1/miners/{KEY.address}/settings", json=sign(KEY, body()))
    assert response.status_code == 200
    assert response.json() == {
        "mode": "push",
        "threshold": "10000000000000000",
        "gas_cap_bps": 1000,
        "nonce": 1,
        "updated_at": NOW,
    }
    miner = client.get(f"/v1/miners/{KEY.address}").json()
    assert miner["settings"]["mode"] == "push" and miner["settings"]["nonce"] == 1
    assert [row.nonce for row in trail(ledger)] == [1]
    assert ledger.payout_settings()[0]["mode"] == "push"  # the keeper's table
    second = client.put(
        f"/v1/miners/{KEY.address}/settings",
        json=sign(KEY, body(2, mode="claim", gas_cap_bps=None)),
    )
    assert second.status_code == 200 and second.json()["mode"] == "claim"
    assert [row.nonce for row in trail(ledger)] == [1, 2]


def refused(client, ledger, address, payload, words):
    response = client.put(f"/v1/miners/{address}/settings", json=payload)
    assert response.status_code == 403, response.text
    assert words in response.json()["detail"]
    assert trail(ledger) == [] or len(trail(ledger)) == 1


def test_settings__replayed_nonce__403_nothing_changed(client, sign, ledger):
    signed = sign(KEY, body())
    assert client.put(f"/v1/miners/{KEY.address}/settings", json=signed).status_code == 200
    response = client.put(f"/v1/miners/{KEY.address}/settings", json=signed)
    assert response.status_code == 403
    assert "nonce" in response.json()["detail"]
    assert len(trail(ledger)) == 1


def test_settings__skipped_nonce__403(client, sign, ledger):
    refused(client, ledger, KEY.address, sign(KEY, body(5)), "nonce: must be 1")
    assert trail(ledger) == []


def test_settings__expired__403(client, sign, ledger):
    refused(client, ledger, KEY.address, sign(KEY, body(deadline=NOW - 1)), "expired")
    assert trail(ledger) == []


def test_settings__deadline_over_an_hour__403(client, sign, ledger):
    refused(client, ledger, KEY.address, sign(KEY, body(deadline=NOW + 3601)), "ahead")
    assert trail(ledger) == []


def test_settings__another_key__403(client, sign, ledger):
    refused(client, ledger, KEY.address, sign(MINER_KEYS[1], body(), account=KEY.address), "not by")
    assert trail(ledger) == []


def test_settings__wrong_chain_or_contract__403(client, sign, ledger):
    refused(client, ledger, KEY.address, sign(KEY, body(), chain_id=1), "not by")
    other = Account.create().address
    refused(client, ledger, KEY.address, sign(KEY, body(), contract=other), "not by")
    assert trail(ledger) == []


def test_settings__tampered_body__403(client, sign, ledger):
    signed = sign(KEY, body())
    signed["threshold"] = "1"
    refused(client, ledger, KEY.address, signed, "not by")
    assert trail(ledger) == []


def test_settings__malformed__422(client, sign, ledger):
    for bad in (
        {**sign(KEY, body()), "mode": "sometimes"},
        {**sign(KEY, body()), "signature": "0x12"},
        {**sign(KEY, body()), "threshold": "-1"},
        {**sign(KEY, body()), "gas_cap_bps": 10_001},
        {k: v for k, v in sign(KEY, body()).items() if k != "nonce"},
    ):
        response = client.put(f"/v1/miners/{KEY.address}/settings", json=bad)
        assert response.status_code == 422, bad
        assert isinstance(response.json()["detail"], str)
    assert trail(ledger) == []


def test_settings__wrong_content_type__415(client, ledger):
    response = client.put(
        f"/v1/miners/{KEY.address}/settings", content="x", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert trail(ledger) == []
