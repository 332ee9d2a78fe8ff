"""Epoch close benchmark: the close before issue 10 (commit 66b8d14) against this
checkout's, on the same rows, on SQLite and PostgreSQL.

    python bench/close_bench.py            # 10^6 receipts × 10,000 miners, old and new
    python bench/close_bench.py --big      # and 10^7 × 10,000 (this checkout only)
    python bench/close_bench.py --quick    # 10^5 × 1,000, old and new
    python bench/close_bench.py --sizes 2000x50 --db sqlite --repeat 1   # a smoke run

"Old" is a detached git worktree of ``--old-commit`` at ``--old-dir`` (made when absent,
reused when it is there at that commit; never committed), run with ``PYTHONPATH`` on its
``offchain``; "new" is this checkout's ``offchain``. For each (database, size) each code
version builds its own ledger in a child process (the schemas differ), by the fast route
of ``bulkledger.py`` (rows made in Python, written by the code's own
``queries.store_receipts`` in 50k chunks; no JSON, no parsing). Then each close runs in a
fresh child process that opens the ledger and times only
``livepool.epochs.close_epoch(ledger, 0, now=...)``; its peak RSS is that process's own
``ru_maxrss`` (imports and the open ledger included: the "RSS before" column says how
much of it was there before the close began). On PostgreSQL the server's memory is not
counted. Old and new closes alternate (old, new, then new, old, ...), each on a fresh
copy of its built ledger when ``--repeat`` > 1; the table gives the median time, the
largest peak, and new/old ratios of those. Every close of a case must give the same
Merkle root: a difference stops the run (exit status 1).

Markdown tables go to stdout, progress to stderr. SQLite files live under
``/tmp/livepool-bench`` (``--tmp``) and are deleted after each case; PostgreSQL
(``LIVEPOOL_BENCH_POSTGRES_URL``, default the test server) gets databases
``livepool_bench_*``, dropped after each case; it is skipped with a note when unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get(
    "LIVEPOOL_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
OLD_COMMIT = "66b8d14"
TMP = Path("/tmp/livepool-bench")
START, EPOCH = 1_764_028_800, 86_400  # bulkledger's genesis and epoch length
#: Bytes on disk per receipt row, roughly (SQLite, schema 1–3: ~700).
ROW_BYTES = 800


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- the child processes ----------------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0  # pragma: no cover - not Linux


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run in a fresh process with PYTHONPATH on one code version's ``offchain``."""
    import livepool

    where = Path(livepool.__file__).resolve()
    if Path(spec["offchain"]).resolve() not in where.parents:
        raise SystemExit(f"imported {where}, not the code under {spec['offchain']}")
    from livepool import epochs
    from livepool.ledger import Ledger

    ledger = Ledger(spec["url"])
    try:
        if spec["op"] == "build":
            import bulkledger

            bulkledger.configure(ledger)
            return bulkledger.build(ledger, spec["receipts"], spec["miners"])
        before = _rss_mb()
        started = time.perf_counter()
        closed = epochs.close_epoch(ledger, 0, now=spec["now"])
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        return {
            "seconds": seconds,
            "peak_mb": peak,
            "rss_before_mb": before,
            "root": closed.root,
            "data_hash": closed.data_hash,
            "total": closed.total,
            "miners": closed.miners,
        }
    finally:
        ledger.close()


def run_child(spec: dict[str, Any], offchain: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(offchain)}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps({**spec, "offchain": str(offchain)})],
        stdout=subprocess.PIPE,
        env=env,
        cwd=REPO,
        check=False,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"child {spec['op']} failed (exit {proc.returncode}): {proc.stdout}")
    answer: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return answer


# --- the old code ------------------------------------------------------------------------


def old_checkout(commit: str, directory: Path) -> Path:
    """A detached worktree of ``commit`` at ``directory`` (reused when it is there at that
    commit); returns its ``offchain``."""
    import fcntl

    def git(*args: str, cwd: Path = REPO) -> str:
        return subprocess.run(
            ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
        ).stdout.strip()

    wanted = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / ".old.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two runs (or tests) at once make it once
        if directory.exists():
            try:
                if git("rev-parse", "HEAD", cwd=directory) == wanted:
                    return directory / "offchain"
            except subprocess.CalledProcessError:
                pass
            log(f"{directory}: not a worktree of {commit}; making it again")
            subprocess.run(["git", "worktree", "remove", "--force", str(directory)], cwd=REPO)
            shutil.rmtree(directory, ignore_errors=True)
        git("worktree", "prune")
        log(f"git worktree add --detach {directory} {commit}")
        git("worktree", "add", "--detach", str(directory), wanted)
    return directory / "offchain"


