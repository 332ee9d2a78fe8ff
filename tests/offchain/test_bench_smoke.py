"""The close benchmark runs end to end: old (commit 66b8d14) and new code close the same
tiny ledger in their own processes and agree on the root (bench/close_bench.py exits 1
when roots differ)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench" / "close_bench.py"


def _has_commit(commit: str) -> bool:
    found = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=REPO, capture_output=True
    )
    return found.returncode == 0


def test_close_bench_old_and_new_agree(tmp_path: Path) -> None:
    assert _has_commit("66b8d14"), "the old code's commit 66b8d14 is not in this clone"
    env = {**os.environ, "PYTHONPATH": str(REPO / "offchain")}
    run = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--sizes",
            "2000x50",
            "--db",
            "sqlite",
            "--repeat",
            "1",
            "--tmp",
            str(tmp_path),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "(2 closes, old and new code)" in run.stdout
    assert "| sqlite | 2,000 | 50 | old |" in run.stdout
    assert "| sqlite | 2,000 | 50 | new |" in run.stdout
