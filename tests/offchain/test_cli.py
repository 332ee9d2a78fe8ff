"""The ``livepool`` command end to end (click's CliRunner), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from livepool.audit import check_statement
from livepool.cli import cli
from livepool.merkle import MerkleTree
from livepool.statement import load_statement

FEE = "0x00000000000000000000000000000000000000fe"
FIXTURE = str(Path(__file__).resolve().parents[1] / "fixtures" / "openpool-events.sample.json")


@pytest.fixture
def run(database_url, tmp_path):
    """``run(*args)``: invoke ``livepool --database-url … args`` and return the result."""
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(
            cli, ["--database-url", database_url, "--data-dir", str(tmp_path), *args]
        )

    return invoke


def test_simulate_ingest_close_show_tree__end_to_end(run, tmp_path):
    out = tmp_path / "r.jsonl"
    result = run(
        "simulate", "--miners", "12", "--receipts", "3000", "--seed", "5", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    assert run("config", "--fee-address", FEE, "--commission-bps", "300").exit_code == 0

    result = run("ingest", str(out), "--no-progress")
    assert result.exit_code == 0, result.output
    assert "conflict 0, rejected 0" in result.output
    again = run("ingest", str(out), "--no-progress")
    assert again.exit_code == 0
    assert "accepted 0 (0 receipts, 0 verdicts)," in again.output

    result = run("epoch", "close", "--now", "2000000000")
    assert result.exit_code == 0, result.output
    number = int(result.output.split()[1])
    root = result.output.split("root ")[1].split()[0]

    shown = run("epoch", "show", str(number))
    assert shown.exit_code == 0
    statement = load_statement(shown.output.strip())
    assert statement.root == root
    assert statement.settings.commission_bps == 300
    assert check_statement(statement) == []

    tree = run("epoch", "tree", str(number))
    assert tree.exit_code == 0
    loaded = MerkleTree.load(json.loads(tree.output))
    assert "0x" + loaded.root.hex() == statement.root

    listed = run("epoch", "list")
    assert f"{number}" in listed.output and "closed" in listed.output
    # Closing it again changes nothing.
    assert "already closed" in run("epoch", "close", str(number), "--now", "2000000000").output


def test_ingest__rejected_items__reasons_and_exit_code_1(run, tmp_path):
    assert run("config", "--fee-address", FEE).exit_code == 0
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x"}\n{nope\n')
    result = run("ingest", str(path), "--no-progress")
    assert result.exit_code == 1
    assert "rejected 2" in result.output
    assert "item 2: rejected: not JSON" in result.output
    assert "reasons:" in result.output


def test_epoch_close__not_configured__message_and_exit_2(run, tmp_path):
    path = tmp_path / "r.jsonl"
    assert run("simulate", "--miners", "2", "--receipts", "10", "--out", str(path)).exit_code == 0
    assert run("config", "--genesis", "0").exit_code == 0  # configured, but no fee address
    assert run("ingest", str(path), "--no-progress").exit_code == 0
    result = run("epoch", "close", "--now", "2000000000")
    assert result.exit_code == 2
    assert result.output.startswith("error: pool not configured")
    assert "Traceback" not in result.output


def test_epoch_show__unknown__exit_2(run):
    result = run("epoch", "show", "3")
    assert result.exit_code == 2
    assert "error: epoch 3: unknown" in result.output


def test_epoch_close__all_due__closes_in_order(run, tmp_path):
    path = tmp_path / "r.jsonl"
    run("simulate", "--miners", "3", "--receipts", "300", "--days", "2", "--out", str(path))
    run("config", "--fee-address", FEE, "--genesis", "1764028800")
    assert run("ingest", str(path), "--no-progress").exit_code == 0
    result = run("epoch", "close", "--all-due", "--now", str(1764028800 + 3 * 86400 + 3600))
    assert result.exit_code == 0, result.output
    assert [line.split()[1] for line in result.output.splitlines()] == ["0", "1", "2"]
    assert "no epoch is due" in run("epoch", "close", "--all-due", "--now", "1764200000").output


def test_ingest_openpool__fixture__receipts_and_rig_status(run):
    run("config", "--orchestrator", "0x8ba1f109551bD432803012645Ac136ddd64DBA72")
    result = run("ingest", "--format", "openpool", FIXTURE)
    assert result.exit_code == 0, result.output
    assert "filling in" in result.output
    assert "accepted 12" in result.output
    assert "rig events: 1" in result.output


def test_config__bad_address__exit_2(run):
    result = run("config", "--fee-address", "0x12")
    assert result.exit_code == 2
    assert "fee_address" in result.output
