"""Rig quality: how well a rig keeps up with live video, and the score that ranks rigs.

Pure (no I/O). The ledger keeps, per rig and hour, the counts and the two histograms this
module defines (:data:`LATENCY_RATIO_EDGES`, :data:`LATENCY_MS_EDGES`); the service sums
the hours of a sliding window into a :class:`RigWindow` and asks :func:`score` for the
rank that ``GET /v1/selection`` publishes.

**The score** is a number in [0, 1], the product of two factors:

- *reliability* = ((ok + 1) / (segments + 2)) ** 4. A failed segment is worse for live
  video than a slow one: the broadcaster must retry it, usually too late for the
  playhead. The fourth power makes 1 % failures cost 4 % of the score and 10 % cost 34 %.
  The +1/+2 (Laplace's rule) keeps a rig with three lucky segments from outranking one
  with ten thousand good ones.
- *speed*, from the 95th percentile of the latency ratio ``r = latency_ms / duration_ms``
  (the share of a segment's own duration spent transcoding it; the same measure
  broadcasters use to rank orchestrators): 1 up to ``r = 0.5``; then falling linearly to
  0.5 at ``r = 1``; above 1 — the rig **falls behind real time** for one segment in
  twenty — it keeps falling as 0.5 / r², so a rig at 2× real time scores at most 0.125.
  The tail (p95), not the median, decides, because a live stream stalls on its slowest
  segments.

A rig with no segment in the window has no score (it is offline and not ranked).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "LATENCY_MS_EDGES",
    "LATENCY_RATIO_EDGES",
    "RigWindow",
    "histogram_add",
    "percentile",
    "reliability",
    "score",
    "speed",
]

#: Upper edges of the latency-ratio buckets (latency / media duration); the last bucket
#: is open-ended. Fine below 1 (real time), coarse above.
LATENCY_RATIO_EDGES: Final[tuple[float, ...]] = (
    0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0,
)  # fmt: skip

#: Upper edges of the latency buckets in milliseconds; the last bucket is open-ended.
LATENCY_MS_EDGES: Final[tuple[int, ...]] = (
    100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 10_000,
)  # fmt: skip

#: Below this latency ratio at p95 a rig counts as fully fast.
FAST_RATIO: Final = 0.5


def bucket_of(value: float, edges: Sequence[float]) -> int:
    """The index of the bucket ``value`` falls in (``len(edges)`` for the open bucket)."""
    return bisect.bisect_left(edges, value)


def histogram_add(counts: list[int], value: float, edges: Sequence[float]) -> None:
    """Count ``value`` in ``counts`` (``len(edges) + 1`` buckets)."""
    counts[bucket_of(value, edges)] += 1


def percentile(counts: Sequence[int], edges: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0 < q ≤ 1) of a histogram, as the upper edge of its bucket.

    Conservative by design: the answer is never below the true quantile. For the open
    bucket the answer is the last edge ×2 (“beyond the scale”). ``None`` when empty.
    """
    if not 0 < q <= 1:
        raise ValueError(f"quantile must be in (0, 1], got {q}")
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank and count:
            return float(edges[index]) if index < len(edges) else float(edges[-1]) * 2
    return float(edges[-1]) * 2  # pragma: no cover - the loop always returns when total > 0


@dataclass
class RigWindow:
    """A rig's work over a sliding window (sums of hourly rows: ``rig_hours``).

    ``failed`` counts failed and implausible (``flagged``) segments; ``pixels`` and the
    ``ok_*`` sums only the others; ``duration_ms``, ``latency_ms`` and both histograms
    every segment."""

    segments: int = 0
    failed: int = 0
    pixels: int = 0
    duration_ms: int = 0
    latency_ms: int = 0
    ratio_hist: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_RATIO_EDGES) + 1))
    ms_hist: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_MS_EDGES) + 1))
    flagged: int = 0
    ok_duration_ms: int = 0
    ok_latency_ms: int = 0

    def add(self, other: RigWindow) -> None:
        """Add another window's (or hour's) counts to this one."""
        self.segments += other.segments
        self.failed += other.failed
        self.pixels += other.pixels
        self.duration_ms += other.duration_ms
        self.latency_ms += other.latency_ms
        self.ratio_hist = [a + b for a, b in zip(self.ratio_hist, other.ratio_hist, strict=True)]
        self.ms_hist = [a + b for a, b in zip(self.ms_hist, other.ms_hist, strict=True)]
        self.flagged += other.flagged
        self.ok_duration_ms += other.ok_duration_ms
        self.ok_latency_ms += other.ok_latency_ms

    def record(
        self, *, ok: bool, pixels: int, duration_ms: int, latency_ms: int, flagged: bool = False
    ) -> None:
        """Count one segment (what ingest does per receipt); a flagged one is failed."""
        ok = ok and not flagged
        self.segments += 1
        self.failed += 0 if ok else 1
        self.flagged += 1 if flagged else 0
        self.pixels += pixels if ok else 0
        self.duration_ms += duration_ms
        self.latency_ms += latency_ms
        if ok:
            self.ok_duration_ms += duration_ms
            self.ok_latency_ms += latency_ms
        histogram_add(self.ratio_hist, latency_ms / duration_ms, LATENCY_RATIO_EDGES)
        histogram_add(self.ms_hist, latency_ms, LATENCY_MS_EDGES)

    @property
    def success_rate(self) -> float | None:
        return (self.segments - self.failed) / self.segments if self.segments else None

    @property
    def realtime_ratio(self) -> float | None:
        """Media duration / transcode time: above 1 is faster than real time."""
        return self.duration_ms / self.latency_ms if self.latency_ms else None

    @property
    def ok_realtime_ratio(self) -> float | None:
        """:attr:`realtime_ratio` of the segments that succeeded."""
        return self.ok_duration_ms / self.ok_latency_ms if self.ok_latency_ms else None

    def latency_ratio(self, q: float) -> float | None:
        return percentile(self.ratio_hist, LATENCY_RATIO_EDGES, q)

    def latency_ms_at(self, q: float) -> float | None:
        return percentile(self.ms_hist, LATENCY_MS_EDGES, q)


def reliability(segments: int, failed: int) -> float:
    """((ok + 1) / (segments + 2)) ** 4 — see the module's docstring for why."""
    return ((segments - failed + 1) / (segments + 2)) ** 4


def speed(p95_ratio: float) -> float:
    """1 up to 0.5, linear to 0.5 at real time (1.0), then 0.5 / r² behind real time."""
    if p95_ratio <= FAST_RATIO:
        return 1.0
    if p95_ratio <= 1.0:
        return 1.0 - (p95_ratio - FAST_RATIO)
    return 0.5 / (p95_ratio * p95_ratio)


def score(window: RigWindow) -> float | None:
    """The rig's score in [0, 1], or ``None`` when it did no work in the window."""
    p95 = window.latency_ratio(0.95)
    if window.segments == 0 or p95 is None:
        return None
    return reliability(window.segments, window.failed) * speed(p95)