# --- databases ----------------------------------------------------------------------------


class Store:
    """Where the ledgers of one database kind live: made, copied, dropped."""

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind = kind
        self.directory = directory
        self.made: list[str] = []
        self.admin: Any = None
        if kind == "postgres":
            from sqlalchemy import create_engine

            self.admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.exec_driver_sql("SELECT 1")

    def _sql(self, statement: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(statement)

    def new(self, label: str) -> str:
        name = f"livepool_bench_{os.getpid()}_{secrets.token_hex(3)}_{label}"
        self.made.append(name)
        if self.kind == "postgres":
            self._sql(f"CREATE DATABASE {name}")
        return name

    def copy(self, name: str, label: str) -> str:
        target = self.new(label)
        if self.kind == "postgres":
            self._sql(f"DROP DATABASE {target}")
            self._sql(f"CREATE DATABASE {target} TEMPLATE {name} STRATEGY FILE_COPY")
        else:
            shutil.copyfile(self.directory / f"{name}.db", self.directory / f"{target}.db")
        return target

    def url(self, name: str) -> str:
        if self.kind == "postgres":
            from sqlalchemy.engine import make_url

            return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
        return f"sqlite:///{self.directory / f'{name}.db'}"

    def drop(self, name: str) -> None:
        if self.kind == "postgres":
            self._sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        else:
            for suffix in ("", "-wal", "-shm", "-journal"):
                (self.directory / f"{name}.db{suffix}").unlink(missing_ok=True)
        if name in self.made:
            self.made.remove(name)

    def close(self) -> None:
        for name in list(self.made):
            self.drop(name)
        if self.admin is not None:
            self.admin.dispose()


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


# --- one case --------------------------------------------------------------------------


def run_case(
    store: Store,
    receipts: int,
    miners: int,
    versions: dict[str, Path],
    repeat: int,
) -> dict[str, Any]:
    """Build one ledger per version, close each ``repeat`` times (interleaved): results."""
    now = START + 2 * EPOCH  # epoch 0 is due (its end + the settle hour has passed)
    built: dict[str, str] = {}
    builds: dict[str, dict[str, Any]] = {}
    closes: dict[str, list[dict[str, Any]]] = {v: [] for v in versions}
    try:
        for version, offchain in versions.items():
            name = store.new(version)
            log(f"  {store.kind} {receipts:,} × {miners:,}: building the {version} ledger…")
            spec = {"op": "build", "url": store.url(name), "receipts": receipts, "miners": miners}
            builds[version] = run_child(spec, offchain)
            built[version] = name
            b = builds[version]
            log(
                f"    built in {b['build_s']:.1f} s ({b['rows_per_s']:,.0f} rows/s"
                + (f", then VACUUM ANALYZE {b['vacuum_s']:.1f} s" if b.get("vacuum_s") else "")
                + ")"
            )
        order = list(versions)
        for round_ in range(repeat):
            for version in order if round_ % 2 == 0 else order[::-1]:
                target = built[version] if repeat == 1 else store.copy(built[version], "run")
                try:
                    log(f"  {store.kind} {receipts:,}: close with the {version} code…")
                    spec = {"op": "close", "url": store.url(target), "now": now}
                    result = run_child(spec, versions[version])
                finally:
                    if target != built[version]:
                        store.drop(target)
                log(
                    f"    {result['seconds']:.2f} s, peak RSS {result['peak_mb']:,.0f} MB, "
                    f"root {result['root']}"
                )
                closes[version].append(result)
    finally:
        for name in built.values():
            store.drop(name)
    roots = {c["root"] for runs in closes.values() for c in runs}
    if len(roots) != 1:
        detail = {v: [c["root"] for c in runs] for v, runs in closes.items()}
        raise SystemExit(f"ROOTS DIFFER ({store.kind}, {receipts:,} receipts): {detail}")
    hashes = {c["data_hash"] for runs in closes.values() for c in runs}
    return {"builds": builds, "closes": closes, "root": roots.pop(), "same_data": len(hashes) == 1}


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        receipts, miners = part.lower().split("x")
        sizes.append((int(float(receipts)), int(float(miners))))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^5 receipts × 1,000 miners")
    parser.add_argument("--big", action="store_true", help="add 10^7 × 10,000 (new code only)")
    parser.add_argument("--sizes", help="RECEIPTSxMINERS, comma-separated (e.g. 1e6x10000)")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument(
        "--repeat", type=int, default=None, help="closes per version (default 3; 1 above 10^6)"
    )
    parser.add_argument(
        "--old-max",
        type=int,
        default=2_000_000,
        help="run the old code only up to this many receipts (default 2·10^6)",
    )
    parser.add_argument("--old-commit", default=OLD_COMMIT, help="the old code's commit")
    parser.add_argument("--old-dir", type=Path, default=TMP / "old", help="its worktree")
    parser.add_argument("--tmp", type=Path, default=TMP, help="where SQLite files go")
    args = parser.parse_args()
    if args.sizes:
        sizes = parse_sizes(args.sizes)
    elif args.quick:
        sizes = [(100_000, 1_000)]
    else:
        sizes = [(1_000_000, 10_000)] + ([(10_000_000, 10_000)] if args.big else [])
    kinds = [k for k in args.db.split(",") if k]
    new = REPO / "offchain"
    old = None
    if any(receipts <= args.old_max for receipts, _ in sizes):
        old = old_checkout(args.old_commit, args.old_dir)
    directory = args.tmp / f"run-{os.getpid()}"
    directory.mkdir(parents=True, exist_ok=True)
    results: list[tuple[str, int, int, dict[str, Any] | str]] = []
    try:
        for kind in kinds:
            try:
                store = Store(kind, directory)
            except Exception as exc:
                log(f"PostgreSQL unreachable, skipped: {str(exc).splitlines()[0]}")
                results += [(kind, r, m, "skipped (unreachable)") for r, m in sizes]
                continue
            try:
                for receipts, miners in sizes:
                    versions = {"new": new}
                    if old is not None and receipts <= args.old_max:
                        versions = {"old": old, "new": new}
                    repeat = args.repeat or (3 if receipts <= 1_000_000 else 1)
                    copies = 1 if repeat > 1 else 0
                    need = receipts * ROW_BYTES * len(versions) * (1 + copies)
                    if kind == "sqlite" and free_bytes(directory) < need:
                        note = f"skipped: needs ~{need / 1e9:.0f} GB free in {directory}"
                        log(note)
                        results.append((kind, receipts, miners, note))
                        continue
                    case = run_case(store, receipts, miners, versions, repeat)
                    log(f"  roots agree: {case['root']}")
                    results.append((kind, receipts, miners, case))
            finally:
                store.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print_tables(results)


def print_tables(results: list[tuple[str, int, int, dict[str, Any] | str]]) -> None:
    print("\n### Epoch close (one epoch; 1 % more receipts in the next, 300 verdicts)\n")
    print(
        "| database | receipts | miners | code | build rows/s | closes | close s (median) "
        "| peak RSS MB | RSS before MB | new/old time | new/old peak RSS |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    roots = []
    for kind, receipts, miners, case in results:
        if isinstance(case, str):
            print(f"| {kind} | {receipts:,} | {miners:,} | | {case} | | | | | | |")
            continue
        summary: dict[str, tuple[float, float]] = {}
        for version, runs in case["closes"].items():
            median = statistics.median(c["seconds"] for c in runs)
            peak = max(c["peak_mb"] for c in runs)
            before = max(c["rss_before_mb"] for c in runs)
            summary[version] = (median, peak)
            ratio = ratio_rss = ""
            if version == "new" and "old" in summary:
                ratio = f"{median / summary['old'][0]:.2f}"
                ratio_rss = f"{peak / summary['old'][1]:.2f}"
            rate = case["builds"][version]["rows_per_s"]
            times = ", ".join(f"{c['seconds']:.2f}" for c in runs)
            print(
                f"| {kind} | {receipts:,} | {miners:,} | {version} | {rate:,.0f} | {times} "
                f"| {median:.2f} | {peak:,.0f} | {before:,.0f} | {ratio} | {ratio_rss} |"
            )
        same = "" if case["same_data"] else " (statement data hashes DIFFER)"
        closes = sum(len(runs) for runs in case["closes"].values())
        versions = " and ".join(case["closes"])
        roots.append(
            f"- {kind}, {receipts:,} receipts: root {case['root']} "
            f"({closes} closes, {versions} code){same}"
        )
    if roots:
        print("\nRoots (every close of a case gave the same; old and new where both ran):\n")
        print("\n".join(roots))
    sys.stdout.flush()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(json.loads(sys.argv[2]))), flush=True)
    else:
        main()
