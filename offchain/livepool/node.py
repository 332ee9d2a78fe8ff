"""`livepool node start|stop|status`: one persistent local chain for the operator's path.

ape's ``ethereum:local:test`` chain lives inside one process, and ape-foundry starts a
throwaway anvil when none answers: neither outlives a command. This starts anvil (from
the project's npm packages, ``node_modules/.bin/anvil``, or PATH) in the background on a
fixed port, with its state saved under the data directory so a stop and start keep the
contracts, and remembers its pid so ``stop`` ends exactly that process. The dev accounts
come from anvil's default mnemonic, the same as ape's ``TEST::0…9``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from livepool.errors import LivepoolError

__all__ = ["DEFAULT_PORT", "NodeInfo", "default_port", "start", "status", "stop"]

DEFAULT_PORT = 8545
MNEMONIC = "test test test test test test test test test test test junk"


def default_port() -> int:
    """The port ape-foundry connects to: ``APE_FOUNDRY_HOST``'s, else 8545."""
    host = os.environ.get("APE_FOUNDRY_HOST", "")
    tail = host.rstrip("/").rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else DEFAULT_PORT


@dataclass(frozen=True)
class NodeInfo:
    pid: int
    port: int
    url: str
    state: str
    log: str


def _folder(data_dir: Path) -> Path:
    return data_dir / "node"


def _info_path(data_dir: Path, port: int) -> Path:
    return _folder(data_dir) / f"anvil-{port}.json"


def anvil_binary(root: Path | None = None) -> str:
    """anvil from ``node_modules/.bin`` (the project's npm packages), else PATH."""
    for base in filter(None, [root, Path.cwd(), Path(__file__).resolve().parents[2]]):
        candidate = base / "node_modules" / ".bin" / "anvil"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("anvil")
    if found:
        return found
    raise LivepoolError(
        "anvil not found: run `make setup` in the repository (it installs @foundry-rs/anvil "
        "into node_modules/.bin)"
    )


def _chain_id(url: str) -> int | None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return int(json.loads(response.read())["result"], 16)
    except (OSError, ValueError, KeyError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def status(data_dir: Path, port: int) -> tuple[NodeInfo | None, int | None]:
    """(the node this data dir started on ``port`` if still running, the chain id
    answering on the port — from any node)."""
    url = f"http://127.0.0.1:{port}"
    path = _info_path(data_dir, port)
    info = None
    if path.exists():
        info = NodeInfo(**json.loads(path.read_text()))
        if not _alive(info.pid):
            info = None
    return info, _chain_id(url)


def start(
    data_dir: Path, port: int, *, block_time: int | None = None, timeout: float = 30
) -> tuple[NodeInfo, bool]:
    """Start anvil on ``port`` in the background; (its info, whether it was started now).
    A node this data dir started and still running is reused; a port taken by another
    process is refused."""
    running, chain = status(data_dir, port)
    if running is not None:
        return running, False
    url = f"http://127.0.0.1:{port}"
    if chain is not None:
        raise LivepoolError(
            f"port {port} is taken by another node (chain {chain}) that this data dir did not "
            "start: use it as it is, stop it, or pick another port (--port)"
        )
    folder = _folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    state = folder / f"anvil-{port}.state.json"
    log = folder / f"anvil-{port}.log"
    argv = [
        anvil_binary(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--mnemonic",
        MNEMONIC,
        "--state",
        str(state),
    ]
    if block_time:
        argv += ["--block-time", str(block_time)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while _chain_id(url) is None:
        if process.poll() is not None:
            raise LivepoolError(f"anvil exited ({process.returncode}): see {log}")
        if time.monotonic() > deadline:
            process.terminate()
            raise LivepoolError(f"anvil did not answer on {url} within {timeout:.0f} s: see {log}")
        time.sleep(0.2)
    info = NodeInfo(pid=process.pid, port=port, url=url, state=str(state), log=str(log))
    _info_path(data_dir, port).write_text(json.dumps(info.__dict__, indent=2) + "\n")
    return info, True


def stop(data_dir: Path, port: int, *, timeout: float = 15) -> NodeInfo | None:
    """Stop the node this data dir started on ``port`` (its state is saved); None if
    none is running."""
    running, _ = status(data_dir, port)
    path = _info_path(data_dir, port)
    if running is None:
        path.unlink(missing_ok=True)
        return None
    os.kill(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(running.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    path.unlink(missing_ok=True)
    return running
