"""Epoch accounting: hand-computed rounding, conservation, monotonicity, order."""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livepool.accounting import (
    EpochResult,
    EpochTally,
    MinerBalance,
    PoolSettings,
    commission_in_force,
    settle_epoch,
    split_overhead,
)
from livepool.errors import ValidationError
from livepool.hashing import checksum_address
from livepool.receipts import Receipt, parse_receipt
from livepool.statement import SettingsEntry

from .accounting_oracle import add_late_verdict, add_receipt, credit_rows, settle_receipts

FEE = checksum_address("0x" + "fe" * 20)
ALICE = checksum_address("0x" + "a1" * 20)
BOB = checksum_address("0x" + "b0" * 20)
CAROL = checksum_address("0x" + "c4" * 20)


def pool(**changes: Any) -> PoolSettings:
    return PoolSettings(**{"fee_address": FEE, "genesis": 1_700_000_000, **changes})


def make_receipt(n: int, miner: str = ALICE, **changes: Any) -> Receipt:
    obj: dict[str, Any] = {
        "id": f"r-{n}",
        "orchestrator": "0x" + "ab" * 20,
        "transcoder": miner,
        "stream": "s",
        "seq": n,
        "finished_at": 1_700_000_100,
        "duration_ms": 2_000,
        "latency_ms": 100,
        "pixels_decoded": 0,
        "pixels_encoded": 1,
        "price_per_unit": 1,
        "pixels_per_unit": 3,
        "status": "ok",
    }
    obj.update(changes)
    return parse_receipt(obj)


def row(result: EpochResult, address: str) -> Any:
    return next(r for r in result.miners if r.address == address)


# --- hand-computed cases -----------------------------------------------------------------


def test_gross__summed_exactly_floored_once() -> None:
    # Three receipts worth 1/3 wei each: 1 wei, not 3 x floor(1/3) = 0.
    result = settle_receipts(pool(), [make_receipt(i) for i in range(3)])
    assert row(result, ALICE).gross == 1
    # Seven of them: 7/3 -> 2.
    result = settle_receipts(pool(), [make_receipt(i) for i in range(7)])
    assert row(result, ALICE).gross == 2


def test_gross__mixed_pixels_per_unit__exact() -> None:
    t = EpochTally()
    t.credit(ALICE, 1, 0, 1, 2)  # 1/2
    t.credit(ALICE, 1, 0, 1, 3)  # 1/3
    t.credit(ALICE, 1, 0, 1, 6)  # 1/6 -> total exactly 1
    assert row(settle_epoch(pool(), t), ALICE).gross == 1


def test_gross__decode_weight__adds_weighted_decoded_pixels() -> None:
    t = EpochTally()
    t.credit(ALICE, 1_000, 500, 3, 7)  # (1000 + 500/10) * 3 / 7 = 450
    assert row(settle_epoch(pool(decode_weight="1/10"), t), ALICE).gross == 450
    assert row(settle_epoch(pool(), t), ALICE).gross == 1_000 * 3 // 7  # weight 0: 428


@pytest.mark.parametrize(
    ("gross", "bps", "commission"),
    [
        (199, 50, 0),  # 0.995 -> 0: rounding favours the miner
        (200, 50, 1),
        (10_001, 2_500, 2_500),  # 2500.25 -> 2500
        (10**24 + 9_999, 1, 10**20),  # 1e20 + 0.9999 -> 1e20
        (12_345, 10_000, 12_345),
        (12_345, 0, 0),
    ],
)
def test_commission__floored(gross: int, bps: int, commission: int) -> None:
    t = EpochTally()
    t.credit(ALICE, gross, 0, 1, 1)
    r = row(settle_epoch(pool(commission_bps=bps), t), ALICE)
    assert (r.gross, r.commission, r.delta) == (gross, commission, gross - commission)


def test_penalty__multiplier_times_value__floored_once() -> None:
    t = EpochTally()
    t.credit(ALICE, 100, 0, 1, 1)
    t.charge(ALICE, 7, 0, 1, 3)  # 7/3 wei
    t.charge(ALICE, 1, 0, 1, 3)  # 1/3 wei: together 8/3
    r = row(settle_epoch(pool(penalty_multiplier=(3, 2)), t), ALICE)
    assert r.penalty_base == Fraction(8, 3)
    assert r.penalty == 4  # 3/2 * 8/3 = 4 exactly
    r = row(settle_epoch(pool(penalty_multiplier="5/4"), t), ALICE)
    assert r.penalty == 3  # 10/3 -> 3
    assert r.gross == 100  # charged segments are not credited
    assert r.delta == 97
    assert r.charged_segments == 2


