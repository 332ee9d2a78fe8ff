"""Publishing statements and tree dumps, and reading them back from a folder or a
service URL (served here by a loopback HTTP server)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from livepool import epochs
from livepool.errors import LivepoolError
from livepool.ingest import ingest_receipts
from livepool.merkle import MerkleTree
from livepool.publish import load_published, publish, statement_path, tree_path


def close_two(ledger, make_receipt, pool) -> None:
    day = pool.DAY
    ingest_receipts(
        ledger,
        [make_receipt(n) for n in range(10)]
        + [make_receipt(100 + n, finished_at=pool.GENESIS + day + n) for n in range(10)],
    )
    for number in (0, 1):
        epochs.close_epoch(ledger, number, now=pool.GENESIS + (number + 2) * day)


def test_publish__writes_statements_and_trees_once(ledger, make_receipt, pool, tmp_path):
    close_two(ledger, make_receipt, pool)
    folder = tmp_path / "public"
    written = publish(ledger, folder)
    assert sorted(p.name for p in written) == [
        "epoch-0.json",
        "epoch-0.tree.json",
        "epoch-1.json",
        "epoch-1.tree.json",
    ]
    for number in (0, 1):
        assert statement_path(folder, number).read_bytes() == epochs.epoch_statement(ledger, number)
        tree = MerkleTree.load(tree_path(folder, number).read_text())
        assert tree.root == epochs.epoch_tree(ledger, number).root
    assert publish(ledger, folder) == []
    assert load_published(folder) == {n: statement_path(folder, n).read_bytes() for n in (0, 1)}


def test_publish__different_file_already_there__refused(ledger, make_receipt, pool, tmp_path):
    close_two(ledger, make_receipt, pool)
    folder = tmp_path / "public"
    folder.mkdir()
    statement_path(folder, 1).write_bytes(b'{"tampered":true}')
    with pytest.raises(LivepoolError, match=r"epoch-1\.json is already published with other"):
        publish(ledger, folder)
    assert statement_path(folder, 1).read_bytes() == b'{"tampered":true}'


def test_load_published__not_a_folder__clear_error(tmp_path):
    with pytest.raises(LivepoolError, match="not a folder of published statements"):
        load_published(tmp_path / "missing")


@pytest.fixture
def service(tmp_path) -> Iterator[tuple[str, Path, list[str]]]:
    """A loopback server answering GET /v1/epochs/{n} from a folder, like the service."""
    folder = tmp_path / "served"
    folder.mkdir()
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            if self.path == "/v1/epochs/7":
                self.send_error(500, "boom")
                return
            number = self.path.removeprefix("/v1/epochs/")
            path = folder / f"epoch-{number}.json"
            if not number.isdigit() or not path.exists():
                self.send_error(404)
                return
            body = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder, requests
    server.shutdown()
    server.server_close()


def test_load_published__from_service__wanted_epochs_and_predecessors(
    ledger, make_receipt, pool, service
):
    url, folder, requests = service
    close_two(ledger, make_receipt, pool)
    publish(ledger, folder)
    got = load_published(url + "/", wanted=[1])
    assert got == {
        0: statement_path(folder, 0).read_bytes(),
        1: statement_path(folder, 1).read_bytes(),
    }
    assert requests == ["/v1/epochs/0", "/v1/epochs/1"]
    assert load_published(url, wanted=[5]) == {}, "404: not published, the audit says so"


def test_load_published__service_error__clear_error(service):
    url, _, _ = service
    with pytest.raises(LivepoolError, match=r"GET .*/v1/epochs/7: HTTP 500"):
        load_published(url, wanted=[7])
