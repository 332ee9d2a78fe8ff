"""The README's operator section, run as written: the `livepool` CLI and the ape scripts
as separate processes against one anvil node (the in-process chain would not outlive a
command). Roles are ape's test accounts (`TEST::n`), which anvil funds from the same
mnemonic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
