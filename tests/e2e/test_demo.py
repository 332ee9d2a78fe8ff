"""`livepool demo`: the whole pool as real processes (anvil, the service, the keeper, the
watchtower, a simulated orchestrator posting receipts), on short epochs of the real clock.

Bounded (`--epochs N --exit`) it must print its summary and exit 0 only when the audit
passes; with `--tamper-epoch` the watchtower must revoke the operator's raised root; live,
Ctrl-C must stop every process it started.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from pathlib import Path

from .conftest import free_port
from .procs import BIN, ROOT, env_for

FAST = ["--epoch-seconds", "15", "--settle-seconds", "2", "--challenge-seconds", "4"]


def demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [str(BIN / "livepool"), "demo", "--port", str(free_port()), *FAST, *args]
    argv += ["--demo-dir", str(tmp_path / "demo")]
    return subprocess.run(
        argv, cwd=ROOT, env=env_for(tmp_path), capture_output=True, text=True, timeout=240
    )


def test_demo_exit__two_epochs__summary_and_audit_pass(tmp_path):
    result = demo(tmp_path, "--epochs", "2", "--exit")

    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-4000:]
    # Epoch numbers depend on how fast the processes start (a slow start closes two
    # epochs at once and proposes the later): check the kinds of events, then the summary.
    for event in (
        "closed:",
        "root proposed by the keeper",
        "root checked by the watchtower: audit passed",
        "root accepted",
        "pushed",
        "claimed",
    ):
        assert re.search(rf"epoch \d+ {event}", out), event
    assert "0 revoked" in out and "0 failed" in out
    assert "verify            PASS" in out
    assert "result            OK" in out
    assert "private key" in out


def test_demo_exit__tampered_root__revoked_by_the_watchtower(tmp_path):
    result = demo(tmp_path, "--epochs", "2", "--exit", "--tamper-epoch", "1")

    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-4000:]
    assert "TAMPERED root proposed by the operator" in out
    assert "root FAILED the watchtower's audit" in out
    assert "root revoked by the watchtower (guardian)" in out
    assert "1 revoked (epoch 1)" in out
    assert "tampered root     epoch 1: revoked by the watchtower" in out
    assert "was revoked" in out  # verify's note
    assert "result            OK" in out
    assert (tmp_path / "demo" / "tampered" / "epoch-1.json").exists()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_demo_live__ctrl_c__stops_every_process_it_started(tmp_path):
    port, anvil_port = free_port(), free_port()
    argv = [str(BIN / "livepool"), "demo", "--port", str(port), "--anvil-port", str(anvil_port)]
    argv += ["--demo-dir", str(tmp_path / "demo")]
    log = tmp_path / "demo.log"
    with log.open("wb") as handle:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env_for(tmp_path), stdout=handle, stderr=handle)
    try:
        deadline = time.monotonic() + 180
        while "Open the dashboard" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text()[-4000:]
            assert time.monotonic() < deadline, log.read_text()[-4000:]
            time.sleep(0.5)
        text = log.read_text()
        assert f"http://127.0.0.1:{port}" in text
        assert _listening(port) and _listening(anvil_port)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130, log.read_text()[-4000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "every process the demo started has exited" in log.read_text()
    assert not _listening(port) and not _listening(anvil_port)
    pids = subprocess.run(["pgrep", "-f", str(tmp_path / "demo")], capture_output=True, text=True)
    assert pids.stdout.strip() == "", "a process of the demo is still running"
