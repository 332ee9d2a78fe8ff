"""Epoch lifecycle: closing in one transaction, idempotently, with late work — both databases."""

from __future__ import annotations

import json
import random
import secrets
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from livepool import epochs
from livepool.audit import check_statement
from livepool.errors import EpochError
from livepool.ingest import ingest_receipts
from livepool.ledger import Ledger, balances, push_batches, queries
from livepool.merkle import MerkleTree
from livepool.statement import data_hash, load_statement


def verdict(receipt_id, reason="failed verification"):
    return {"verdict": {"receipt_id": receipt_id, "ok": False, "reason": reason}}


def closes(pool, epoch):
    """A time when ``epoch`` is due."""
    return pool.GENESIS + (epoch + 1) * pool.DAY + 3_600


def statement(closed):
    return load_statement(closed.statement)


# --- closing --------------------------------------------------------------------------------


def test_close__writes_statement_balances_root(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(n) for n in range(40)])
    closed = epochs.close_epoch(ledger, 0, now=closes(pool, 0))
    s = statement(closed)
    assert check_statement(s) == []
    assert closed.root == s.root
    assert closed.data_hash == "0x" + data_hash(s).hex()
    assert s.receipts.count == 40
    assert s.settings.commission_bps == 500
    assert {m.address for m in s.miners} == set(pool.MINERS)
    with ledger.read() as conn:
        rows = conn.execute(select(balances).where(balances.c.epoch == 0)).all()
    assert len(rows) == len(pool.MINERS) + 1
    assert epochs.list_epochs(ledger)[0]["state"] == "closed"


def test_close__not_due__refused(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(1)])
    with pytest.raises(EpochError, match="not due until"):
        epochs.close_epoch(ledger, 0, now=closes(pool, 0) - 1)


def test_close__earlier_epoch_open__refused(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(1), make_receipt(2, finished_at=pool.GENESIS + pool.DAY)])
    with pytest.raises(EpochError, match="epoch 0 must be closed first"):
        epochs.close_epoch(ledger, 1, now=closes(pool, 1))
    epochs.close_epoch(ledger, 0, now=closes(pool, 1))
    with pytest.raises(EpochError, match="epoch 1 must be closed first"):
        epochs.close_epoch(ledger, 2, now=closes(pool, 2))


def test_close__twice__returns_the_stored_result(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(n) for n in range(10)])
    first = epochs.close_epoch(ledger, 0, now=closes(pool, 0))
    ingest_receipts(ledger, [make_receipt(99)])  # goes to epoch 1 now
    again = epochs.close_epoch(ledger, 0, now=closes(pool, 0) + 999)
    assert again.already_closed
    assert (again.root, again.statement, again.closed_at) == (
        first.root,
        first.statement,
        first.closed_at,
    )


def test_close__no_fee_address__refused(database_url, make_receipt):
    ledger = Ledger(database_url)
    ingest_receipts(ledger, [make_receipt(1, finished_at=1_764_028_800)])
    with pytest.raises(EpochError, match="fee address"):
        epochs.close_epoch(ledger, now=2_000_000_000)
    ledger.close()


def test_close__empty_ledger__nothing_to_close(ledger, pool):
    with pytest.raises(EpochError, match="no epoch to close"):
        epochs.close_epoch(ledger, now=closes(pool, 5))
    assert epochs.close_due(ledger, now=closes(pool, 5)) == []


def test_close_due__closes_every_due_epoch_in_order(ledger, make_receipt, pool):
    items = [make_receipt(n, finished_at=pool.GENESIS + (n % 3) * pool.DAY) for n in range(9)]
    ingest_receipts(ledger, items)
    assert epochs.due_epochs(ledger, now=closes(pool, 1)) == [0, 1]
    closed = epochs.close_due(ledger, now=closes(pool, 1))
    assert [c.number for c in closed] == [0, 1]
    assert epochs.due_epochs(ledger, now=closes(pool, 1)) == []
    s0, s1 = statement(closed[0]), statement(closed[1])
    assert check_statement(s1, previous=s0) == []


