"""Helpers for tests that run `ape run keeper` / `ape run watch` as real processes against
an anvil node: the environment, the network options, structured log lines, the
distributor seen with web3 (a client that is not ape), and receipts for chosen epochs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from web3 import Web3

from livepool.chain import Deployment, Distributor

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ORCHESTRATOR = "0x1111111111111111111111111111111111111111"


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(BIN), str(ROOT / "node_modules" / ".bin"), os.environ["PATH"]])
    env = {**os.environ, "PATH": path, "LIVEPOOL_DATA_DIR": str(data_dir), **extra}
    env.pop("LIVEPOOL_DATABASE_URL", None)
    env.pop("LIVEPOOL_KEEPER_KILL_AFTER", None)
    env.update(extra)
    return env


def net(anvil: str) -> list[str]:
    return [
        "--network",
        "ethereum:local:foundry",
        "--provider-settings",
        json.dumps({"host": anvil}),
    ]


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a process with stdout and stderr in ``log`` (read it with :func:`lines`)."""
    handle = log.open("ab")
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def lines(log: Path) -> list[dict[str, Any]]:
    """The JSON log lines written so far."""
    out = []
    for raw in log.read_text(errors="replace").splitlines():
        raw = raw.strip()
        if raw.startswith("{"):
            try:
                out.append(json.loads(raw))
            except ValueError:
                continue
    return out


def wait_for(
    what: str,
    check: Callable[[], Any],
    proc: subprocess.Popen[bytes] | None,
    log: Path | None,
    timeout: float = 120,
) -> Any:
    """Poll ``check`` until it returns something truthy; fail with the log if the process
    exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        tail = log.read_text(errors="replace")[-4000:] if log else ""
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}) before {what}:\n{tail}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{tail}")
        time.sleep(0.3)


def distributor_abi() -> list[Any]:
    manifest = json.loads((ROOT / ".build" / "__local__.json").read_text())
    return manifest["contractTypes"]["LivepoolDistributor"]["abi"]


def deploy(networks: Any, anvil: str, data_dir: Path, *, challenge_period: int, fund: int) -> str:
    """Deploy and fund a distributor on anvil (owner TEST::0, poster TEST::1, guardian
    TEST::2) and record it where the scripts look; return its address."""
    with networks.ethereum.local.use_provider("foundry", provider_settings={"host": anvil}):
        from ape import accounts

        owner, poster, guardian = (accounts.test_accounts[i] for i in range(3))
        d = Distributor.deploy(
            owner,
            poster=poster.address,
            guardian=guardian.address,
            challenge_period=challenge_period,
        )
        d.fund(owner, fund)
        record = d.deployment("ethereum:local")
        record.save(Deployment.path_for(data_dir, "ethereum:local", record.chain_id))
        return d.address


def contract(anvil: str, address: str) -> Any:
    w3 = Web3(Web3.HTTPProvider(anvil))
    return w3.eth.contract(address=address, abi=distributor_abi())


def events(c: Any, name: str) -> list[Any]:
    return list(getattr(c.events, name)().get_logs(from_block=0))


def receipts_for(epoch: int, start: int, length: int, miners: list[str]) -> list[dict[str, Any]]:
    """A few ok segments for each miner, finishing inside epoch ``epoch``'s window."""
    items = []
    for i, miner in enumerate(miners):
        for seq in range(3):
            items.append(
                {
                    "id": f"e{epoch}-m{i}-s{seq}",
                    "orchestrator": ORCHESTRATOR,
                    "transcoder": miner,
                    "stream": f"stream-{epoch}-{i}",
                    "seq": seq,
                    "finished_at": start + (seq * length) // 4,
                    "duration_ms": 2_000,
                    "latency_ms": 500,
                    "pixels_decoded": 1_000_000,
                    "pixels_encoded": 3_000_000 * (i + 1),
                    "price_per_unit": 1_000_000_000,
                    "pixels_per_unit": 1,
                    "status": "ok",
                }
            )
    return items
