"""Fixtures for end-to-end tests: a pool ledger fed by the simulator, on-chain roles, and
a helper that plays one epoch of the accountant."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from web3 import Web3

from livepool import epochs
from livepool.chain import Distributor
from livepool.ingest import ingest_receipts
from livepool.ledger import Ledger
from livepool.simulate import simulate

EPOCH_SECONDS = 86_400
SETTLE_SECONDS = 3_600
GENESIS = 1_764_000_000  # 2025-11-24T16:00:00Z
CHALLENGE_PERIOD = 3_600
ETH = 10**18
ROOT = Path(__file__).resolve().parents[2]
MNEMONIC = "test test test test test test test test test test test junk"


@pytest.fixture(scope="session")
def miners(accounts):
    return [accounts[i] for i in range(5, 10)]


@pytest.fixture
def distributor(operator, poster, guardian, keeper):
    d = Distributor.deploy(
        operator,
        poster=poster.address,
        guardian=guardian.address,
        challenge_period=CHALLENGE_PERIOD,
        keeper=keeper.address,
    )
    d.fund(operator, 50 * ETH)
    return d


@pytest.fixture
def ledger(tmp_path: Path, fee_account) -> Ledger:
    ledger = Ledger(data_dir=tmp_path / "data")
    epochs.configure(
        ledger,
        fee_address=fee_account.address,
        genesis=GENESIS,
        epoch_seconds=EPOCH_SECONDS,
        settle_seconds=SETTLE_SECONDS,
        commission_bps=500,
    )
    return ledger


def epoch_start(number: int) -> int:
    return GENESIS + number * EPOCH_SECONDS


def run_epoch(ledger: Ledger, miners, number: int, *, receipts: int = 400, seed: int = 1):
    """Simulate a day of work paid to ``miners``' wallets, ingest it and close epoch
    ``number``; return the closed epoch."""
    wallets = [m.address for m in miners]
    items = []
    for item in simulate(
        len(miners), receipts, seed=seed, start=epoch_start(number), days=0.9, addresses=wallets
    ):
        if "verdict" not in item:
            # Late arrivals of the simulator fall before this epoch: keep them inside.
            item["finished_at"] = max(item["finished_at"], epoch_start(number))
        items.append(item)
    report = ingest_receipts(ledger, items)
    assert report.rejected == 0 and report.conflict == 0, report.summary()
    return epochs.close_epoch(ledger, number, now=epoch_start(number + 1) + SETTLE_SECONDS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def anvil():
    """A fresh anvil node on a free loopback port; yields its URL."""
    binary = shutil.which("anvil") or str(ROOT / "node_modules" / ".bin" / "anvil")
    assert Path(binary).exists(), "anvil is missing: run `make setup` (npm @foundry-rs/anvil)"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            binary,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--mnemonic",
            MNEMONIC,
            "--accounts",
            "10",
            "--balance",
            "1000000",
            "--silent",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 10}))
    deadline = time.monotonic() + 30
    while not w3.is_connected():
        assert process.poll() is None, f"anvil exited: {process.stderr.read().decode()}"
        assert time.monotonic() < deadline, "anvil did not answer within 30 s"
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)