def test_crash_mid_close__epoch_stays_open__rerun_gives_identical_root(
    ledger, make_receipt, pool, monkeypatch
):
    ingest_receipts(ledger, [make_receipt(n) for n in range(30)] + [verdict("r-4")])
    ledger.record_push("b1", "0x" + "ab" * 32, 50_000, 10**9, pool.MINERS[:3])
    real_write = queries.insert_balances

    def crash(conn, number, result):
        real_write(conn, number, result)  # balances written, then the process "dies"
        raise RuntimeError("power cut")

    monkeypatch.setattr(queries, "insert_balances", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        epochs.close_epoch(ledger, 0, now=closes(pool, 0))
    assert epochs.list_epochs(ledger)[0]["state"] == "open"
    assert ledger.count(balances) == 0
    with ledger.read() as conn:
        assert conn.execute(select(push_batches.c.charged_epoch)).scalar() is None
    monkeypatch.setattr(queries, "insert_balances", real_write)
    closed = epochs.close_epoch(ledger, 0, now=closes(pool, 0))

    # The same ledger contents closed without a crash give the same statement.
    twin = _fresh_like(ledger)
    ingest_receipts(twin, [make_receipt(n) for n in range(30)] + [verdict("r-4")])
    twin.record_push("b1", "0x" + "ab" * 32, 50_000, 10**9, pool.MINERS[:3])
    assert epochs.close_epoch(twin, 0, now=closes(pool, 0)).statement == closed.statement
    twin.close()


# --- late work, verdicts, overhead, commission ----------------------------------------------------


def test_late_receipt__credited_and_paid_in_the_open_epoch(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(0)])
    epochs.close_epoch(ledger, 0, now=closes(pool, 0))
    ingest_receipts(ledger, [make_receipt(4)])  # same miner, finished in epoch 0
    s1 = statement(epochs.close_epoch(ledger, 1, now=closes(pool, 1)))
    [miner] = [m for m in s1.miners if m.address == pool.MINERS[0]]
    assert miner.segments == 1
    assert s1.receipts.count == 1


def test_verdict_on_time__segment_charged_not_credited(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(0), make_receipt(4), verdict("r-4")])
    s = statement(epochs.close_epoch(ledger, 0, now=closes(pool, 0)))
    [m] = [m for m in s.miners if m.address == pool.MINERS[0]]
    assert (m.segments, m.charged_segments) == (1, 1)
    assert m.penalty > 0
    assert m.clawback == 0
    assert s.verdicts.count == 1


def test_late_verdict__charged_with_clawback_in_the_open_epoch(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(0), make_receipt(4)])
    s0 = statement(epochs.close_epoch(ledger, 0, now=closes(pool, 0)))
    ingest_receipts(ledger, [verdict("r-4")])
    s1 = statement(epochs.close_epoch(ledger, 1, now=closes(pool, 1)))
    [m] = [m for m in s1.miners if m.address == pool.MINERS[0]]
    assert m.charged_segments == 1
    assert m.clawback > 0
    assert m.penalty == m.clawback  # multiplier 1: as much again as the pay taken back
    assert check_statement(s1, previous=s0) == []
    assert s1.verdicts.count == 1


def test_push_overhead__charged_once_in_the_next_close(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(n) for n in range(8)])
    ledger.record_push("b1", "0x" + "cd" * 32, 100_001, 1, pool.MINERS[:2])
    s0 = statement(epochs.close_epoch(ledger, 0, now=closes(pool, 0)))
    charged = {m.address: m.overhead for m in s0.miners}
    assert charged[pool.MINERS[0]] == charged[pool.MINERS[1]] == 50_001  # rounded up
    assert charged[pool.MINERS[2]] == 0
    s1 = statement(epochs.close_epoch(ledger, 1, now=closes(pool, 1)))
    assert all(m.overhead == 0 for m in s1.miners)


def test_commission_change__applies_from_the_next_epoch(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(n) for n in range(4)])
    epochs.configure(ledger, commission_bps=1_000, now=pool.GENESIS + 10)
    day1 = [make_receipt(n, finished_at=pool.GENESIS + pool.DAY + n) for n in range(10, 14)]
    ingest_receipts(ledger, day1)
    s0 = statement(epochs.close_epoch(ledger, 0, now=closes(pool, 0)))
    s1 = statement(epochs.close_epoch(ledger, 1, now=closes(pool, 1)))
    assert (s0.settings.commission_bps, s1.settings.commission_bps) == (500, 1_000)


def test_conservation_and_monotone_cumulative_over_closed_epochs(ledger, make_receipt, pool):
    rng = random.Random(7)
    previous = None
    cumulative: dict[str, int] = {}
    for epoch in range(4):
        items = [
            make_receipt(
                1000 * epoch + n,
                finished_at=pool.GENESIS + epoch * pool.DAY + n,
                status="failed" if rng.random() < 0.1 else "ok",
            )
            for n in range(25)
        ]
        items += [verdict(f"r-{1000 * epoch + n}") for n in range(0, 25, 9)]
        if epoch:  # a late verdict on the previous epoch's work
            items.append(verdict(f"r-{1000 * (epoch - 1) + 4}"))
        ingest_receipts(ledger, items)
        ledger.record_push(f"b{epoch}", "0x" + "ee" * 32, 10**6 + epoch, 3, pool.MINERS[:3])
        s = statement(epochs.close_epoch(ledger, epoch, now=closes(pool, epoch)))
        t = s.totals
        assert t.miner_delta + t.pool_delta == t.gross
        levied = t.commission + t.penalty + t.clawback + t.overhead
        assert levied == t.pool_delta + (t.debt_out - t.debt_in)
        for m in s.miners:
            assert m.cumulative >= cumulative.get(m.address, 0)
            cumulative[m.address] = m.cumulative
        assert check_statement(s, previous=previous) == []
        previous = s


