"""The real pool behind the dashboard: a fresh anvil node, the distributor (contract v2,
with poster, guardian and keeper roles) deployed on it by ape and funded, one epoch of
simulated receipts for three anvil dev-account miners ingested, closed, proposed and
accepted, and `livepool serve` on a free loopback port serving the built dashboard at `/`.

Works under `ape test` and plain pytest alike: ape is used as a library (its
``networks`` manager, not its pytest fixtures), and only while the pool is set up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livepool import epochs, operations
from livepool.chain import Distributor
from livepool.ledger import Ledger
from tests.e2e.conftest import (
    CHALLENGE_PERIOD,
    EPOCH_SECONDS,
    ETH,
    GENESIS,
    SETTLE_SECONDS,
    run_epoch,
)

from .helpers import ANVIL_CHAIN_ID, DIST, ROOT, Anvil, free_port, run_anvil

FUNDING = 20 * ETH


@dataclass
class Pool:
    """A running pool: ``url`` serves the dashboard and /v1; ``miners`` have a claimable
    leaf in the accepted root of epoch 0."""

    anvil: Anvil
    url: str
    contract: str
    miners: list[str]
    ledger: Ledger

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as res:
            return json.loads(res.read())


def _deploy_and_settle(anvil_url: str, ledger: Ledger) -> tuple[str, int, list[str]]:
    """Deploy and fund the distributor, close epoch 0, propose and accept its root."""
    from ape import accounts, chain, networks

    with networks.ethereum.local.use_provider("foundry", provider_settings={"host": anvil_url}):
        operator, poster, guardian, keeper, fee = (accounts.test_accounts[i] for i in range(5))
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
            keeper=keeper.address,
        )
        distributor.fund(operator, FUNDING)
        run_epoch(ledger, miners, 0)
        assert operations.propose_latest(ledger, distributor, poster).sent is not None
        # Past the challenge window (evm_setNextBlockTimestamp + evm_mine), then accept.
        chain.pending_timestamp += CHALLENGE_PERIOD
        chain.mine()
        operations.accept(ledger, distributor, keeper)
        return str(distributor.address), deploy_block, [m.address for m in miners]


@contextmanager
def run_pool(tmp: Path) -> Iterator[Pool]:
    """The whole real pool, torn down afterwards (service, then anvil)."""
    ledger = Ledger(f"sqlite:///{tmp / 'livepool.db'}")
    with run_anvil() as anvil:
        contract, deploy_block, miners = _deploy_and_settle(anvil.url, ledger)
        port = free_port()
        env = {
            **os.environ,
            "LIVEPOOL_CONTRACT": contract,
            "LIVEPOOL_RPC_URL": anvil.url,
            "LIVEPOOL_CHAIN_ID": str(ANVIL_CHAIN_ID),
            "LIVEPOOL_DEPLOY_BLOCK": str(deploy_block),
            "LIVEPOOL_ABI_PATH": str(ROOT / ".build" / "__local__.json"),
            "LIVEPOOL_WEB_DIR": str(DIST),
            # Read the chain every second (15 s in production) so the claim shows up fast.
            "LIVEPOOL_CHAIN_REFRESH_SECONDS": "1",
            "LIVEPOOL_VIEW_CACHE_SECONDS": "1",
        }
        serve = [sys.executable, "-m", "livepool.cli", "--database-url", ledger.url, "serve"]
        log = tmp / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*serve, "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"livepool serve exited:\n{log.read_text()}")
                try:
                    with urllib.request.urlopen(f"{url}/readyz", timeout=1) as res:
                        if json.loads(res.read()).get("chain_updated_at") is not None:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"livepool serve not ready in 60 s:\n{log.read_text()}")
                time.sleep(0.2)
            yield Pool(anvil=anvil, url=url, contract=contract, miners=miners, ledger=ledger)
        finally:
            process.terminate()
            process.wait(timeout=10)
            ledger.close()