def test_late_verdict__claws_back_and_penalises() -> None:
    t = EpochTally()
    t.credit(ALICE, 1_000, 0, 1, 1)
    assert add_late_verdict(t, make_receipt(1, pixels_encoded=300, pixels_per_unit=1)) == (
        "clawed back"
    )
    r = row(settle_epoch(pool(), t), ALICE)
    assert (r.penalty, r.clawback, r.delta) == (300, 300, 400)


def test_late_verdict__on_failed_or_implausible_receipt__ignored() -> None:
    t = EpochTally()
    assert add_late_verdict(t, make_receipt(1, status="failed")) == "ignored"
    implausible = make_receipt(
        2,
        pixels_encoded=10**9,
        renditions=[{"profile": "p", "width": 2, "height": 2, "fps": 1, "pixels": 8}],
    )
    assert add_late_verdict(t, implausible) == "ignored"
    assert t.miners() == set()


def test_add_receipt__dispositions() -> None:
    t = EpochTally()
    assert add_receipt(t, make_receipt(1, status="failed")) == "failed"
    assert add_receipt(t, make_receipt(2), failed_verification=True) == "charged"
    implausible = make_receipt(
        3,
        pixels_encoded=100,
        renditions=[{"profile": "p", "width": 2, "height": 2, "fps": 1, "pixels": 8}],
    )
    assert add_receipt(t, implausible) == "charged"
    assert add_receipt(t, make_receipt(4, pixels_encoded=9)) == "credited"
    r = row(settle_epoch(pool(), t), ALICE)
    assert (r.segments, r.failed_segments, r.charged_segments) == (1, 1, 2)
    assert r.gross == 3  # 9/3
    assert r.penalty_base == Fraction(1, 3) + Fraction(100, 3)
    assert r.penalty == 33  # 101/3 -> 33
    assert (r.delta, r.debt_out) == (0, 30)


def test_debt__carried_and_collected_later_for_the_pool() -> None:
    s = pool(commission_bps=1_000)
    t = EpochTally()
    t.credit(ALICE, 50, 0, 1, 1)
    first = settle_epoch(s, t, overhead={ALICE: 80})
    a = row(first, ALICE)
    assert (a.gross, a.commission, a.overhead, a.delta, a.debt_out) == (50, 5, 80, 0, 35)
    assert first.pool.delta == 50  # everything the miner earned went to the pool
    assert first.pool.levied == 85
    t = EpochTally()
    t.credit(ALICE, 100, 0, 1, 1)
    second = settle_epoch(s, t, previous=first.balances(), pool_cumulative=first.pool.cumulative)
    a = row(second, ALICE)
    assert (a.debt_in, a.commission, a.delta, a.debt_out, a.cumulative) == (35, 10, 55, 0, 55)
    assert second.pool.delta == 45  # 10 commission + 35 old debt
    assert second.pool.cumulative == 95
    assert second.totals.total == 150  # every wei of gross, to someone


def test_idle_miner_with_balance__keeps_its_row() -> None:
    previous = {BOB: MinerBalance(cumulative=10, debt=0), CAROL: MinerBalance(0, 0)}
    result = settle_epoch(pool(), EpochTally(), previous=previous)
    assert [r.address for r in result.miners] == [BOB]
    assert row(result, BOB).cumulative == 10
    assert result.leaves() == [(BOB, 10), (FEE, 0)]


def test_settle__fee_address_as_miner__refused() -> None:
    t = EpochTally()
    t.credit(FEE, 1, 0, 1, 1)
    with pytest.raises(ValidationError, match="is also a miner"):
        settle_epoch(pool(), t)


def test_settle__unchecksummed_miner__refused() -> None:
    t = EpochTally()
    t.credit(ALICE.lower(), 1, 0, 1, 1)
    with pytest.raises(ValidationError, match="not a checksummed address"):
        settle_epoch(pool(), t)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"overhead": {ALICE: -1}}, "overhead"),
        ({"previous": {ALICE: MinerBalance(-1, 0)}}, "previous"),
        ({"pool_cumulative": -1}, "pool_cumulative"),
    ],
)
def test_settle__negative_inputs__refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settle_epoch(pool(), EpochTally(), **kwargs)


def test_tally__negative_amount__refused() -> None:
    with pytest.raises(ValidationError):
        EpochTally().credit(ALICE, -1, 0, 1, 1)
    with pytest.raises(ValidationError):
        EpochTally().charge(ALICE, 1, 0, 1, 0)


