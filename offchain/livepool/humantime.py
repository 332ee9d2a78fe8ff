"""Times for people: UTC ISO 8601 plus how far away it is ("in 3 h", "2 d ago").

Everything a person reads shows times this way; JSON output keeps unix seconds. Pure:
``now`` is passed in by whoever knows it (the chain's clock for on-chain windows).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["human_time", "iso", "relative"]

_UNITS = ((86_400, "d"), (3_600, "h"), (60, "min"), (1, "s"))


def iso(ts: int) -> str:
    """``2026-11-25T18:00:00Z``."""
    return datetime.fromtimestamp(int(ts), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relative(ts: int, now: int | None = None) -> str:
    """``in 3 h``, ``2 d ago``, ``now``: the largest unit, rounded down (one decimal
    under 10 of it, so 90 minutes reads ``in 1.5 h``)."""
    now = int(time.time()) if now is None else int(now)
    delta = int(ts) - now
    if delta == 0:
        return "now"
    size = abs(delta)
    seconds, unit = next((s, u) for s, u in _UNITS if size >= s)
    value = size / seconds
    text = f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 else str(int(value))
    return f"in {text} {unit}" if delta > 0 else f"{text} {unit} ago"


def human_time(ts: int, now: int | None = None) -> str:
    """``2026-11-25T18:00:00Z (in 3 h)``."""
    return f"{iso(ts)} ({relative(ts, now)})"
