"""A deterministic, realistic pool: receipts and verdicts for demos, tests and benchmarks.

The same ``(miners, receipts, seed, start, days)`` always gives the same output, byte for
byte. No I/O except :func:`write_jsonl`.

The model:

- ``miners`` payout addresses (derived from the seed), each with 1–4 rigs (``node`` =
  ``m<miner>-rig<k>``) in one of a few regions; each rig has 1–4 GPUs of a model with a
  real-time capacity (how many 1080p30 ladders it transcodes at once, 4–16).
- Streams: a 1080p30 source in 2-second segments (60 frames). Decoded pixels per
  segment = 1920 × 1080 × 60 = **124,416,000**. Ladders (encoded pixels per segment):

  ========================  ===========================================  ==============
  ladder                    pixels per frame                              per segment
  ========================  ===========================================  ==============
  720p30 / 480p30 / 360p30  1280×720 + 854×480 + 640×360 = 1,561,920      **93,715,200**
  720p30                    1280×720 = 921,600                             55,296,000
  480p30 / 360p30           854×480 + 640×360 = 640,320                    38,419,200
  ========================  ===========================================  ==============

  70 % of streams use the full ladder (DESIGN.md's "≈93.7 M encoded pixels"), 20 % 720p
  only, 10 % 480p + 360p. Each receipt carries ``profiles`` and ``renditions``
  (``width × height × 60`` pixels each, so every simulated receipt is plausible).
- Prices: each stream a broadcaster's fixed price of 1,000–1,500 wei per pixel; 85 % with
  ``pixels_per_unit = 1``, the rest quoted per 2, 3 or 4 pixels (price scaled to match).
- Outcomes: 3 % of segments ``failed`` (no pay); 0.5 % fail verification later (a verdict
  line, emitted up to a few hundred lines after its receipt). Latency is the segment's
  2 s over the rig's real-time ratio (jittered); ratios 1–8.
- Arrival: lines are in arrival order; 1 % of receipts arrive late — their
  ``finished_at`` is 0.5–1.5 epochs (``epoch_seconds``) earlier — and 0.5 % of lines are
  sent twice (an identical copy, later).

Output: JSON lines, a receipt object per line, a verdict as ``{"verdict": {...}}``
(:mod:`livepool.ingest` reads both from one file).
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from livepool.errors import ValidationError
from livepool.hashing import checksum_address, keccak256

__all__ = [
    "DECODED_PIXELS",
    "LADDERS",
    "SimulationStats",
    "simulate",
    "write_jsonl",
]

FRAMES: Final = 60  # 2-second segments at 30 fps
SEGMENT_MS: Final = 2_000
#: 1080p30 source pixels decoded per segment.
DECODED_PIXELS: Final = 1920 * 1080 * FRAMES
_RENDITIONS: Final = {"720p30": (1280, 720), "480p30": (854, 480), "360p30": (640, 360)}
#: (share of streams, profiles); pixels per segment = Σ width × height × 60.
LADDERS: Final = (
    (0.7, ("720p30", "480p30", "360p30")),
    (0.2, ("720p30",)),
    (0.1, ("480p30", "360p30")),
)
_GPUS: Final = (("GTX 1070", 4), ("RTX 2060", 6), ("RTX 3070", 10), ("RTX 3090", 14), ("A4000", 16))
_REGIONS: Final = ("fra", "nyc", "lax", "sin", "lon")
#: 2025-11-25T00:00:00Z, the default start (same as the fixtures).
DEFAULT_START: Final = 1_764_028_800


@dataclass
class SimulationStats:
    """What a simulation produced."""

    receipts: int = 0  # receipt lines, duplicates included
    verdicts: int = 0
    duplicates: int = 0
    late: int = 0
    failed: int = 0
    miners: int = 0
    rigs: int = 0

    def summary(self) -> str:
        """One line for the CLI."""
        return (
            f"{self.receipts} receipts ({self.duplicates} duplicated, {self.late} late, "
            f"{self.failed} failed), {self.verdicts} verdicts, "
            f"{self.miners} miners, {self.rigs} rigs"
        )


def _address(seed: int, kind: str, index: int) -> str:
    return checksum_address("0x" + keccak256(f"{seed}:{kind}:{index}".encode())[-20:].hex())


def simulate(
    miners: int,
    receipts: int,
    *,
    seed: int = 0,
    start: int = DEFAULT_START,
    days: float = 1.0,
    epoch_seconds: int = 86_400,
    stats: SimulationStats | None = None,
    addresses: Sequence[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield ``receipts`` receipt dicts (and verdict dicts ``{"verdict": …}``) in arrival
    order, finishing over ``days`` from ``start``. See the module docstring.

    ``addresses``: the miners' payout addresses (one per miner), for a demo or test whose
    miners hold keys; by default they are derived from the seed."""
    if miners < 1 or receipts < 0 or days <= 0:
        raise ValidationError("simulate: need miners ≥ 1, receipts ≥ 0 and days > 0")
    if addresses is not None and len(addresses) != miners:
        raise ValidationError(f"simulate: {len(addresses)} addresses for {miners} miners")
    stats = stats if stats is not None else SimulationStats()
    rng = random.Random(seed)
    orchestrator = _address(seed, "orchestrator", 0)
    broadcasters = [_address(seed, "broadcaster", i) for i in range(8)]
    rigs = _rigs(rng, seed, miners, addresses)
    # Work goes to rigs in proportion to capacity (cumulative weights: O(log n) per pick).
    weights = list(itertools.accumulate(r[3] for r in rigs))
    stats.miners, stats.rigs = miners, len(rigs)
    streams = _streams(rng, max(1, receipts // 600), broadcasters)

    step = days * 86_400 / max(receipts, 1)
    random_ = rng.random
    pending: list[tuple[int, dict[str, Any]]] = []  # (emit at line, item): verdicts, dupes
    for line in range(1, receipts + 1):
        stream = streams[int(random_() * len(streams))]
        rig = rigs[min(bisect.bisect_right(weights, random_() * weights[-1]), len(rigs) - 1)]
        finished = start + int((line - 1) * step)
        receipt, late = _receipt(rng, stream, rig, orchestrator, finished, start, epoch_seconds)
        stats.late += late
        failed = receipt["status"] == "failed"
        stats.failed += failed
        stats.receipts += 1
        yield receipt
        if not failed and random_() < 0.005:
            verdict = {"receipt_id": receipt["id"], "ok": False, "reason": "hash mismatch"}
            pending.append((line + rng.randint(1, 300), {"verdict": verdict}))
        if random_() < 0.005:
            pending.append((line + rng.randint(1, 300), receipt))
        if (pending and pending[0][0] <= line) or len(pending) > 64:
            pending.sort(key=lambda p: p[0])
            while pending and (pending[0][0] <= line or len(pending) > 64):
                yield from _emit(pending.pop(0)[1], stats)
    for _, item in sorted(pending, key=lambda p: p[0]):
        yield from _emit(item, stats)


#: A rig: (miner address, node, region, capacity = Σ GPU real-time multiples).
_Rig = tuple[str, str, str, int]


def _rigs(
    rng: random.Random, seed: int, miners: int, addresses: Sequence[str] | None
) -> list[_Rig]:
    rigs: list[_Rig] = []
    for m in range(miners):
        address = checksum_address(addresses[m]) if addresses else _address(seed, "miner", m)
        region = rng.choice(_REGIONS)
        for k in range(rng.randint(1, 4)):
            capacity = sum(rng.choice(_GPUS)[1] for _ in range(rng.randint(1, 4)))
            rigs.append((address, f"m{m}-rig{k}", region, capacity))
    return rigs


def _streams(rng: random.Random, count: int, broadcasters: list[str]) -> list[dict[str, Any]]:
    """Streams: ladder, price, broadcaster; a segment picks a stream then a rig."""
    ladder_weights = [w for w, _ in LADDERS]
    streams: list[dict[str, Any]] = []
    for _ in range(count):
        profiles = rng.choices([p for _, p in LADDERS], ladder_weights)[0]
        renditions: list[dict[str, Any]] = [
            {
                "fps": 30,
                "height": _RENDITIONS[p][1],
                "pixels": _RENDITIONS[p][0] * _RENDITIONS[p][1] * FRAMES,
                "profile": p,
                "width": _RENDITIONS[p][0],
            }
            for p in profiles
        ]
        per_pixel = rng.randint(1_000, 1_500)
        ppu = 1 if rng.random() < 0.85 else rng.choice((2, 3, 4))
        price = per_pixel * ppu + (rng.randrange(ppu) if ppu > 1 else 0)
        streams.append(
            {
                "stream": f"{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "profiles": list(profiles),
                "renditions": renditions,
                "pixels_encoded": sum(r["pixels"] for r in renditions),
                "price_per_unit": price,
                "pixels_per_unit": ppu,
                "broadcaster": rng.choice(broadcasters),
                "seq": 0,
            }
        )
    return streams


def _receipt(
    rng: random.Random,
    stream: dict[str, Any],
    rig: _Rig,
    orchestrator: str,
    finished: int,
    start: int,
    epoch_seconds: int,
) -> tuple[dict[str, Any], bool]:
    """One segment's receipt, and whether it finished late: about 1 % are reported half an
    epoch or more after they finished (never before ``start``)."""
    random_ = rng.random
    address, node, region, capacity = rig
    late = random_() < 0.01 and finished - start >= epoch_seconds // 2
    if late:
        finished = max(finished - int(epoch_seconds * (0.5 + random_())), start)
    ratio = max(1.0, min(8.0, capacity / 3 * (0.6 + 0.8 * random_())))
    failed = random_() < 0.03
    seq = stream["seq"]
    stream["seq"] = seq + 1
    receipt = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "orchestrator": orchestrator,
        "transcoder": address,
        "stream": stream["stream"],
        "seq": seq,
        "finished_at": finished,
        "duration_ms": SEGMENT_MS,
        "latency_ms": int(SEGMENT_MS / ratio * (0.8 + 0.4 * random_())),
        "pixels_decoded": DECODED_PIXELS,
        "pixels_encoded": stream["pixels_encoded"],
        "price_per_unit": stream["price_per_unit"],
        "pixels_per_unit": stream["pixels_per_unit"],
        "status": "failed" if failed else "ok",
        "profiles": stream["profiles"],
        "renditions": stream["renditions"],
        "node": node,
        "region": region,
        "broadcaster": stream["broadcaster"],
    }
    return receipt, late


def _emit(item: dict[str, Any], stats: SimulationStats) -> Iterator[dict[str, Any]]:
    if "verdict" in item:
        stats.verdicts += 1
    else:
        stats.duplicates += 1
        stats.receipts += 1
    yield item


def write_jsonl(path: str | Path, miners: int, receipts: int, **options: Any) -> SimulationStats:
    """Write a simulation to ``path`` as JSON lines; return its stats. ``options``: those
    of :func:`simulate` (``seed``, ``start``, ``days``, ``epoch_seconds``, …)."""
    stats = SimulationStats()
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    with open(path, "w", encoding="utf-8") as out:
        write = out.write
        batch: list[str] = []
        for item in simulate(miners, receipts, stats=stats, **options):
            batch.append(dumps(item))
            if len(batch) >= 10_000:
                write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            write("\n".join(batch) + "\n")
    return stats