# --- settings, commission history, overhead -----------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"commission_bps": 10_001}, "commission_bps"),
        ({"commission_bps": -1}, "commission_bps"),
        ({"penalty_multiplier": 1.5}, "penalty_multiplier: must be exact"),
        ({"penalty_multiplier": "-1"}, "penalty_multiplier: must not be negative"),
        ({"decode_weight": (1, 0)}, "decode_weight: not an exact fraction"),
        ({"decode_weight": True}, "decode_weight"),
        ({"fee_address": "0x12"}, "fee_address: not a 20-byte hex address"),
        ({"epoch_seconds": 0}, "epoch_seconds"),
        ({"settle_seconds": -1}, "settle_seconds"),
        ({"genesis": 1.0}, "genesis"),
    ],
)
def test_pool_settings__invalid__refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        pool(**changes)


def test_pool_settings__normalised_and_windows() -> None:
    s = pool(penalty_multiplier=(6, 4), decode_weight=0, fee_address=FEE.lower())
    assert s.penalty_multiplier == Fraction(3, 2)
    assert s.fee_address == FEE
    assert s.window(0) == (1_700_000_000, 1_700_086_400)
    assert s.epoch_of(1_700_086_399) == 0
    assert s.epoch_of(1_700_086_400) == 1
    assert s.closes_at(0) == 1_700_090_000
    assert SettingsEntry.model_validate(s.to_json()).to_settings() == s
    with pytest.raises(ValidationError, match="before genesis"):
        s.epoch_of(1)


def test_commission_in_force__history() -> None:
    changes = [(0, 500), (10, 300), (5, 400)]
    assert commission_in_force(0, changes) == 500
    assert commission_in_force(4, changes) == 500
    assert commission_in_force(5, changes) == 400
    assert commission_in_force(99, changes) == 300
    assert commission_in_force(3, [(4, 100)]) == 0
    with pytest.raises(ValidationError, match="two rates"):
        commission_in_force(3, [(1, 100), (1, 200)])
    with pytest.raises(ValidationError, match="bps"):
        commission_in_force(3, [(1, 10_001)])


def test_split_overhead__rounds_up() -> None:
    assert split_overhead(10, [ALICE, BOB, CAROL]) == {ALICE: 4, BOB: 4, CAROL: 4}
    assert split_overhead(9, [ALICE, BOB, CAROL]) == {ALICE: 3, BOB: 3, CAROL: 3}
    assert split_overhead(1, [ALICE.lower(), BOB]) == {ALICE: 1, BOB: 1}
    assert split_overhead(0, []) == {}
    total = Counter(split_overhead(10, [ALICE, BOB])) + Counter(split_overhead(7, [ALICE]))
    assert total == {ALICE: 12, BOB: 5}


