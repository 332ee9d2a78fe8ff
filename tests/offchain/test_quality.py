"""Rig quality: histogram percentiles, the score's factors, and the ranking they give."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livepool.quality import (
    LATENCY_MS_EDGES,
    LATENCY_RATIO_EDGES,
    RigWindow,
    histogram_add,
    percentile,
    reliability,
    score,
    speed,
)


@given(
    st.lists(st.floats(min_value=0.001, max_value=20.0), min_size=1, max_size=300),
    st.sampled_from([0.5, 0.9, 0.95, 0.99, 1.0]),
)
def test_percentile__never_below_the_exact_quantile_and_within_one_bucket(
    values: list[float], q: float
) -> None:
    counts = [0] * (len(LATENCY_RATIO_EDGES) + 1)
    for value in values:
        histogram_add(counts, value, LATENCY_RATIO_EDGES)
    exact = sorted(values)[max(0, math.ceil(q * len(values)) - 1)]
    got = percentile(counts, LATENCY_RATIO_EDGES, q)
    assert got is not None
    if exact > LATENCY_RATIO_EDGES[-1]:  # the open bucket: only "beyond the scale" is known
        assert got > LATENCY_RATIO_EDGES[-1]
        return
    assert got >= exact
    # The answer is the upper edge of the exact quantile's own bucket.
    index = LATENCY_RATIO_EDGES.index(got) if got in LATENCY_RATIO_EDGES else None
    if index is not None and index > 0:
        assert exact > LATENCY_RATIO_EDGES[index - 1]


def test_percentile__empty_is_none_and_bad_quantile_is_refused() -> None:
    assert percentile([0] * 5, (1.0, 2.0, 3.0, 4.0), 0.5) is None
    with pytest.raises(ValueError, match="quantile must be in"):
        percentile([1, 0], (1.0,), 0.0)


def test_percentile__open_bucket_reports_beyond_the_scale() -> None:
    counts = [0] * (len(LATENCY_MS_EDGES) + 1)
    histogram_add(counts, 60_000, LATENCY_MS_EDGES)
    assert percentile(counts, LATENCY_MS_EDGES, 0.95) == LATENCY_MS_EDGES[-1] * 2


def test_speed__continuous_and_falls_fast_behind_real_time() -> None:
    assert speed(0.1) == speed(0.5) == 1.0
    assert speed(1.0) == pytest.approx(0.5)
    assert speed(1.0 + 1e-9) == pytest.approx(0.5)
    assert speed(2.0) == pytest.approx(0.125)
    ratios = [i / 100 for i in range(1, 600)]
    assert all(speed(a) >= speed(b) for a, b in itertools.pairwise(ratios))


def test_reliability__many_good_segments_beat_a_few_lucky_ones() -> None:
    assert reliability(10_000, 10) > reliability(3, 0)
    assert reliability(100, 10) == pytest.approx((91 / 102) ** 4)


def _rig(rng: random.Random, *, fail: float, ratio: tuple[float, float], n: int) -> RigWindow:
    window = RigWindow()
    for _ in range(n):
        duration = 2_000
        latency = int(duration * rng.uniform(*ratio))
        window.record(
            ok=rng.random() >= fail, pixels=1_000_000, duration_ms=duration, latency_ms=latency
        )
    return window


def test_score__slow_and_flaky_rigs_rank_below_healthy_ones() -> None:
    rng = random.Random(7)
    healthy = [_rig(rng, fail=0.002, ratio=(0.15, 0.45), n=600) for _ in range(3)]
    slow = _rig(rng, fail=0.002, ratio=(0.8, 1.6), n=600)  # behind real time at p95
    flaky = _rig(rng, fail=0.12, ratio=(0.15, 0.45), n=600)  # fast but fails 12 %
    scores = {f"healthy-{i}": score(w) for i, w in enumerate(healthy)}
    scores |= {"slow": score(slow), "flaky": score(flaky)}
    ranked = sorted(scores, key=lambda name: scores[name] or 0.0, reverse=True)
    assert set(ranked[:3]) == {"healthy-0", "healthy-1", "healthy-2"}
    assert min(scores[f"healthy-{i}"] or 0 for i in range(3)) > 0.9
    assert (scores["slow"] or 1) < 0.3
    assert (scores["flaky"] or 1) < 0.65
    assert slow.realtime_ratio is not None and slow.realtime_ratio < 1 / 0.8


def test_score__no_work_no_score_and_windows_add_up() -> None:
    assert score(RigWindow()) is None
    rng = random.Random(1)
    a = _rig(rng, fail=0.0, ratio=(0.2, 0.3), n=10)
    b = _rig(rng, fail=0.5, ratio=(0.2, 0.3), n=10)
    total = RigWindow()
    total.add(a)
    total.add(b)
    assert total.segments == 20
    assert total.failed == a.failed + b.failed
    assert sum(total.ratio_hist) == 20
    assert total.success_rate == (20 - total.failed) / 20
