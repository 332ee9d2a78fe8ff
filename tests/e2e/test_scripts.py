"""The README's operator section, run as written: the `livepool` CLI and the ape scripts
as separate processes against one anvil node (the in-process chain would not outlive a
command). Roles are ape's test accounts (`TEST::n`), which anvil funds from the same
mnemonic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from web3 import Web3

from .conftest import GENESIS, ROOT

BIN = Path(sys.executable).parent
POSTER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # TEST::1
GUARDIAN = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"  # TEST::2
FEE = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # TEST::3


def run(*argv: str, env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if ok:
        assert done.returncode == 0, f"{argv[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_operator_section__scripts_in_order__pay_and_verify(anvil, tmp_path):
    path = os.pathsep.join([str(BIN), str(ROOT / "node_modules" / ".bin"), os.environ["PATH"]])
    env = {
        **os.environ,
        "PATH": path,
        "LIVEPOOL_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("LIVEPOOL_DATABASE_URL", None)
    net = [
        "--network",
        "ethereum:local:foundry",
        "--provider-settings",
        json.dumps({"host": anvil}),
    ]
    livepool = str(BIN / "livepool")
    ape = str(BIN / "ape")

    # The accountant's day.
    run(
        livepool,
        "config",
        "--fee-address",
        FEE,
        "--genesis",
        str(GENESIS),
        "--epoch-seconds",
        "86400",
        "--settle-seconds",
        "3600",
        "--commission-bps",
        "500",
        env=env,
    )
    receipts = tmp_path / "receipts.jsonl"
    run(
        livepool,
        "simulate",
        "--miners",
        "6",
        "--receipts",
        "2000",
        "--seed",
        "4",
        "--start",
        str(GENESIS),
        "--out",
        str(receipts),
        env=env,
    )
    run(livepool, "ingest", str(receipts), env=env)
    run(livepool, "epoch", "close", "0", "--now", str(GENESIS + 86_400 + 3_600), env=env)
    tree_file = tmp_path / "epoch-0.tree.json"
    tree_file.write_text(run(livepool, "epoch", "tree", "0", env=env).stdout)

    # The operator's scripts, in the README's order.
    run(
        ape,
        "run",
        "deploy",
        "--account",
        "TEST::0",
        "--poster",
        POSTER,
        "--guardian",
        GUARDIAN,
        "--challenge-period",
        "60",
        "--yes",
        *net,
        env=env,
    )
    run(ape, "run", "fund", str(10**18), "--account", "TEST::0", "--yes", *net, env=env)
    refused = run(ape, "run", "accept", "--account", "TEST::4", *net, env=env, ok=False)
    assert refused.returncode != 0 and "no root is pending" in refused.stderr
    proposed = run(ape, "run", "propose", "--account", "TEST::1", "--yes", *net, env=env)
    assert "epoch 0 proposed" in proposed.stdout + proposed.stderr
    again = run(ape, "run", "propose", "--account", "TEST::1", "--yes", *net, env=env)
    assert "was proposed before" in again.stdout + again.stderr
    w3 = Web3(Web3.HTTPProvider(anvil))
    w3.provider.make_request("evm_increaseTime", [61])
    w3.provider.make_request("evm_mine", [])
    run(ape, "run", "accept", "--account", "TEST::4", "--confirmations", "0", *net, env=env)

    # One miner pushes, the pool pays; anyone claims for another with the published tree.
    tree = json.loads(tree_file.read_text())
    pushed, claimed = tree["values"][0]["value"][0], tree["values"][1]["value"][0]
    run(livepool, "payout", pushed, "--push", "--threshold", "0", env=env)
    push = run(ape, "run", "push", "--account", "TEST::4", "--yes", *net, env=env)
    assert "paid" in push.stdout + push.stderr
    before = w3.eth.get_balance(claimed)
    run(
        ape,
        "run",
        "claim",
        "--account",
        "TEST::5",
        "--for",
        claimed,
        "--tree",
        str(tree_file),
        "--yes",
        *net,
        env=env,
    )
    amount = int(next(v["value"][1] for v in tree["values"] if v["value"][0] == claimed))
    assert w3.eth.get_balance(claimed) == before + amount

    # The auditor.
    public = tmp_path / "public"
    run(livepool, "epoch", "publish", str(public), env=env)
    verified = run(ape, "run", "verify", "--statements", str(public), *net, env=env)
    assert "OK: every check holds" in verified.stdout
    offline = run(livepool, "check", str(public), env=env)
    assert "OK" in offline.stdout


# --- the README's operator section, verbatim -------------------------------------------------

BEGIN, END = "<!-- operator-local:begin -->", "<!-- operator-local:end -->"
#: What a fresh checkout holds after `make setup` (the rest is the user's, made by the
#: commands themselves).
PROJECT_FILES = ("ape-config.yaml", "contracts", "scripts", ".build", "pyproject.toml")


def readme_commands() -> list[str]:
    """The command lines of the README's local operator section (shell comments, blank
    lines and `\\` continuations handled as the shell would)."""
    text = (ROOT / "README.md").read_text()
    assert BEGIN in text and END in text, "the README lost its operator section markers"
    section = text.split(BEGIN, 1)[1].split(END, 1)[0]
    blocks = section.split("```sh\n")[1:]
    lines: list[str] = []
    for block in blocks:
        body = block.split("```", 1)[0].replace("\\\n", " ")
        lines += [line.strip() for line in body.splitlines() if line.strip()]
    return [line for line in lines if not line.startswith("#")]


def fresh_checkout(tmp_path: Path) -> Path:
    """The repository as `make setup` leaves it, without any data: a copy of the project
    files with the shared `.venv` and `node_modules`."""
    import shutil

    where = tmp_path / "livepool"
    where.mkdir()
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, where / name, symlinks=True)
        elif source.exists():
            shutil.copy2(source, where / name)
    venv = Path(os.environ.get("VIRTUAL_ENV") or BIN.parent)
    (where / ".venv").symlink_to(venv)
    modules = ROOT / "node_modules"
    (where / "node_modules").symlink_to(modules.resolve() if modules.exists() else modules)
    return where


def run_section(commands: list[str], cwd: Path, env: dict[str, str]) -> list[tuple[str, str]]:
    """Run ``commands`` verbatim in one bash (so `source` carries over), stopping at the
    first failure; return each command with its output."""
    marker = "@@@ livepool-readme-command "
    script = ["set -eo pipefail"]
    for i, command in enumerate(commands):
        script += [f"echo '{marker}{i}'", command]
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    pieces = done.stdout.split(marker)[1:]
    outputs = [(commands[int(p.split("\n", 1)[0])], p.split("\n", 1)[1]) for p in pieces]
    if done.returncode != 0:
        failed = outputs[-1][0] if outputs else "(before the first command)"
        raise AssertionError(
            f"README command failed ({done.returncode}): {failed}\n"
            f"{outputs[-1][1] if outputs else ''}\n{done.stderr[-4000:]}"
        )
    return outputs


def test_readme_operator_section__runs_verbatim_on_a_fresh_checkout(tmp_path):
    from .conftest import free_port

    commands = readme_commands()
    assert commands[0] == "source .venv/bin/activate"
    assert all("--network" in c for c in commands if c.startswith("ape run"))
    assert not any("livepool init" in c for c in commands)
    checkout = fresh_checkout(tmp_path)
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LIVEPOOL_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    env["PATH"] = os.pathsep.join(["/usr/bin", "/bin"])  # a fresh shell: no venv, no anvil
    env["APE_FOUNDRY_HOST"] = f"http://127.0.0.1:{port}"  # the README's note on other ports
    env["APE_DATA_FOLDER"] = str(tmp_path / "ape-data")  # missing: created or named
    env["PYTHONPATH"] = str(ROOT / "offchain")  # this checkout's package, not the venv's copy
    try:
        outputs = run_section(commands, checkout, env)
    finally:
        subprocess.run(
            [str(BIN / "livepool"), "node", "stop"],
            cwd=checkout,
            env={**env, "PATH": str(BIN)},
            capture_output=True,
            check=False,
            timeout=60,
        )
    said = dict(outputs)
    report = tmp_path / "readme-run.txt"
    report.write_text("".join(f"$ {c}\n{o}\n" for c, o in outputs))
    print(report.read_text())  # the transcript, with -s
    assert f"anvil started at http://127.0.0.1:{port}" in said["livepool node start"]
    dry = next(o for c, o in outputs if c.endswith("--dry-run"))
    assert "DRY RUN" in dry and "nothing sent" in dry
    verifies = [o for c, o in outputs if c.startswith("ape run verify")]
    assert all("OK: every check holds" in o for o in verifies)
    assert "tree dumps checked: 0" in verifies[-1]
    status = json.loads(said["livepool status --network ethereum:local:foundry --json"])
    assert status["chain"]["active_epoch"] == 0
    assert status["unconfirmed_actions"] == []
    assert "stopped" in said["livepool node stop"]
    assert (tmp_path / "ape-data").is_dir(), "the missing ape data folder was created"
    assert (checkout / "data" / "deployments" / "31337-ethereum-local.json").exists()


# --- refusals and a node that does not mine at once -------------------------------------------


@pytest.fixture
def slow_anvil():
    """anvil mining a block every second (like a real chain), not at each transaction."""
    from .conftest import MNEMONIC, free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    binary = str(ROOT / "node_modules" / ".bin" / "anvil")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--mnemonic", MNEMONIC, "--block-time", "1", "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    w3 = Web3(Web3.HTTPProvider(url))
    deadline = time.monotonic() + 30
    while not w3.is_connected():
        assert time.monotonic() < deadline, "anvil did not start"
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_scripts__block_time_node__refusals_receipts_with_blocks_and_push_gas(slow_anvil, tmp_path):
    env = {**os.environ, "LIVEPOOL_DATA_DIR": str(tmp_path / "data")}
    env.pop("LIVEPOOL_DATABASE_URL", None)
    net = ["--network", "ethereum:local:foundry", "--provider-settings"]
    net.append(json.dumps({"host": slow_anvil}))
    livepool, ape = str(BIN / "livepool"), str(BIN / "ape")

    # Nothing deployed: verify has nothing to check, and says so.
    empty = run(ape, "run", "verify", "--statements", str(tmp_path), *net, env=env, ok=False)
    assert empty.returncode == 1 and "no distributor is recorded" in empty.stderr
    allowed = run(
        ape, "run", "verify", "--statements", str(tmp_path), "--allow-empty", *net, env=env
    )
    assert "EMPTY: nothing to check" in allowed.stdout

    run(livepool, "config", "--fee-address", FEE, "--genesis", str(GENESIS), env=env)
    receipts = tmp_path / "receipts.jsonl"
    run(livepool, "simulate", "--miners", "3", "--receipts", "300", "--seed", "4", "--start",
        str(GENESIS), "--out", str(receipts), env=env)  # fmt: skip
    run(livepool, "ingest", str(receipts), env=env)
    run(livepool, "epoch", "close", "0", env=env)
    tree = json.loads(run(livepool, "epoch", "tree", "0", env=env).stdout)
    miner = tree["values"][0]["value"][0]
    run(livepool, "payout", miner, "--push", "--threshold", "0", env=env)

    # A precompile is not the pool: `fund --address 0x…01` used to "fund" it.
    precompile = "0x" + "00" * 19 + "01"
    refused = run(ape, "run", "fund", "1", "--address", precompile, "--account", "TEST::0",
                  "--yes", *net, env=env, ok=False)  # fmt: skip
    assert refused.returncode == 1 and f"no contract at {precompile}" in refused.stderr

    run(ape, "run", "deploy", "--account", "TEST::0", "--poster", POSTER, "--guardian", GUARDIAN,
        "--challenge-period", "3", "--yes", *net, env=env)  # fmt: skip
    (record,) = (tmp_path / "data" / "deployments").glob("*.json")
    assert record.name == "31337-ethereum-local.json"
    assert json.loads(record.read_text())["code_hash"].startswith("0x")
    nothing = run(ape, "run", "verify", "--statements", str(tmp_path), *net, env=env, ok=False)
    assert nothing.returncode == 1 and "no root has been proposed" in nothing.stdout

    run(ape, "run", "fund", str(10**18), "--account", "TEST::0", "--yes", *net, env=env)
    run(ape, "run", "propose", "--account", "TEST::1", "--yes", *net, env=env)
    time.sleep(5)
    pushed = run(ape, "run", "push", "--account", "TEST::4", "--yes", *net, env=env)
    said = pushed.stdout + pushed.stderr
    # Before: "0 miners, gas 0" for a transaction that paid them (read before it was mined).
    assert "to 1 miners in 1 batches" in said and "gas 0 wei" not in said

    from livepool.ledger import Ledger

    ledger = Ledger(data_dir=tmp_path / "data")
    actions = [ledger.chain_action(k, "epoch:0") for k in ("propose", "accept")]
    actions += ledger.chain_actions("push")
    assert all(a["state"] == "confirmed" and a["block"] and a["tx_hash"] for a in actions)
    ledger.close()

    # The chain is reset under the record: nothing may be sent to the address now.
    Web3(Web3.HTTPProvider(slow_anvil)).provider.make_request("anvil_reset", [])
    gone = run(ape, "run", "fund", "1", "--account", "TEST::0", "--yes", *net, env=env, ok=False)
    assert (
        gone.returncode == 1 and "no contract at" in gone.stderr and "deploy again" in gone.stderr
    )
