"""The real thing: `livepool serve` (uvicorn) on a free loopback port, anvil with the
distributor deployed by ape, driven by httpx; a miner claims with the `{to, data}` the
API returned and is paid exactly `claimable`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from web3 import Web3

from livepool import epochs, operations
from livepool.chain import Distributor
from livepool.ledger import Ledger
from livepool.ledger import service as servicedb
from tests.e2e.conftest import (
    CHALLENGE_PERIOD,
    EPOCH_SECONDS,
    ETH,
    GENESIS,
    SETTLE_SECONDS,
    free_port,
    run_epoch,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(anvil, networks, tmp_path):
    """A pool with epoch 0 active on anvil, and `livepool serve` on it; yields
    ``(base_url, miners, contract address, ledger)``."""
    ledger = Ledger(f"sqlite:///{tmp_path / 'livepool.db'}")
    with networks.ethereum.local.use_provider("foundry", provider_settings={"host": anvil}):
        from ape import accounts, chain

        operator, poster, guardian, keeper = (accounts.test_accounts[i] for i in range(4))
        fee = accounts.test_accounts[4]
        miners = [accounts.test_accounts[i] for i in range(5, 8)]
        epochs.configure(
            ledger,
            fee_address=fee.address,
            genesis=GENESIS,
            epoch_seconds=EPOCH_SECONDS,
            settle_seconds=SETTLE_SECONDS,
            commission_bps=500,
        )
        deploy_block = chain.blocks.height
        distributor = Distributor.deploy(
            operator,
            poster=poster.address,
            guardian=guardian.address,
            challenge_period=CHALLENGE_PERIOD,
        )
        distributor.fund(operator, 20 * ETH)
        run_epoch(ledger, miners, 0)
        assert operations.propose_latest(ledger, distributor, poster).sent is not None
        chain.pending_timestamp += CHALLENGE_PERIOD
        chain.mine()
        operations.accept(ledger, distributor, keeper)
        address = distributor.address
    token, _ = servicedb.create_token(ledger, miners[0].address, "live")
    port = free_port()
    env = {
        **os.environ,
        "LIVEPOOL_CONTRACT": address,
        "LIVEPOOL_RPC_URL": anvil,
        "LIVEPOOL_CHAIN_ID": "31337",
        "LIVEPOOL_DEPLOY_BLOCK": str(deploy_block),
        "LIVEPOOL_ABI_PATH": str(ROOT / ".build" / "__local__.json"),
        "LIVEPOOL_CHAIN_REFRESH_SECONDS": "1",
        "LIVEPOOL_VIEW_CACHE_SECONDS": "0",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "livepool.cli",
            "--database-url",
            ledger.url,
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.stdout.read().decode()
        try:
            ready = httpx.get(f"{base}/readyz", timeout=1).json()
            if ready["chain_updated_at"] is not None:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the service did not become ready in 60 s"
        time.sleep(0.2)
    try:
        yield base, [m.address for m in miners], address, ledger, token
    finally:
        process.terminate()
        process.wait(timeout=10)
        ledger.close()


def wait_for(predicate, what: str, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_live__claim_with_returned_calldata__pays_exactly_claimable(served, anvil):
    base, miners, contract, ledger, _ = served
    miner = miners[0]
    with httpx.Client(base_url=base, timeout=5) as http:
        pool = http.get("/v1/pool").json()
        assert pool["roots"]["active"]["epoch"] == 0
        assert pool["funds"]["balance"] == str(20 * ETH) and pool["funds"]["solvent"] is True
        assert pool["chain"]["stale"] is False
        response = http.get(f"/v1/miners/{miner}/proof")
        assert response.status_code == 200, response.text
        proof = response.json()
        claimable = int(proof["claimable"])
        assert claimable == int(proof["cumulative"]) == epochs.epoch_tree(ledger, 0).amount(miner)
        assert proof["contract"] == contract and proof["chain_id"] == 31337

        w3 = Web3(Web3.HTTPProvider(anvil))
        before = w3.eth.get_balance(miner)
        tx_hash = w3.eth.send_transaction(
            {
                "from": miner,
                "to": proof["tx"]["to"],
                "data": proof["tx"]["data"],
                "value": int(proof["tx"]["value"]),
            }
        )
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt.status == 1
        paid = w3.eth.get_balance(miner) - before + receipt.gasUsed * receipt.effectiveGasPrice
        assert paid == claimable

        after = wait_for(
            lambda: (p := http.get(f"/v1/miners/{miner}/proof").json())["claimed"] != "0" and p,
            "the refresher to see the claim",
        )
        assert after["claimed"] == str(claimable) and after["claimable"] == "0"
        payments = http.get(f"/v1/miners/{miner}/payments").json()
        assert payments["total"] == 1
        (payment,) = payments["payments"]
        assert payment["kind"] == "claim" and payment["amount"] == str(claimable)
        assert payment["tx_hash"] == "0x" + bytes(tx_hash).hex()
        view = http.get(f"/v1/miners/{miner}").json()
        assert view["balances"]["claimed"] == str(claimable)
        assert view["balances"]["claimable"] == "0"
        epochs_list = http.get("/v1/epochs").json()["epochs"]
        assert epochs_list[-1]["number"] == 0 and epochs_list[-1]["state"] == "active"
        assert "livepool_contract_balance_wei" in http.get("/metrics").text
