"""A stand-in for the service while it is being built: serves web/dist and answers the
read endpoints of docs/api.md with deterministic JSON, verifies settings signatures with
eth-account exactly as the service must, and reads claims back from anvil.

The miner ``MINER`` has 100 closed epochs and 1,000 payments (the performance case).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from eth_account import Account
from eth_account.messages import encode_typed_data

# The typed-data layout is the service's own (docs/api.md), so the two cannot drift.
from livepool.api.routes.miners import SETTINGS_TYPES

from .helpers import DEV_ACCOUNTS, Anvil, free_port

MINER = DEV_ACCOUNTS[1]
CONTRACT = DEV_ACCOUNTS[9]  # stands in for the distributor: verifyingContract and tx.to
FEE = DEV_ACCOUNTS[4]
ETH = 10**18
EPOCH_SECONDS = 86_400
EPOCHS = 100
PAYMENTS = 1_000
CLAIMABLE = 123_456_789_012_345_678  # 0.123456789012345678 ETH: every digit must survive


def settings_signer(body: dict[str, Any], account: str, chain_id: int, contract: str) -> str:
    """Who signed this PUT body, recomputing the typed data from docs/api.md."""
    full = {
        "types": SETTINGS_TYPES,
        "primaryType": "PayoutSettings",
        "domain": {
            "name": "Livepool",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": contract,
        },
        "message": {
            "account": account,
            "mode": body["mode"],
            "threshold": int(body["threshold"]),
            "gasCapBps": int(body["gas_cap_bps"]),
            "nonce": int(body["nonce"]),
            "deadline": int(body["deadline"]),
        },
    }
    return str(
        Account.recover_message(encode_typed_data(full_message=full), signature=body["signature"])
    )


@dataclass
class FixtureState:
    anvil: Anvil
    chain_id: int
    now: int = field(default_factory=lambda: int(time.time()))
    claim_round: int = 0
    settings: dict[str, Any] = field(
        default_factory=lambda: {
            "mode": "claim",
            "threshold": str(10**16),
            "gas_cap_bps": None,
            "nonce": 3,
            "updated_at": None,
        }
    )
    settings_puts: list[dict[str, Any]] = field(default_factory=list)
    proof_requests: int = 0
    fail: dict[str, int] = field(default_factory=dict)  # path prefix → status to answer with
    _scanned: int = 0  # blocks already searched for this round's claim
    _claimed: bool = False
    _cache: dict[Any, Any] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget earlier claims (a new claim marker) and settings; one call per test."""
        self.claim_round += 1
        self.settings = {
            "mode": "claim",
            "threshold": str(10**16),
            "gas_cap_bps": None,
            "nonce": 3,
            "updated_at": None,
        }
        self.settings_puts.clear()
        self.proof_requests = 0
        self.fail.clear()
        self._scanned = 0
        self._claimed = False

    # ------------------------------------------------------------------ chain
    @property
    def claim_data(self) -> str:
        return "0xc1a1" + f"{self.claim_round:060x}"

    def claimed_on_chain(self) -> bool:
        """True once a successful transaction to CONTRACT with this round's data is mined."""
        if self._claimed:
            return True
        if self.proof_requests == 0:
            return False  # nobody has had this round's calldata yet, so nothing to look for
        head = int(self.anvil.rpc("eth_blockNumber"), 16)
        first, self._scanned = self._scanned + 1, head
        for n in range(first, head + 1):
            block = self.anvil.rpc("eth_getBlockByNumber", [hex(n), True])
            for tx in block["transactions"]:
                if (tx.get("to") or "").lower() == CONTRACT.lower() and tx[
                    "input"
                ] == self.claim_data:
                    receipt = self.anvil.receipt(tx["hash"])
                    if receipt and int(receipt["status"], 16) == 1:
                        self._claimed = True
                        return True
        return False

    # ------------------------------------------------------------------ data
    @property
    def epoch_now(self) -> int:
        return EPOCHS + 10

    def pool(self) -> dict[str, Any]:
        now = self.now
        start = now - 5 * 3600
        t = [now - 3600 * (167 - i) for i in range(168)]
        rigs = [
            {
                "address": DEV_ACCOUNTS[2 + i % 6],
                "node": f"rig-{i + 1}",
                "score": round(0.99 - i * 0.03, 3),
                "pixels_per_second": 1.2e8 - i * 7e6,
                "success_rate": 0.999 - i * 0.002,
                "latency_p95_ratio": 0.35 + i * 0.04,
                "realtime_ratio": 2.8 - i * 0.1,
            }
            for i in range(10)
        ]
        rigs[1]["address"] = MINER
        return {
            "chain_id": self.chain_id,
            "contract": CONTRACT,
            "explorer_url": "https://arbiscan.io",
            "fee_address": FEE,
            "commission_bps": 500,
            "commission_next": {"commission_bps": 300, "effective_epoch": self.epoch_now + 1},
            "penalty_multiplier": 1,
            "decode_weight": 0,
            "price": {"price_per_unit": "1200", "pixels_per_unit": "1"},
            "epoch": {
                "number": self.epoch_now,
                "start": start,
                "end": start + EPOCH_SECONDS,
                "settle_at": start + EPOCH_SECONDS + 3600,
                "seconds": EPOCH_SECONDS,
                "settle_seconds": 3600,
            },
            "roots": {
                "active": {
                    "epoch": self.epoch_now - 2,
                    "root": "0x" + "a1" * 32,
                    "total": str(40 * ETH),
                    "data_hash": "0x" + "d1" * 32,
                },
                "pending": {
                    "epoch": self.epoch_now - 1,
                    "root": "0x" + "b2" * 32,
                    "total": str(42 * ETH),
                    "data_hash": "0x" + "e2" * 32,
                    "valid_at": now + 2 * 3600,
                },
            },
            "funds": {
                "balance": str(45 * ETH),
                "total_claimed": str(10 * ETH),
                "liabilities": str(30 * ETH),
                "surplus": str(15 * ETH),
                "solvent": True,
            },
            "stats": {
                "miners": 50,
                "miners_online": 42,
                "rigs": 80,
                "rigs_online": 70,
                "pixels_per_second": {"now": 1.2e9, "day": 1.1e9, "week": 1.0e9},
                "segments_24h": 123_456,
                "failed_rate_24h": 0.004,
                "gross_unsettled": str(2 * ETH + 1),
                "latency_ratio_p50": 0.31,
                "latency_ratio_p95": 0.72,
                "paid_total": str(10 * ETH),
            },
            "series": {
                "t": t,
                "pixels_per_second": [1.0e9 + 2e8 * ((i * 7) % 24) / 24 for i in range(168)],
            },
            "top_rigs": rigs,
            "chain": {"updated_at": now - 20, "stale": False},
        }

    def miner(self) -> dict[str, Any]:
        now = self.now
        claimed_now = self.claimed_on_chain()
        cumulative = 30 * ETH + CLAIMABLE
        claimed = cumulative if claimed_now else 30 * ETH
        claimable = cumulative - claimed
        epochs = self._cache.get("epochs")
        if epochs is None:
            epochs = self._cache["epochs"] = self._epochs(cumulative)
        return self._miner_body(now, cumulative, claimed, claimable, epochs)

    def _epochs(self, cumulative: int) -> list[dict[str, Any]]:
        epochs = []
        cum = cumulative
        for i in range(EPOCHS):
            n = self.epoch_now - 2 - i
            delta = 10**17 + (i * 7919 % 97) * 10**15 + i
            epochs.append(
                {
                    "epoch": n,
                    "segments": 1000 + i,
                    "failed_segments": i % 5,
                    "pixels": str(10**12 + i),
                    "gross": str(delta * 100 // 95),
                    "commission": str(delta * 100 // 95 - delta),
                    "penalty": "0",
                    "overhead": "0",
                    "delta": str(delta),
                    "cumulative": str(cum),
                    "debt": "0",
                }
            )
            cum -= delta
        return epochs

    def _miner_body(
        self, now: int, cumulative: int, claimed: int, claimable: int, epochs: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "address": MINER,
            "first_seen": now - EPOCHS * EPOCH_SECONDS,
            "last_seen": now - 30,
            "balances": {
                "unsettled": str(3 * 10**16),
                "in_pending_root": str(2 * 10**17),
                "claimable_at": now + 2 * 3600,
                "cumulative": str(cumulative),
                "claimed": str(claimed),
                "claimable": str(claimable),
                "debt": "0",
                "pushed": str(4 * ETH),
            },
            "settings": self.settings,
            "next_payout": (
                {
                    "reason": "claimable",
                    "eta": None,
                    "amount": str(claimable),
                    "detail": "Your balance in the active root can be claimed now.",
                }
                if claimable
                else {
                    "reason": "challenge_window",
                    "eta": now + 2 * 3600,
                    "amount": str(2 * 10**17),
                    "detail": "The next root is in its challenge window.",
                }
            ),
            "stats": {
                "pixels_per_second_24h": 1.0e8,
                "segments_24h": 1000,
                "failed_24h": 2,
                "flagged_24h": 0,
                "latency_ratio_p95": 0.6,
            },
            "rigs": [
                {
                    "node": f"rig-{i + 1}",
                    "online": i != 3,
                    "last_seen": now - (30 if i != 3 else 7200),
                    "region": ["eu", "us", "ap"][i % 3],
                    "pixels_per_second": 5.0e7 - i * 4e6,
                    "segments": 500 - i * 20,
                    "failed": i,
                    "latency_p95_ms": 900 + i * 50,
                    "realtime_ratio": 2.2 - i * 0.1,
                    "score": round(0.95 - i * 0.02, 3),
                }
                for i in range(6)
            ],
            "epochs": epochs,
            "series": {
                "t": [now - 3600 * (167 - i) for i in range(168)],
                "pixels_per_second": [1e8 + (i % 24) * 1e6 for i in range(168)],
            },
            "chain": {"updated_at": now - 20, "stale": False},
        }

    # The bodies are serialised once per state, so the load-time measurement times the
    # dashboard, not this fixture's Python.
    def miner_bytes(self) -> bytes:
        key = ("miner", self.claimed_on_chain(), json.dumps(self.settings))
        if key not in self._cache:
            self._cache[key] = json.dumps(self.miner()).encode()
        return bytes(self._cache[key])

    def payments_bytes(self, limit: int, offset: int) -> bytes:
        key = ("payments", limit, offset)
        if key not in self._cache:
            self._cache[key] = json.dumps(self.payments(limit, offset)).encode()
        return bytes(self._cache[key])

    def payments(self, limit: int, offset: int) -> dict[str, Any]:
        items = [
            {
                "kind": "push" if i % 3 else "claim",
                "tx_hash": "0x" + f"{i + 1:064x}",
                "block": 10_000_000 - i * 100,
                "amount": str(4 * 10**15 + i),
                "gas_charged": str(21_000 * 10**8),
                "time": self.now - 3600 * 6 * (i + 1),
                "recipient": MINER,
            }
            for i in range(offset, min(offset + limit, PAYMENTS))
        ]
        return {"payments": items, "total": PAYMENTS}

    def proof(self) -> dict[str, Any]:
        self.proof_requests += 1
        m = self.miner()["balances"]
        return {
            "account": MINER,
            "cumulative": m["cumulative"],
            "claimed": m["claimed"],
            "claimable": m["claimable"],
            "proof": ["0x" + "99" * 32],
            "root": "0x" + "a1" * 32,
            "epoch": self.epoch_now - 2,
            "contract": CONTRACT,
            "chain_id": self.chain_id,
            "tx": {"to": CONTRACT, "data": self.claim_data, "value": "0"},
        }

    def put_settings(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        now = int(time.time())
        try:
            signer = settings_signer(body, MINER, self.chain_id, CONTRACT)
        except Exception as e:
            return 403, {"detail": f"The signature could not be checked: {e}"}
        self.settings_puts.append({"body": body, "signer": signer})
        if signer.lower() != MINER.lower():
            return 403, {"detail": "The signature is not the miner's."}
        if int(body["nonce"]) != self.settings["nonce"] + 1:
            return 403, {"detail": "The nonce must be the stored nonce + 1."}
        if not now < int(body["deadline"]) <= now + 3600:
            return 403, {"detail": "The deadline has passed or is more than an hour away."}
        self.settings = {
            "mode": body["mode"],
            "threshold": str(int(body["threshold"])),
            "gas_cap_bps": int(body["gas_cap_bps"]),
            "nonce": int(body["nonce"]),
            "updated_at": now,
        }
        return 200, self.settings


def make_handler(state: FixtureState, dist: Path) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like any real server
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall between headers and body

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(dist), **kwargs)

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _json(self, status: int, body: Any) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self) -> tuple[int, Any] | None:
            url = urlparse(self.path)
            path = url.path
            q = parse_qs(url.query)
            for prefix, status in state.fail.items():
                if path.startswith(prefix):
                    return status, {"detail": f"Fixture failure for {prefix}."}
            if path == "/v1/config":
                return 200, {
                    "chain_id": state.chain_id,
                    "contract": CONTRACT,
                    "explorer_url": "https://arbiscan.io",
                    "eip712": {"name": "Livepool", "version": "1"},
                }
            if path == "/v1/pool":
                return 200, state.pool()
            if path.startswith("/v1/miners/"):
                parts = path.split("/")
                address = parts[3]
                if address.lower() != MINER.lower():
                    return 404, {
                        "detail": f"miner {address} has not been seen by this pool "
                        "(it has existed since 2025-11-24T16:00:00Z)"
                    }
                rest = parts[4] if len(parts) > 4 else ""
                if rest == "":
                    return 200, state.miner_bytes()
                if rest == "payments":
                    return 200, state.payments_bytes(
                        int(q.get("limit", ["50"])[0]), int(q.get("offset", ["0"])[0])
                    )
                if rest == "proof":
                    return 200, state.proof()
            if path.startswith("/v1/"):
                return 404, {"detail": "Not found."}
            return None

        def do_GET(self) -> None:
            routed = self._route()
            if routed is None:
                super().do_GET()
            else:
                self._json(*routed)

        def do_POST(self) -> None:
            # Test controls, only in this fixture: /__fixture/reset and /__fixture/state.
            path = urlparse(self.path).path
            self.rfile.read(int(self.headers.get("content-length", "0")))
            if path == "/__fixture/reset":
                state.reset()
            if path in ("/__fixture/reset", "/__fixture/state"):
                self._json(
                    200,
                    {
                        "settings_puts": state.settings_puts,
                        "proof_requests": state.proof_requests,
                        "settings": state.settings,
                    },
                )
            else:
                self._json(404, {"detail": "Not found."})

        def do_PUT(self) -> None:
            url = urlparse(self.path).path
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
            if url.lower() == f"/v1/miners/{MINER.lower()}/settings":
                self._json(*state.put_settings(body))
            else:
                self._json(404, {"detail": "Not found."})

    return Handler


class FixtureApi:
    """The fixture service in its own process (like the real service: the test's Python,
    busy driving the browser, does not slow its answers) on a free loopback port; ``url``
    is its base URL. ``reset()`` and ``settings_puts()`` reach its state over HTTP."""

    def __init__(self, anvil: Anvil, dist: Path, chain_id: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [
            sys.executable,
            "-m",
            "tests.browser.fixture_api",
            "--anvil",
            anvil.url,
            "--dist",
            str(dist),
            "--chain-id",
            str(chain_id),
            "--port",
            str(self.port),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def _control(self, action: str) -> dict[str, Any]:
        req = urllib.request.Request(f"{self.url}/__fixture/{action}", data=b"{}", method="POST")
        with urllib.request.urlopen(req, timeout=10) as res:
            return dict(json.loads(res.read()))

    def reset(self) -> None:
        self._control("reset")

    def settings_puts(self) -> list[dict[str, Any]]:
        return list(self._control("state")["settings_puts"])

    def __enter__(self) -> FixtureApi:
        root = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(self.args, cwd=root, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/v1/config", timeout=2).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    err = self.process.stderr.read().decode()  # type: ignore[union-attr]
                    raise RuntimeError(f"fixture API exited: {err}") from None  # type: ignore[union-attr]
                if time.monotonic() > deadline:
                    raise RuntimeError("fixture API did not answer within 30 s") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description="Livepool fixture API for the browser test")
    parser.add_argument("--anvil", required=True)
    parser.add_argument("--dist", required=True, type=Path)
    parser.add_argument("--chain-id", type=int, default=31337)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    state = FixtureState(anvil=Anvil(args.anvil), chain_id=args.chain_id)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state, args.dist))
    server.serve_forever()


if __name__ == "__main__":
    main()