def test_epoch_tree__dump_loads_with_the_statement_root(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(n) for n in range(12)])
    closed = epochs.close_epoch(ledger, 0, now=closes(pool, 0))
    dump = epochs.epoch_tree(ledger, 0).dump()
    assert dump["format"] == "standard-v1"
    tree = MerkleTree.load(json.loads(json.dumps(dump)))
    assert "0x" + tree.root.hex() == closed.root
    assert json.loads(epochs.epoch_statement(ledger, 0))["root"] == closed.root


def test_epoch_statement__open_or_unknown__clear_error(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(1)])
    with pytest.raises(EpochError, match="still open"):
        epochs.epoch_statement(ledger, 0)
    with pytest.raises(EpochError, match="unknown"):
        epochs.epoch_tree(ledger, 7)


# --- idempotency under permutation and duplication (hypothesis) -----------------------------------


def _fresh_like(ledger: Ledger) -> Ledger:
    """A new, configured ledger of the same kind as ``ledger`` (its own file or schema)."""
    config = epochs.pool_config(ledger)
    if ledger.is_sqlite:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'twin.db'}"
    else:
        base = ledger.url.split("?")[0]
        schema = f"t_{secrets.token_hex(6)}"
        engine = Ledger(base, migrate=False).engine
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        url = f"{base}?options={quote(f'-csearch_path={schema}')}"
    twin = Ledger(url)
    epochs.configure(twin, **config.stored(), commission_bps=500)
    return twin


def _drop(ledger: Ledger) -> None:
    if not ledger.is_sqlite:
        schema = ledger.url.split("search_path%3D")[1]
        with ledger.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    ledger.close()


@settings(max_examples=8)
@given(data=st.data())
def test_any_permutation_and_duplication__identical_statement_and_root(
    ledger, make_receipt, pool, data
):
    base = [make_receipt(n, finished_at=pool.GENESIS + n * 997 % pool.DAY) for n in range(30)]
    base += [make_receipt(30 + n, status="failed") for n in range(3)]
    verdicts_ = [verdict("r-3"), verdict("r-11")]
    reference = getattr(
        test_any_permutation_and_duplication__identical_statement_and_root, "_ref", {}
    )
    key = ledger.url.split("?")[0].split(":")[0]
    if key not in reference:
        ref_ledger = _fresh_like(ledger)
        ingest_receipts(ref_ledger, base + verdicts_)
        reference[key] = epochs.close_epoch(ref_ledger, 0, now=closes(pool, 0)).statement
        _drop(ref_ledger)
        test_any_permutation_and_duplication__identical_statement_and_root._ref = reference  # type: ignore[attr-defined]

    extra = data.draw(st.lists(st.sampled_from(base), max_size=15))
    receipts_ = data.draw(st.permutations(base + extra))
    chunk = data.draw(st.integers(1, 40))
    as_json = data.draw(st.booleans())
    items = [json.dumps(r) if as_json else r for r in receipts_]
    twin = _fresh_like(ledger)
    try:
        report = ingest_receipts(twin, items + verdicts_ + verdicts_[:1], chunk_size=chunk)
        assert report.ok
        first = epochs.close_epoch(twin, 0, now=closes(pool, 0))
        assert first.statement == reference[key]
        assert epochs.close_epoch(twin, 0, now=closes(pool, 0)).root == first.root
    finally:
        _drop(twin)


def test_close__pixel_sums_beyond_64_bits__exact(ledger, make_receipt, pool):
    """SQLite's SUM stops at 2**63; the close then sums in Python, to the same result."""
    miner = pool.MINERS[0]
    ingest_receipts(
        ledger,
        [
            make_receipt(n, transcoder=miner, price_per_unit=1_500, pixels_per_unit=1)
            for n in range(3)
        ],
    )
    huge = 2**62 + 12_345  # stored directly: ingest bounds one receipt at 10**13 pixels
    with ledger.transaction() as conn:
        conn.execute(text("UPDATE receipts SET pixels_encoded = :p"), {"p": huge})
    s = statement(epochs.close_epoch(ledger, 0, now=closes(pool, 0)))
    (line,) = [m for m in s.miners if m.address == miner]
    assert line.gross == 3 * huge * 1_500
    assert line.pixels == 3 * huge
    assert check_statement(s) == []