@pytest.mark.parametrize(
    ("cost", "miners", "message"),
    [
        (5, [], "no miners"),
        (5, [ALICE, ALICE.lower()], "appears twice"),
        (-1, [ALICE], "batch_gas_cost_wei"),
        (5, ["0x12"], "miners: not a 20-byte"),
    ],
)
def test_split_overhead__invalid__refused(cost: int, miners: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        split_overhead(cost, miners)


# --- properties -----------------------------------------------------------------------------

MINERS = [checksum_address("0x%040x" % (i * 7919 + 1)) for i in range(6)]
miner_ix = st.integers(0, len(MINERS) - 1)
work = st.tuples(
    miner_ix,
    st.integers(0, 10**13),  # encoded
    st.integers(0, 10**13),  # decoded
    st.integers(0, 2**128 - 1),  # price
    st.sampled_from([1, 3, 7, 1_000, 2**64 + 13]),  # pixels per unit
)
charges = st.tuples(work, st.booleans())
fractions = st.builds(Fraction, st.integers(0, 50), st.integers(1, 20))
settings_st = st.builds(
    pool,
    commission_bps=st.integers(0, 10_000),
    penalty_multiplier=fractions,
    decode_weight=fractions,
)
epoch_st = st.tuples(
    st.lists(work, max_size=12),
    st.lists(charges, max_size=4),
    st.dictionaries(miner_ix, st.integers(0, 2**100), max_size=3),
)


def tally_of(works: list[Any], charged: list[Any]) -> EpochTally:
    t = EpochTally()
    credit_rows(t, [(MINERS[m], e, d, p, u) for m, e, d, p, u in works])
    for (m, e, d, p, u), claw in charged:
        t.charge(MINERS[m], e, d, p, u, clawback=claw)
    return t


def assert_conserved(result: EpochResult) -> None:
    totals = result.totals
    d_debt = totals.debt_out - totals.debt_in
    levied = totals.commission + totals.penalty + totals.clawback + totals.overhead
    assert totals.miner_delta + totals.pool_delta == totals.gross  # cash
    assert levied == totals.pool_delta + d_debt  # accrual
    # DESIGN.md's form, with its pool delta read as levied, Δdebt as debt repaid net:
    assert totals.miner_delta + levied + (totals.debt_in - totals.debt_out) == totals.gross
    assert result.pool.levied == levied
    for r in result.miners:
        assert r.delta >= 0 and r.debt_out >= 0
        assert r.delta == 0 or r.debt_out == 0
        assert r.delta + r.collected == r.gross


@settings(max_examples=300, deadline=None)
@given(
    settings_st,
    epoch_st,
    st.dictionaries(miner_ix, st.tuples(st.integers(0, 2**90), st.integers(0, 2**90))),
    st.integers(0, 2**90),
)
def test_conservation__to_the_wei(
    s: PoolSettings, epoch: Any, prev: dict[int, tuple[int, int]], pool_cum: int
) -> None:
    works, charged, overhead = epoch
    previous = {MINERS[m]: MinerBalance(c, d) for m, (c, d) in prev.items()}
    result = settle_epoch(
        s,
        tally_of(works, charged),
        overhead={MINERS[m]: v for m, v in overhead.items()},
        previous=previous,
        pool_cumulative=pool_cum,
    )
    assert_conserved(result)
    for r in result.miners:
        assert r.cumulative >= previous.get(r.address, MinerBalance()).cumulative
    assert result.pool.cumulative >= pool_cum


@settings(max_examples=60, deadline=None)
@given(settings_st, st.lists(epoch_st, min_size=1, max_size=6))
def test_cumulative__never_decreases_and_total_is_all_gross(
    s: PoolSettings, epochs: list[Any]
) -> None:
    balances: dict[str, MinerBalance] = {}
    pool_cum = 0
    all_gross = 0
    for works, charged, overhead in epochs:
        result = settle_epoch(
            s,
            tally_of(works, charged),
            overhead={MINERS[m]: v for m, v in overhead.items()},
            previous=balances,
            pool_cumulative=pool_cum,
        )
        assert_conserved(result)
        for address, before in balances.items():
            if before.cumulative or before.debt:
                assert row(result, address).cumulative >= before.cumulative
                assert row(result, address).debt_in == before.debt
        assert result.pool.cumulative >= pool_cum
        all_gross += result.totals.gross
        assert result.totals.total == all_gross  # the Merkle total is backed by work
        balances, pool_cum = result.balances(), result.pool.cumulative


@settings(max_examples=100, deadline=None)
@given(settings_st, st.lists(work, min_size=1, max_size=15), st.randoms(use_true_random=False))
def test_result__any_order__identical(
    s: PoolSettings, works: list[Any], rnd: random.Random
) -> None:
    first = settle_epoch(s, tally_of(works, []))
    shuffled = list(works)
    rnd.shuffle(shuffled)
    assert settle_epoch(s, tally_of(shuffled, [])) == first


@settings(max_examples=100, deadline=None)
@given(settings_st, st.lists(work, min_size=1, max_size=15))
def test_result__pre_aggregated_rows__identical(s: PoolSettings, works: list[Any]) -> None:
    grouped: dict[tuple[int, int, int], list[int]] = {}
    for m, e, d, p, u in works:
        acc = grouped.setdefault((m, p, u), [0, 0, 0])
        acc[0] += e
        acc[1] += d
        acc[2] += 1
    t = EpochTally()
    for (m, p, u), (e, d, n) in grouped.items():
        t.credit(MINERS[m], e, d, p, u, segments=n)
    assert settle_epoch(s, t) == settle_epoch(s, tally_of(works, []))


def test_settle_receipts__permutation_of_receipts__identical() -> None:
    rng = random.Random(7)
    receipts = [
        make_receipt(
            i,
            miner=rng.choice([ALICE, BOB, CAROL]),
            pixels_encoded=rng.randrange(10**8),
            pixels_decoded=rng.randrange(10**8),
            price_per_unit=rng.randrange(1_000, 1_500),
            pixels_per_unit=rng.choice([1, 3, 7]),
            status=rng.choice(["ok"] * 9 + ["failed"]),
        )
        for i in range(200)
    ]
    failed = {"r-5", "r-17"}
    late = [make_receipt(1_000 + i, miner=BOB, pixels_encoded=30) for i in range(3)]
    s = pool(commission_bps=250, decode_weight="1/8")
    first = settle_receipts(s, receipts, failed_ids=failed, late_failed=late)
    assert row(first, BOB).clawback == 30
    for _ in range(5):
        rng.shuffle(receipts)
        rng.shuffle(late)
        assert settle_receipts(s, receipts, failed_ids=failed, late_failed=late) == first
