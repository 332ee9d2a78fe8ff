"""The watchtower. Its checks, on ape's local chain; then `ape run watch` as a real process
against anvil: it leaves a good root alone, revokes a tampered one with the guardian key
inside the window, and without a guardian key alerts (exit code, log line, webhook)."""

from __future__ import annotations

import json
import signal
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from web3 import Web3

from livepool import epochs, operations
from livepool.audit import RootEvent
from livepool.chain import Distributor
from livepool.hashing import keccak256
from livepool.merkle import MerkleTree
from livepool.publish import publish, statement_path, tree_path
from livepool.statement import canonical_bytes, load_statement
from livepool.watch import FAILED, OK, FetchError, check_root, fetch_published

from .conftest import ETH, run_epoch
from .procs import BIN, contract, deploy, env_for, events, lines, net, start, wait_for

CHALLENGE = 30
RAISE = ETH  # what the tampered leaf is raised by


def tampered(raw: bytes, raise_by: int = RAISE) -> tuple[bytes, MerkleTree]:
    """The statement with its first miner's cumulative (and the total) raised, its root
    recomputed so that it is self-consistent as a tree; and that tree."""
    data = json.loads(raw)
    data["miners"][0]["cumulative"] = str(int(data["miners"][0]["cumulative"]) + raise_by)
    data["total"] = str(int(data["total"]) + raise_by)
    leaves = [(m["address"], int(m["cumulative"])) for m in data["miners"] if int(m["cumulative"])]
    leaves.append((data["pool"]["address"], int(data["pool"]["cumulative"])))
    tree = MerkleTree.build(leaves)
    data["root"] = tree.root_hex
    return canonical_bytes(load_statement(data)), tree


def event_for(raw: bytes, *, root: bytes | None = None, block: int = 10) -> RootEvent:
    s = load_statement(raw)
    return RootEvent(
        kind="RootProposed",
        epoch=s.epoch,
        root=root if root is not None else bytes.fromhex(s.root[2:]),
        total=s.total,
        data_hash=keccak256(raw),
        block=block,
        tx_hash="0xfeed",
    )


# --- the checks (no chain) ----------------------------------------------------------------------


@pytest.fixture
def published(ledger, miners, tmp_path) -> Path:
    run_epoch(ledger, miners, 0, seed=1)
    run_epoch(ledger, miners, 1, seed=2)
    folder = tmp_path / "published"
    publish(ledger, folder)
    return folder


FUNDED = {10: 100 * ETH}  # funded() at the test events' block


def test_check_root__honest_root__ok(published):
    statements, tree = fetch_published(published, 1)
    result = check_root(event_for(statements[1]), statements, tree, history=[], funded=FUNDED)
    assert result.status == OK, result.problems
    assert result.problems == ()


def test_check_root__root_not_the_published_data__fails(published):
    statements, tree = fetch_published(published, 1)
    event = event_for(statements[1], root=b"\x01" * 32)
    result = check_root(event, statements, tree, history=[], funded=FUNDED)
    assert result.status == FAILED
    assert any("differs from the on-chain root" in p for p in result.problems)


def test_check_root__raised_leaf_in_statement_and_tree__fails(published):
    statements, _ = fetch_published(published, 1)
    raw, tree = tampered(statements[1])
    statements[1] = raw
    result = check_root(
        event_for(raw), statements, tree.dump_json().encode(), history=[], funded=FUNDED
    )
    assert result.status == FAILED
    assert any("cumulative" in p for p in result.problems), result.problems


def test_check_root__tree_dump_leaf_raised__fails(published):
    statements, _ = fetch_published(published, 1)
    s = load_statement(statements[1])
    leaves = [
        (m.address, m.cumulative + (RAISE if i == 0 else 0))
        for i, m in enumerate(s.miners)
        if m.cumulative
    ]
    leaves.append((s.pool.address, s.pool.cumulative))
    dump = MerkleTree.build(leaves).dump_json().encode()
    result = check_root(event_for(statements[1]), statements, dump, history=[], funded=FUNDED)
    assert result.status == FAILED
    assert any(f"tree leaf of {s.miners[0].address.lower()}" in p for p in result.problems)


def test_check_root__insolvent_at_the_proposal_block__fails(published):
    statements, tree = fetch_published(published, 1)
    result = check_root(event_for(statements[1]), statements, tree, history=[], funded={10: 1_000})
    assert result.status == FAILED
    assert any("exceeds the 1000 wei funded" in p for p in result.problems)


def test_fetch_published__missing_epoch__fetch_error(published):
    with pytest.raises(FetchError, match="epoch 7: no statement published"):
        fetch_published(published, 7)
    tree_path(published, 1).unlink()
    with pytest.raises(FetchError, match="epoch 1: no tree dump published"):
        fetch_published(published, 1)


