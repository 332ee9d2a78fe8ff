"""Open Pool importer: the fixture batch, a folder, and the HTTP poller on loopback."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from livepool.errors import LivepoolError, ValidationError
from livepool.ledger import receipts
from livepool.openpool import FILLED_IN, import_events, import_path, parse_dt, poll

FIXTURE = str(Path(__file__).resolve().parents[1] / "fixtures" / "openpool-events.sample.json")


def fixture_events():
    with open(FIXTURE) as f:
        return json.load(f)


def test_parse_dt__rfc3339_forms():
    assert parse_dt("2025-11-25T00:00:00Z") == 1_764_028_800
    assert parse_dt("2025-11-25T00:00:02.123456789Z") == 1_764_028_802
    assert parse_dt("2025-11-25T01:00:00+01:00") == 1_764_028_800
    with pytest.raises(ValidationError, match="DT: not an RFC 3339"):
        parse_dt("yesterday")


def test_import_fixture__jobs_become_receipts_with_filled_in_fields(ledger, pool):
    report = import_path(ledger, FIXTURE)
    jobs = [e for e in fixture_events() if e["EventType"] == "job-processed"]
    assert report.ok
    assert report.ingest.accepted == len(jobs)
    assert report.rig_events == 1
    first = jobs[0]
    row = ledger.receipt(first["ID"])
    assert row["transcoder"] == first["Payload"]["ethAddress"]
    assert row["pixels_encoded"] == first["Payload"]["computeUnits"]
    assert row["price_per_unit"] == first["Payload"]["pricePerComputeUnit"]
    assert row["pixels_per_unit"] == 1
    assert row["latency_ms"] == first["Payload"]["responseTime"]
    assert row["duration_ms"] == first["Payload"]["duration"]
    assert row["finished_at"] == parse_dt(first["DT"])
    assert row["region"] == first["Region"]
    assert row["orchestrator"] == pool.ORCHESTRATOR
    for name, value in FILLED_IN.items():
        assert row[name] == value
    [rig] = ledger.node_rows()
    assert (rig["node"], rig["status"]) == ("203.0.113.7", "online")


def test_import_twice__duplicates_only(ledger):
    import_path(ledger, FIXTURE)
    again = import_path(ledger, FIXTURE)
    assert again.ingest.accepted == 0
    assert again.ingest.duplicate == again.ingest.total


def test_import_folder__recursive_bucket_layout(ledger, tmp_path):
    folder = tmp_path / "fra" / "transcode"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURE, folder / "fra-transcode-1_2.json")
    (folder / "fra-transcode-2_3.json").write_text("[]")
    assert import_path(ledger, tmp_path).ingest.accepted == 12


def test_bad_events__rejected_or_ignored_with_reasons(ledger):
    events = fixture_events()[:2]
    del events[0]["Payload"]["computeUnits"]
    events[1]["DT"] = "not a time"
    events.append({"EventType": "worker-connected", "Payload": {"ethAddress": "0x1"}})
    events.append(42)
    report = import_events(ledger, events)
    reasons = [p.reason for p in report.ingest.problems]
    assert reasons[0] == "Payload.computeUnits: field required"
    assert reasons[1].startswith("DT: not an RFC 3339")
    assert reasons[2].startswith("event: not a JSON object")
    assert report.ignored and "Payload.ethAddress" in next(iter(report.ignored))
    assert ledger.count(receipts) == 0


def test_no_orchestrator_configured__clear_error(database_url):
    from livepool.ledger import Ledger

    with pytest.raises(ValidationError, match="orchestrator"):
        import_path(Ledger(database_url), FIXTURE)


# --- the poller against a loopback server ----------------------------------------------------


class _Server:
    def __init__(self, fail_first: int = 0, status: int = 503):
        self.asked: list[str] = []
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlparse(self.path)
                outer.asked.append(self.path)
                if outer.fail_first > 0:
                    outer.fail_first -= 1
                    self.send_response(status)
                    self.end_headers()
                    return
                if url.path != "/pool/events":
                    self.send_response(404)
                    self.end_headers()
                    return
                since = parse_qs(url.query)["lastCheckTime"][0]
                body = [e for e in fixture_events() if parse_dt(e["DT"]) >= parse_dt(since)]
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_poll__imports_and_remembers_the_last_check_time(ledger):
    with _Server() as server:
        first = poll(ledger, server.url, now=lambda: 1_764_100_000)
        assert first.ingest.accepted == 12
        assert "lastCheckTime=1970-01-01T00%3A00%3A00Z" in server.asked[0]
        second = poll(ledger, server.url + "/", now=lambda: 1_764_200_000)
        assert second.ingest.total == 0
        # Asked from a minute before the previous poll.
        assert "lastCheckTime=2025-11-25T19%3A45%3A40Z" in server.asked[1]


def test_poll__transient_failures__retried_with_backoff(ledger):
    slept = []
    with _Server(fail_first=2) as server:
        report = poll(ledger, server.url, sleep=slept.append, backoff=0.25)
    assert report.ingest.accepted == 12
    assert slept == [0.25, 0.5]


def test_poll__still_failing__clear_error_cursor_unmoved(ledger):
    with _Server(fail_first=10) as server, pytest.raises(LivepoolError, match="HTTP 503"):
        poll(ledger, server.url, retries=2, sleep=lambda s: None)
    assert ledger.cursor(f"poll:{server.url}") is None


def test_poll__client_error__not_retried(ledger):
    with _Server(fail_first=5, status=404) as server, pytest.raises(LivepoolError, match="404"):
        poll(ledger, server.url, sleep=lambda s: pytest.fail("retried a 404"))
    assert len(server.asked) == 1


def test_poll__unreachable__clear_error(ledger):
    with pytest.raises(LivepoolError, match="unreachable after 2 tries"):
        poll(ledger, "http://127.0.0.1:9", retries=1, timeout=1, sleep=lambda s: None)
