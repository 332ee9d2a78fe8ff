"""The counters kept at ingest (``rig_hours``, ``rigs``, ``miner_value``, the latest
price) always equal a recomputation from the receipts table — after ingest in random
chunks with duplicates, conflicts, failed, implausible and node-less receipts, and after
migration 4's backfill of a schema-3 ledger. On SQLite and PostgreSQL.

The oracle below scans ``receipts`` row by row and shares nothing with
:mod:`livepool.ledger.counters` but the meaning of the columns (``quality.bucket_of``
and the bucket edges)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select, text

from livepool import epochs
from livepool import ingest as ingest_module
from livepool.ingest import ingest_receipts
from livepool.ledger import Ledger, counters
from livepool.ledger import service as servicedb
from livepool.ledger.schema import (
    MS_BUCKETS,
    RATIO_BUCKETS,
    meta,
    miner_value,
    receipts,
    rig_hours,
    rigs,
    schema_version,
)
from livepool.quality import LATENCY_MS_EDGES, LATENCY_RATIO_EDGES, bucket_of

from .conftest import DAY, FEE, GENESIS, MINERS, ORCHESTRATOR, POSTGRES_URL

HOUR = 3_600
_SUMS = (
    "segments",
    "failed",
    "flagged",
    "pixels",
    "duration_ms",
    "latency_ms",
    "ok_duration_ms",
    "ok_latency_ms",
    *RATIO_BUCKETS,
    *MS_BUCKETS,
)

# --- the oracle: a plain scan of receipts --------------------------------------------------


def oracle(conn: Any) -> dict[str, Any]:
    hours: dict[tuple[str, str, int], dict[str, int]] = {}
    rig: dict[tuple[str, str], dict[str, Any]] = {}
    values: dict[tuple[int, str, int], list[int]] = {}
    latest: tuple[int, int, int, int] | None = None
    for r in conn.execute(select(receipts)).mappings():
        node = r["node"] if r["node"] is not None else r["transcoder"]
        hour = r["finished_at"] // HOUR * HOUR
        h = hours.setdefault((r["transcoder"], node, hour), dict.fromkeys(_SUMS, 0))
        bad = r["status"] != "ok" or r["flagged"] is not None
        h["segments"] += 1
        h["failed"] += bad
        h["flagged"] += r["flagged"] is not None
        h["duration_ms"] += r["duration_ms"]
        h["latency_ms"] += r["latency_ms"]
        if not bad:
            h["pixels"] += r["pixels_encoded"]
            h["ok_duration_ms"] += r["duration_ms"]
            h["ok_latency_ms"] += r["latency_ms"]
        ratio = bucket_of(r["latency_ms"] / r["duration_ms"], LATENCY_RATIO_EDGES)
        h[RATIO_BUCKETS[ratio]] += 1
        h[MS_BUCKETS[bucket_of(r["latency_ms"], LATENCY_MS_EDGES)]] += 1

        g = rig.setdefault(
            (r["transcoder"], node),
            {
                "first_seen": None,
                "last_seen": None,
                "first_received": None,
                "segments": 0,
                "named": [],
            },
        )
        g["first_seen"] = min(x for x in (g["first_seen"], r["finished_at"]) if x is not None)
        g["last_seen"] = max(x for x in (g["last_seen"], r["finished_at"]) if x is not None)
        g["first_received"] = min(
            x for x in (g["first_received"], r["received_at"]) if x is not None
        )
        g["segments"] += 1
        if r["region"] is not None:
            g["named"].append((r["finished_at"], r["region"]))

        if not bad:
            v = values.setdefault(
                (r["credited_epoch"], r["transcoder"], r["pixels_per_unit"]), [0, 0, 0]
            )
            v[0] += r["pixels_encoded"] * r["price_per_unit"]
            v[1] += r["pixels_decoded"] * r["price_per_unit"]
            v[2] += 1
        key = (r["received_at"], r["finished_at"], r["pixels_per_unit"], r["price_per_unit"])
        latest = key if latest is None or key > latest else latest
    rigs_out = {}
    for key, g in rig.items():
        named = max(g.pop("named"), default=(None, None))  # latest; on a tie the greater region
        rigs_out[key] = {**g, "region_at": named[0], "region": named[1]}
    return {
        "rig_hours": {k: tuple(v[c] for c in _SUMS) for k, v in hours.items()},
        "rigs": rigs_out,
        "miner_value": {k: tuple(v) for k, v in values.items()},
        "latest_price": None if latest is None else (latest[3], latest[2]),
    }


def stored(conn: Any) -> dict[str, Any]:
    out_hours = {
        (row.transcoder, row.node, row.hour): tuple(getattr(row, c) for c in _SUMS)
        for row in conn.execute(select(rig_hours))
    }
    out_rigs = {
        (row.transcoder, row.node): {
            c: getattr(row, c)
            for c in (
                "first_seen",
                "last_seen",
                "first_received",
                "segments",
                "region",
                "region_at",
            )
        }
        for row in conn.execute(select(rigs))
    }
    values = {
        (row.credited_epoch, row.transcoder, row.pixels_per_unit): (
            row.encoded_value,
            row.decoded_value,
            row.segments,
        )
        for row in conn.execute(select(miner_value))
    }
    return {
        "rig_hours": out_hours,
        "rigs": out_rigs,
        "miner_value": values,
        "latest_price": counters.latest_price(conn),
    }


def assert_counters_match(ledger: Ledger) -> dict[str, Any]:
    with ledger.read() as conn:
        expected, got = oracle(conn), stored(conn)
    for name in expected:
        assert got[name] == expected[name], name
    assert servicedb.latest_price(ledger) == expected["latest_price"]
    return got


# --- random receipts --------------------------------------------------------------------------

_EDGE_TIMES = [GENESIS + k * HOUR + d for k in (1, 2, 24, 25) for d in (-1, 0, 1)]


@st.composite
def receipt(draw: Any, n: int) -> dict[str, Any]:
    transcoder = draw(st.sampled_from(MINERS[:3]))
    duration = draw(st.sampled_from([1, 1_000, 2_000, 3_333]) | st.integers(1, 10_000))
    latency = draw(
        st.sampled_from([0, 100, 1_000, 10_000, 10_001])
        | st.integers(0, 30_000)
        | st.sampled_from([int(duration * e) for e in LATENCY_RATIO_EDGES])
    )
    item: dict[str, Any] = {
        "id": f"c-{n}",
        "orchestrator": ORCHESTRATOR,
        "transcoder": transcoder,
        "stream": "s",
        "seq": n,
        "finished_at": draw(st.sampled_from(_EDGE_TIMES) | st.integers(GENESIS, GENESIS + 2 * DAY)),
        "duration_ms": duration,
        "latency_ms": latency,
        "pixels_decoded": draw(st.integers(0, 10**13)),
        "pixels_encoded": draw(st.integers(0, 10**13)),
        "price_per_unit": draw(st.integers(0, 2**128 - 1) | st.integers(0, 2_000)),
        "pixels_per_unit": draw(st.sampled_from([1, 3, 1_000, 2**100])),
        "status": draw(st.sampled_from(["ok", "ok", "failed"])),
    }
    node = draw(st.sampled_from([None, "rig-a", "rig-b", transcoder]))
    if node is not None:
        item["node"] = node
    region = draw(st.sampled_from([None, "eu", "us"]))
    if region is not None:
        item["region"] = region
    kind = draw(st.sampled_from(["none", "plausible", "implausible"]))
    if kind != "none":
        pixels = 1 if kind == "plausible" else 10**12
        item["pixels_encoded"] = pixels
        item["renditions"] = [
            {"profile": "p", "width": 16, "height": 16, "fps": 1, "pixels": pixels}
        ]
    return item


@st.composite
def batches(draw: Any) -> tuple[list[list[dict[str, Any]]], list[int], int | None]:
    """Ingest calls (each a list of items), their chunk sizes, and after which call (if
    any) epoch 0 is closed, so later receipts of epoch 0 are credited to epoch 1."""
    made: list[dict[str, Any]] = []
    calls: list[list[dict[str, Any]]] = []
    for _ in range(draw(st.integers(1, 4))):
        items = []
        for _ in range(draw(st.integers(0, 25))):
            choice = draw(st.sampled_from(["new", "new", "new", "again", "conflict"]))
            if choice == "again" and made:
                items.append(draw(st.sampled_from(made)))
            elif choice == "conflict" and made:
                other = dict(draw(st.sampled_from(made)))
                other["seq"] += 1
                items.append(other)
            else:
                made.append(draw(receipt(len(made))))
                items.append(made[-1])
        calls.append(items)
    sizes = [draw(st.integers(1, 8)) for _ in calls]
    close_after = draw(st.none() | st.integers(0, len(calls) - 1))
    return calls, sizes, close_after


@pytest.fixture(params=["sqlite", "postgres"])
def fresh(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Callable[[], Ledger]]:
    """``fresh()``: a new configured ledger (a SQLite file, or a PostgreSQL schema)."""
    made: list[tuple[Ledger, str | None]] = []

    def make() -> Ledger:
        schema = None
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / f'counters-{len(made)}.db'}"
        else:
            admin = request.getfixturevalue("postgres_admin")
            schema = f"t_{secrets.token_hex(6)}"
            with admin.connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            url = f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}"
        ledger = Ledger(url)
        epochs.configure(
            ledger, fee_address=FEE, genesis=GENESIS, epoch_seconds=DAY, settle_seconds=HOUR
        )
        made.append((ledger, schema))
        return ledger

    yield make
    for ledger, schema in made:
        ledger.close()
        if schema is not None:
            with request.getfixturevalue("postgres_admin").connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def _ingest(
    ledger: Ledger, calls: list[list[dict[str, Any]]], sizes: list[int], close_after: int | None
) -> None:
    for i, (items, size) in enumerate(zip(calls, sizes, strict=True)):
        ingest_receipts(ledger, items, chunk_size=size)
        if i == close_after:
            epochs.close_epoch(ledger, 0, now=GENESIS + DAY + HOUR)


# --- tests -------------------------------------------------------------------------------------


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=batches())
def test_counters__random_chunks__equal_a_scan_of_receipts(fresh, plan):
    calls, sizes, close_after = plan
    ledger = fresh()

    _ingest(ledger, calls, sizes, close_after)

    assert_counters_match(ledger)


def test_counters__known_cases__each_counted_once(ledger, make_receipt, pool):
    big = 2**70 + 1
    items = [
        make_receipt(1, price_per_unit=big, node=None),
        make_receipt(2, status="failed"),
        make_receipt(
            3, renditions=[{"profile": "p", "width": 16, "height": 16, "fps": 1, "pixels": 10**12}]
        ),
        make_receipt(4),
    ]
    ingest_receipts(ledger, items, chunk_size=2)
    ingest_receipts(ledger, [items[0], {**items[3], "seq": 99}])  # a duplicate, a conflict

    got = assert_counters_match(ledger)

    miner1, miner2 = pool.MINERS[1], pool.MINERS[2]
    hour = pool.GENESIS
    assert got["rig_hours"][(miner1, miner1, hour)][:3] == (1, 0, 0)  # node defaults
    assert got["rig_hours"][(miner2, "rig-2", hour)][:3] == (1, 1, 0)
    assert got["rig_hours"][(pool.MINERS[3], "rig-0", hour)][:3] == (1, 1, 1)
    [(_, value)] = [(k, v) for k, v in got["miner_value"].items() if k[1] == miner1]
    assert value[0] == 93_715_200 * big and value[2] == 1
    assert got["latest_price"] is not None


def test_counters__nothing_stored__no_rows(ledger):
    ingest_receipts(ledger, [])
    got = assert_counters_match(ledger)
    assert got == {"rig_hours": {}, "rigs": {}, "miner_value": {}, "latest_price": None}


def _downgrade_to_v3(ledger: Ledger) -> None:
    """Make ``ledger`` a schema-3 ledger holding the same receipts: no counters, no
    archive register, no latest price or catch-up cursor, receipts indexed as versions 1–3
    did."""
    with ledger.transaction() as conn:
        for table in ("rig_hours", "rigs", "miner_value", "archives"):
            conn.exec_driver_sql(f"DROP TABLE {table}")
        conn.exec_driver_sql("DROP INDEX ix_receipts_epoch")
        conn.exec_driver_sql(
            "CREATE INDEX ix_receipts_epoch_miner_node"
            " ON receipts (credited_epoch, transcoder, node)"
        )
        conn.execute(meta.delete().where(meta.c.key == counters.LATEST_PRICE))
        conn.execute(meta.delete().where(meta.c.key == counters.COUNTED_ROWID))
        conn.execute(schema_version.delete())  # a fresh ledger is stamped 4 alone
        conn.execute(schema_version.insert().values(version=3, applied_at=0))
    assert ledger.version() == 3


def test_migration_4__backfill_of_a_v3_ledger__equals_the_counters_ingest_kept(fresh, monkeypatch):
    rng = random.Random(10)
    calls = []
    for call in range(3):
        items = []
        for n in range(call * 40, call * 40 + 40):
            node = rng.choice([None, "rig-a", "rig-b"])
            items.append(
                {
                    "id": f"b-{n}",
                    "orchestrator": ORCHESTRATOR,
                    "transcoder": rng.choice(MINERS[:3]),
                    "stream": "s",
                    "seq": n,
                    "finished_at": GENESIS + rng.randrange(2 * DAY),
                    "duration_ms": rng.randrange(1, 5_000),
                    "latency_ms": rng.randrange(12_000),
                    "pixels_decoded": rng.randrange(10**13),
                    "pixels_encoded": rng.randrange(10**9),
                    "price_per_unit": rng.choice([rng.randrange(2**128), 1_000]),
                    "pixels_per_unit": rng.choice([1, 2**100]),
                    "status": rng.choice(["ok", "ok", "failed"]),
                    **({} if node is None else {"node": node}),
                    **({"region": rng.choice(["eu", "us"])} if rng.random() < 0.5 else {}),
                }
            )
        calls.append(items)
    ledger = fresh()
    _ingest(ledger, calls, [13, 7, 40], close_after=0)
    kept = assert_counters_match(ledger)
    _downgrade_to_v3(ledger)
    monkeypatch.setattr(counters, "_BACKFILL_BATCH", 11)  # several batches

    assert ledger.migrate() == 4

    assert assert_counters_match(ledger) == kept
    with ledger.read() as conn:
        indexes = {i["name"] for i in inspect(conn).get_indexes("receipts")}
    assert "ix_receipts_epoch" in indexes and "ix_receipts_epoch_miner_node" not in indexes
    # Ingest goes on from there: what the backfill counted is not counted again (SQLite's
    # catch-up cursor starts after it).
    more = [{**item, "id": f"more-{i}", "seq": 10_000 + i} for i, item in enumerate(calls[2])]
    ingest_receipts(ledger, more)
    assert_counters_match(ledger)


@pytest.mark.parametrize("order", [("eu", "us"), ("us", "eu")])
def test_rigs__region_tie__same_answer_whatever_the_arrival_order(ledger, make_receipt, order):
    at = GENESIS + 100
    first, second = (make_receipt(n, node="rig-x", finished_at=at, region=r)
                     for n, r in zip((4, 8), order, strict=True))  # fmt: skip
    ingest_receipts(ledger, [first])
    ingest_receipts(ledger, [second, make_receipt(12, node="rig-x", finished_at=at - 1)])

    got = assert_counters_match(ledger)

    assert got["rigs"][(MINERS[0], "rig-x")]["region"] == "us"  # the greater on a tie


# --- SQLite: counted after storing (the catch-up) ----------------------------------------------


def test_sqlite_catch_up__a_crash_before_counting__the_next_ingest_counts_each_once(
    ledger, make_receipt, monkeypatch
):
    """SQLite counts after storing; a crash between the two loses nothing and counts
    nothing twice. (PostgreSQL counts in each chunk's transaction: the same test shows
    nothing is left behind there.)"""
    calls = []
    real = counters.catch_up

    def crash_once(conn, limit=counters.CATCH_UP_BATCH):
        calls.append(limit)
        if len(calls) == 1:
            raise RuntimeError("killed before counting")
        return real(conn, limit)

    monkeypatch.setattr(counters, "catch_up", crash_once)
    if ledger.is_sqlite:
        with pytest.raises(RuntimeError, match="killed before counting"):
            ingest_receipts(ledger, [make_receipt(n) for n in range(40)], chunk_size=7)
        with ledger.read() as conn:  # stored, not counted yet
            assert stored(conn)["rig_hours"] == {}
            assert oracle(conn)["rig_hours"] != {}
    else:
        ingest_receipts(ledger, [make_receipt(n) for n in range(40)], chunk_size=7)
        assert calls == []  # counted chunk by chunk, nothing left to catch up
    ingest_receipts(ledger, [make_receipt(n) for n in range(30, 50)])  # 10 repeats, 10 new
    assert_counters_match(ledger)
    assert ingest_module.catch_up_counters(ledger) == 0  # nothing left behind


def test_sqlite_catch_up__in_batches__each_row_once(ledger, make_receipt, monkeypatch):
    monkeypatch.setattr(counters, "CATCH_UP_BATCH", 6)
    limits = []
    real = counters.catch_up
    monkeypatch.setattr(
        counters, "catch_up", lambda conn, limit: limits.append(limit) or real(conn, limit)
    )
    ingest_receipts(ledger, [make_receipt(n) for n in range(25)], chunk_size=10)
    assert_counters_match(ledger)
    assert limits == ([6] * 5 if ledger.is_sqlite else [])  # 6+6+6+6+1: five batches