class _Service(BaseHTTPRequestHandler):
    """The service's two read-only routes the watchtower uses, served from a folder."""

    folder: ClassVar[Path]

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        path = None
        if parts[:2] == ["v1", "epochs"] and len(parts) == 3:
            path = statement_path(self.folder, int(parts[2]))
        elif parts[:2] == ["v1", "epochs"] and len(parts) == 4 and parts[3] == "tree":
            path = tree_path(self.folder, int(parts[2]))
        if path is None or not path.exists():
            self.send_response(404)
            self.end_headers()
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_fetch_published__service_url__same_bytes_as_the_folder(published):
    _Service.folder = published
    server = HTTPServer(("127.0.0.1", 0), _Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        statements, tree = fetch_published(url, 1)
        assert statements == {
            0: statement_path(published, 0).read_bytes(),
            1: statement_path(published, 1).read_bytes(),
        }
        assert tree == tree_path(published, 1).read_bytes()
        with pytest.raises(FetchError, match="epoch 5: no statement published"):
            fetch_published(url, 5)
    finally:
        server.shutdown()


def test_watchtower_once__nothing_pending__ok__honest_root__ok(
    ledger, distributor, poster, miners, tmp_path
):
    from livepool.watch import EXIT_OK, Watchtower

    folder = tmp_path / "public"
    run_epoch(ledger, miners, 0)
    publish(ledger, folder)
    tower = Watchtower(distributor, folder)
    assert tower.check_pending() == (EXIT_OK, None)
    operations.propose_latest(ledger, distributor, poster)
    code, result = tower.check_pending()
    assert code == EXIT_OK and result.status == OK and result.epoch == 0
    assert distributor.pending.exists


# --- `ape run watch` against anvil -----------------------------------------------------------


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alert", _Hook.received
    server.shutdown()


def test_watch__good_root_left_alone__tampered_root_revoked__alert_without_guardian(
    anvil, networks, ledger, miners, tmp_path, webhook
):
    hook_url, received = webhook
    data = tmp_path / "data"
    folder = tmp_path / "public"
    address = deploy(networks, anvil, data, challenge_period=CHALLENGE, fund=10 * ETH)
    c = contract(anvil, address)
    w3 = Web3(Web3.HTTPProvider(anvil))
    env = env_for(data)

    def chain(do):
        with networks.ethereum.local.use_provider("foundry", provider_settings={"host": anvil}):
            from ape import accounts

            return do(Distributor.at(address, confirmations=0), accounts.test_accounts)

    # The honest epoch 0 is published and proposed.
    run_epoch(ledger, miners, 0, seed=1)
    publish(ledger, folder)
    chain(lambda d, a: operations.propose_latest(ledger, d, a[1]))

    log = tmp_path / "watch.log"
    argv = [
        str(BIN / "ape"),
        "run",
        "watch",
        "--account",
        "TEST::2",
        "--source",
        str(folder),
        "--interval",
        "1",
        "--log-format",
        "json",
        *net(anvil),
    ]
    proc = start(argv, env, log)
    try:
        wait_for(
            "epoch 0 checked",
            lambda: [e for e in lines(log) if e.get("event") == "root_ok"],
            proc,
            log,
        )
        assert c.functions.pending_root().call()[1] == 0
        assert c.functions.pending_root().call()[0] != b"\x00" * 32, "the good root is left alone"
        w3.provider.make_request("evm_increaseTime", [CHALLENGE + 1])
        w3.provider.make_request("evm_mine", [])
        chain(lambda d, a: operations.accept(ledger, d, a[3]))

        # Epoch 1: the poster publishes and proposes a statement whose leaf was raised.
        run_epoch(ledger, miners, 1, seed=2)
        raw, tree = tampered(epochs.epoch_statement(ledger, 1))
        statement_path(folder, 1).write_bytes(raw)
        tree_path(folder, 1).write_text(tree.dump_json())
        bad = load_statement(raw)

        def propose_bad(d, a):
            return d.propose(
                a[1], root=tree.root, epoch=1, total=bad.total, data_hash=keccak256(raw)
            )

        chain(propose_bad)
        wait_for("the tampered root revoked", lambda: events(c, "RootRevoked"), proc, log)
        assert c.functions.pending_root().call()[0] == b"\x00" * 32
        assert c.functions.epoch().call() == 0, "epoch 0 stays the active root"
        (revoked,) = events(c, "RootRevoked")
        assert revoked.args.epoch == 1 and revoked.args.root == tree.root
        revocations = [e for e in lines(log) if e.get("event") == "root_revoked"]
        assert [e["epoch"] for e in revocations] == [1]
        failed = [e for e in lines(log) if e.get("event") == "root_audit_failed"]
        assert failed and any("cumulative" in p for p in failed[0]["problems"])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert any(e.get("event") == "watch_stopped" for e in lines(log))
    state = json.loads(next((data / "watch").glob("*.json")).read_text())
    assert sorted(v["action"] for v in state["roots"].values()) == ["ok", "revoked"]

    # Proposed again, with nobody holding the guardian key: `livepool watch --once` alerts.
    chain(propose_bad)
    once = [
        str(BIN / "livepool"),
        "watch",
        "--source",
        str(folder),
        "--once",
        "--webhook",
        hook_url,
        "--log-format",
        "json",
        *net(anvil),
    ]
    alert_log = tmp_path / "alert.log"
    proc = start(once, env, alert_log)
    assert proc.wait(timeout=120) == 1, alert_log.read_text()
    assert [e for e in lines(alert_log) if e.get("event") == "root_audit_failed"]
    assert c.functions.pending_root().call()[0] == tree.root, "nothing revoked without a key"
    (alert,) = received
    assert alert["event"] == "livepool.root_audit_failed"
    assert alert["epoch"] == 1 and alert["root"] == "0x" + tree.root.hex()
    assert alert["pending"] is True and alert["valid_at"] > 0 and alert["problems"]

    # Data nobody published: exit 2.
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = [*once[:3], str(empty), *once[4:]]
    proc = start(missing, env, tmp_path / "missing.log")
    assert proc.wait(timeout=120) == 2
