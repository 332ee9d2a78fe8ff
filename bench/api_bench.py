"""HTTP API load benchmark: wrk on loopback against `livepool serve`, as ratios to a trivial
endpoint of the same app measured in the same run.

    python bench/api_bench.py                 # 10 s per endpoint, 16 connections
    python bench/api_bench.py --seconds 5     # quicker

A pool with a 10,000-leaf tree (epoch 0 closed) and a day of open-epoch work is built on
SQLite and on PostgreSQL (``LIVEPOOL_BENCH_POSTGRES_URL``, default the test server, in a
schema of its own, dropped after). For each, `livepool serve` runs as a subprocess and
wrk (Debian package ``wrk``; ``-t2 -c16``) loads, in turn:

- ``/healthz``: the trivial endpoint (a constant dict through a ``response_model``);
- ``/v1/miners/{a}/proof`` with ``a`` drawn at random from the 10,000 leaves per request;
- ``/v1/miners/{a}`` (one miner) and ``/v1/pool``: views recomputed at most every
  ``view_cache_seconds`` (5 s);

on 1 worker, and on PostgreSQL also on 2 workers. Then ``POST /v1/receipts`` in batches of
1,000 (sequential, one client) against the CLI's ingest (``ingest_jsonl``, what
``livepool ingest`` runs) of the same receipts into a fresh ledger. Tables are markdown on
stdout; progress goes to stderr. Errors (non-2xx, socket errors) are counted and shown.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text

from livepool import epochs
from livepool.ingest import ingest_jsonl, ingest_receipts
from livepool.ledger import Ledger
from livepool.ledger import service as servicedb
from livepool.simulate import simulate

POSTGRES = os.environ.get(
    "LIVEPOOL_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FEE = "0x00000000000000000000000000000000000000fe"
DAY = 86_400
#: Epoch 0 is the day before yesterday (closed); the open epochs hold the last day's work.
GENESIS = (int(time.time()) // DAY - 2) * DAY
LEAVES = 10_000
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_pool(url: str) -> tuple[Ledger, list[str], str]:
    """A ledger with epoch 0 closed over ≥ 10,000 miners; returns it, the leaf accounts and
    the address of a busy miner."""
    ledger = Ledger(url)
    epochs.configure(
        ledger,
        fee_address=FEE,
        genesis=GENESIS,
        epoch_seconds=DAY,
        settle_seconds=3_600,
        commission_bps=500,
    )
    # Not every simulated miner works in a day: 12,000 of them give ≥ 10,000 leaves.
    items = list(simulate(12_000, 5 * LEAVES, seed=7, start=GENESIS, days=0.95))
    report = ingest_receipts(ledger, items)
    assert report.rejected == 0, report.summary()
    closed = epochs.close_epoch(ledger, 0, now=GENESIS + DAY + 3_600)
    # A day of open-epoch work finishing now, so the views have statistics to compute.
    start = max(GENESIS + DAY, int(time.time()) - DAY)
    recent = list(simulate(200, 20_000, seed=8, start=start, days=0.99))
    ingest_receipts(ledger, recent)
    tree = epochs.epoch_tree(ledger, 0)
    accounts = [a for a, _ in tree.values if a != FEE]
    busy = next(r["transcoder"] for r in recent if "transcoder" in r)
    log(f"  pool: {len(tree)} leaves (root {closed.root[:10]}…), {len(recent)} recent receipts")
    return ledger, accounts, busy


class Server:
    """`livepool serve` in a subprocess."""

    def __init__(self, url: str, workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "LIVEPOOL_CONTRACT": CONTRACT,
            "LIVEPOOL_CHAIN_ID": "42161",
            "LIVEPOOL_WEB_DIR": "/nonexistent",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "livepool.cli",
                "--database-url",
                url,
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(tempfile.gettempdir()) / f"livepool-serve-{self.port}.log", "wb"),  # noqa: SIM115
        )
        self.log = Path(tempfile.gettempdir()) / f"livepool-serve-{self.port}.log"
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(self.log.read_text())
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not start in 120 s")
            time.sleep(0.2)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log(f"  the server did not stop in 30 s: killing it ({self.log})")
            self.process.kill()
            self.process.wait()


def wrk(url: str, seconds: int, script: Path | None = None) -> dict[str, float]:
    """Run wrk; return requests/s, p99 (ms) and errors."""
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"]
    if script is not None:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses:\s+(\d+)", r"Socket errors:.*?(\d+).*"):
        m = re.search(pattern, out)
        if m:
            errors += sum(int(x) for x in re.findall(r"\d+", m.group(0).split(":", 1)[1]))
    return {"rps": rps, "p99": float(p99.group(1)) * scale, "errors": errors}


def random_script(folder: Path, accounts: list[str], name: str, pattern: str) -> Path:
    """A wrk script requesting ``pattern`` with ``{a}`` a random account per request."""
    path = folder / f"{name}.lua"
    table = ",".join(f'"{a}"' for a in accounts)
    before, after = pattern.split("{a}")
    path.write_text(
        f"local addrs = {{{table}}}\n"
        "request = function()\n"
        f'  return wrk.format("GET", "{before}" .. addrs[math.random(#addrs)] .. "{after}")\n'
        "end\n"
    )
    return path


def load_table(
    name: str, url: str, accounts: list[str], busy: str, seconds: int, workers: int, tmp: Path
) -> list[list[str]]:
    server = Server(url, workers)
    rows = []
    try:
        base = server.base
        for path in (
            "/healthz",
            f"/v1/miners/{busy}",
            "/v1/pool",
            f"/v1/miners/{accounts[0]}/proof",
        ):
            assert httpx.get(base + path, timeout=60).status_code == 200, path  # warm caches
        proofs = random_script(tmp, accounts, "proofs", "/v1/miners/{a}/proof")
        # The same wrk script on the trivial endpoint (the address in an ignored query):
        # wrk's Lua costs CPU on the same two cores, so the proof's baseline pays it too.
        scripted = random_script(tmp, accounts, "trivial", "/healthz?a={a}")
        log(f"  wrk {name}, {workers} worker(s): trivial")
        trivial = wrk(f"{base}/healthz", seconds)
        log(f"  wrk {name}, {workers} worker(s): trivial, scripted")
        trivial_scripted = wrk(f"{base}/", seconds, scripted)
        cases = [
            ("GET /healthz (trivial)", trivial, None, trivial),
            ("GET /healthz?a={a} (trivial, same Lua script)", trivial_scripted, None, trivial),
            (
                "GET /v1/miners/{a}/proof (random a of 10k, vs scripted trivial)",
                None,
                (f"{base}/", proofs),
                trivial_scripted,
            ),
            ("GET /v1/miners/{a}", None, (f"{base}/v1/miners/{busy}", None), trivial),
            ("GET /v1/pool", None, (f"{base}/v1/pool", None), trivial),
        ]
        for label, result, target, baseline in cases:
            if result is None and target is not None:
                log(f"  wrk {name}, {workers} worker(s): {label}")
                result = wrk(target[0], seconds, target[1])
            assert result is not None
            rows.append(
                [
                    f"{name}, {workers}w",
                    label,
                    f"{result['rps']:,.0f}",
                    f"{result['rps'] / baseline['rps']:.2f}×",
                    f"{result['p99']:.1f}",
                    f"{result['p99'] / baseline['p99']:.2f}×",
                    str(int(result["errors"])),
                ]
            )
    finally:
        server.close()
    return rows


def ingest_rates(url_factory, tmp: Path) -> list[list[str]]:
    """POST /v1/receipts in batches of 1,000 against the CLI's ingest of the same receipts."""
    items = list(simulate(300, 20_000, seed=11, start=GENESIS + DAY, days=0.9))
    receipts = [i for i in items if "verdict" not in i]
    path = tmp / "receipts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in receipts))
    rows = []
    for name, make in url_factory:
        cli_url = make()
        ledger = Ledger(cli_url)
        epochs.configure(ledger, fee_address=FEE, genesis=GENESIS, epoch_seconds=DAY)
        started = time.perf_counter()
        report = ingest_jsonl(ledger, path)
        cli_rate = report.accepted / (time.perf_counter() - started)
        ledger.close()

        api_url = make()
        ledger = Ledger(api_url)
        epochs.configure(ledger, fee_address=FEE, genesis=GENESIS, epoch_seconds=DAY)
        orchestrator = receipts[0]["orchestrator"]
        token, _ = servicedb.create_token(ledger, orchestrator, "bench")
        ledger.close()
        server = Server(api_url, 1)
        try:
            headers = {"Authorization": f"Bearer {token}"}
            bodies = [
                json.dumps({"receipts": receipts[i : i + 1000]}).encode()
                for i in range(0, len(receipts), 1000)
            ]
            rates = []
            accepted = 0
            for clients in (1, 2):
                # Each round posts the batches again under new ids (nothing is a duplicate).
                tagged = [
                    body.replace(b'"id": "', f'"id": "c{clients}-'.encode()) for body in bodies
                ]
                done = [0]

                def post(
                    part: list[bytes],
                    done: list[int] = done,
                    base: str = server.base,
                    headers: dict[str, str] = headers,
                ) -> None:
                    with httpx.Client(base_url=base, timeout=120) as http:
                        for body in part:
                            response = http.post(
                                "/v1/receipts",
                                content=body,
                                headers={**headers, "Content-Type": "application/json"},
                            )
                            response.raise_for_status()
                            done[0] += response.json()["accepted"]

                threads = [
                    threading.Thread(target=post, args=(tagged[i::clients],))
                    for i in range(clients)
                ]
                started = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                rates.append(done[0] / (time.perf_counter() - started))
                accepted = done[0]
        finally:
            server.close()
        # (The simulator repeats some receipts, as orchestrators retry: both see duplicates.)
        assert accepted == report.accepted, (accepted, report.summary())
        rows.append(
            [
                name,
                f"{cli_rate:,.0f}",
                f"{rates[0]:,.0f}",
                f"{rates[0] / cli_rate:.2f}×",
                f"{rates[1]:,.0f}",
                f"{rates[1] / cli_rate:.2f}×",
            ]
        )
    return rows


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per endpoint")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    random.seed(1)
    tmp = Path(tempfile.mkdtemp(prefix="livepool-api-bench-"))
    admin = None
    schemas: list[str] = []

    def pg_url() -> str:
        schema = f"bench_{secrets.token_hex(4)}"
        with admin.connect() as conn:  # type: ignore[union-attr]
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        schemas.append(schema)
        return f"{POSTGRES}?options={quote(f'-csearch_path={schema}')}"

    sqlite_count = [0]

    def sqlite_url() -> str:
        sqlite_count[0] += 1
        return f"sqlite:///{tmp / f'livepool-{sqlite_count[0]}.db'}"

    try:
        load: list[list[str]] = []
        log("building the SQLite pool")
        url = sqlite_url()
        ledger, accounts, busy = build_pool(url)
        ledger.close()
        load += load_table("SQLite", url, accounts, busy, args.seconds, 1, tmp)
        factories = [("SQLite", sqlite_url)]
        if not args.no_postgres:
            admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
            log("building the PostgreSQL pool")
            url = pg_url()
            ledger, accounts, busy = build_pool(url)
            ledger.close()
            for workers in (1, 2):
                load += load_table("PostgreSQL", url, accounts, busy, args.seconds, workers, tmp)
            factories.append(("PostgreSQL", pg_url))
        log("ingest: CLI against POST /v1/receipts")
        ingest = ingest_rates(factories, tmp)
        print(
            f"wrk -t2 -c16 -d{args.seconds}s on loopback; ratios against GET /healthz "
            "(trivial) in the same server run\n"
        )
        print(
            table(
                [
                    "database, workers",
                    "endpoint",
                    "req/s",
                    "× trivial",
                    "p99 ms",
                    "p99 × trivial",
                    "errors",
                ],
                load,
            )
        )
        workers = {r[0]: r for r in load if r[1] == "GET /healthz (trivial)"}
        if "PostgreSQL, 1w" in workers and "PostgreSQL, 2w" in workers:
            one = float(workers["PostgreSQL, 1w"][2].replace(",", ""))
            two = float(workers["PostgreSQL, 2w"][2].replace(",", ""))
            print(f"\n2 workers / 1 worker on PostgreSQL (trivial endpoint): {two / one:.2f}×")
            prf = {r[0]: r for r in load if "proof" in r[1]}
            one = float(prf["PostgreSQL, 1w"][2].replace(",", ""))
            two = float(prf["PostgreSQL, 2w"][2].replace(",", ""))
            print(f"2 workers / 1 worker on PostgreSQL (proof endpoint): {two / one:.2f}×")
        print("\nPOST /v1/receipts, batches of 1,000, one client, against the CLI's ingest\n")
        print(
            table(
                [
                    "database",
                    "CLI receipts/s",
                    "API, 1 client",
                    "API / CLI",
                    "API, 2 clients",
                    "API / CLI",
                ],
                ingest,
            )
        )
    finally:
        if admin is not None:
            with admin.connect() as conn:
                for schema in schemas:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
