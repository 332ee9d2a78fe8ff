"""The pool and miner views: ledger rows + chain snapshot → the documented JSON.

Pure composition: SQL lives in :mod:`livepool.ledger.service`, chain reads in
:mod:`.chainview`. Statistics come from the hourly counters kept at ingest, so "24 h"
means the hours overlapping the last 24 h (from the start of the hour 24 h ago to now),
and rates divide by that span. "Online" = a receipt finished within ``online_seconds``
(exact: the rig's last ``finished_at``); latency ratio = latency / duration (below 1 is
faster than real time), its percentiles and those of latency are the upper edges of
histogram buckets (:func:`livepool.quality.percentile`: never below the true value);
real-time ratio = Σ duration / Σ latency of the segments that succeeded. A rig's score is
:func:`livepool.quality.score` over the last ``selection_window_seconds`` (one scoring
function for the selection, the pool's top rigs and a miner's rigs; its docstring and
docs/rig-selection.md say how it weighs).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from livepool.accounting import commission_in_force
from livepool.api.chainview import ChainState
from livepool.config import PoolConfig, Settings
from livepool.epochs import pool_config
from livepool.ledger import Ledger
from livepool.ledger import service as servicedb
from livepool.quality import RigWindow
from livepool.quality import score as quality_score

__all__ = ["NotSeen", "active_epoch", "epoch_state", "miner_view", "payments_view", "pool_view"]

HOUR = 3_600
DAY = 86_400
WEEK = 7 * DAY
BPS = 10_000


class NotSeen(Exception):
    """The miner has no receipt, balance or payment in this pool."""


def _freshness(state: ChainState, settings: Settings, _now: float) -> dict[str, Any]:
    # Against the wall clock (the refresher's), whatever clock the view is computed at.
    stale = state.stale(time.time(), settings.chain_refresh_seconds)
    return {"updated_at": state.updated_at, "stale": stale}


def active_epoch(ledger: Ledger, state: ChainState, settings: Settings) -> int | None:
    """The epoch whose root claims verify against: the chain's active root (``None``
    before the first refresh), or, off-chain (no contract or RPC URL), the latest closed
    epoch."""
    if settings.contract and settings.rpc_url:
        return None if state.active is None else state.active.epoch
    return servicedb.latest_closed(ledger)


def epoch_state(row: dict[str, Any], state: ChainState) -> str:
    """An epoch's state from the ledger row and the chain's root events."""
    n = int(row["number"])
    if state.active is not None and state.active.epoch == n:
        return "active"
    if state.pending is not None and state.pending.epoch == n:
        return "pending"
    if n in state.accepted:
        return "superseded"
    if n in state.revoked:
        return "revoked"
    if n in state.proposed:
        return "proposed"
    return "open" if row["state"] == "open" else "closed"


def _series(series: dict[int, int], now: int) -> dict[str, list[Any]]:
    first = (now - WEEK) // HOUR * HOUR + HOUR
    hours = list(range(first, now // HOUR * HOUR + HOUR, HOUR))
    return {"t": hours, "pixels_per_second": [series.get(h, 0) / HOUR for h in hours]}


def _rig_stats(
    w: RigWindow, span: int, last_seen: int | None, now: int, online: int
) -> dict[str, Any]:
    """Statistics of one rig's (or a miner's, or the pool's) hours of the last day;
    ``span``: the seconds those hours cover up to now."""
    return {
        "pixels_per_second": w.pixels / span,
        "segments": w.segments,
        "failed": w.failed,
        "flagged": w.flagged,
        "latency_p50_ms": w.latency_ms_at(0.5),
        "latency_p95_ms": w.latency_ms_at(0.95),
        "latency_ratio_p50": w.latency_ratio(0.5),
        "latency_ratio_p95": w.latency_ratio(0.95),
        "realtime_ratio": w.ok_realtime_ratio,
        "success_rate": w.success_rate or 0.0,
        "last_seen": last_seen,
        "online": last_seen is not None and last_seen > now - online,
    }


def _total(work: servicedb.MinerWork) -> RigWindow:
    total = RigWindow()
    for w in work.rigs.values():
        total.add(w)
    return total


def _rigs(
    work: servicedb.MinerWork,
    now: int,
    online: int,
    windows: dict[tuple[str, str], RigWindow] | None = None,
) -> dict[tuple[str, str], dict[str, Any]]:
    """Per rig (``(transcoder, node)``, the node defaulting to the transcoder's address):
    the day's statistics, and the score over the selection window (0 without work in it)."""
    windows = windows or {}
    span = now - work.since
    out = {}
    for key, w in work.rigs.items():
        last_seen, region = work.seen.get(key, (None, None))
        out[key] = {
            **_rig_stats(w, span, last_seen, now, online),
            "region": region,
            "score": _score(windows.get(key)),
        }
    return out


def _score(window: RigWindow | None) -> float:
    value = None if window is None else quality_score(window)
    return 0.0 if value is None else round(value, 6)


def _windows(ledger: Ledger, settings: Settings, now: int) -> dict[tuple[str, str], RigWindow]:
    return servicedb.rig_windows(ledger, now - settings.selection_window_seconds, now)


def _config(ledger: Ledger) -> PoolConfig:
    return pool_config(ledger)


def _epoch_window(config: PoolConfig, now: int) -> dict[str, int]:
    genesis, seconds, settle = config.genesis, config.epoch_seconds, config.settle_seconds
    number = max(0, (now - genesis) // seconds)
    start = genesis + number * seconds
    return {
        "number": number,
        "start": start,
        "end": start + seconds,
        "settle_at": start + seconds + settle,
        "seconds": seconds,
        "settle_seconds": settle,
    }


def _root(info: Any) -> dict[str, Any] | None:
    if info is None:
        return None
    out = {
        "epoch": info.epoch,
        "root": info.root,
        "total": str(info.total),
        "data_hash": info.data_hash,
    }
    if info.valid_at is not None:
        out["valid_at"] = info.valid_at
    return out


def pool_view(ledger: Ledger, state: ChainState, settings: Settings, now: int) -> dict[str, Any]:
    """``GET /v1/pool``."""
    config = _config(ledger)
    window = _epoch_window(config, now)
    history = servicedb.commission_history(ledger)
    current = window["number"]
    bps = commission_in_force(current, history) if history else 0
    upcoming = [(e, b) for e, b in history if e > current]
    price = servicedb.latest_price(ledger)
    work = servicedb.pool_work(ledger, now)
    rigs = _rigs(work, now, settings.online_seconds, _windows(ledger, settings, now))
    totals = servicedb.pool_totals(ledger)
    overall = _rig_stats(_total(work), now - work.since, None, now, settings.online_seconds)
    online = servicedb.online_rigs(ledger, now - settings.online_seconds)
    recent = servicedb.hour_of(now - settings.online_seconds)
    week = servicedb.hour_of(now - WEEK)
    decode_weight = config.decode_weight
    funds: dict[str, Any] = {
        "balance": None,
        "total_claimed": None,
        "liabilities": None,
        "surplus": None,
        "solvent": None,
    }
    if state.balance is not None and state.total_claimed is not None:
        total = state.active.total if state.active else 0
        liabilities = max(0, total - state.total_claimed)
        funds = {
            "balance": str(state.balance),
            "total_claimed": str(state.total_claimed),
            "liabilities": str(liabilities),
            "surplus": str(
                state.surplus if state.surplus is not None else max(0, state.balance - liabilities)
            ),
            "solvent": state.balance >= liabilities,
        }
    top = sorted(rigs.items(), key=lambda kv: (-kv[1]["score"], -kv[1]["pixels_per_second"]))
    return {
        "chain_id": settings.chain_id,
        "contract": settings.contract,
        "explorer_url": settings.explorer_url,
        "fee_address": config.fee_address,
        "commission_bps": bps,
        "commission_next": None
        if not upcoming
        else {"commission_bps": upcoming[0][1], "effective_epoch": upcoming[0][0]},
        "penalty_multiplier": float(config.penalty_multiplier),
        "decode_weight": float(decode_weight),
        "price": None
        if price is None
        else {"price_per_unit": str(price[0]), "pixels_per_unit": str(price[1])},
        "epoch": window,
        "roots": {"active": _root(state.active), "pending": _root(state.pending)},
        "funds": funds,
        "stats": {
            "miners": totals["miners"],
            "miners_online": len({address for address, _ in online}),
            "rigs": totals["rigs"],
            "rigs_online": len(online),
            "pixels_per_second": {
                "now": sum(p for h, p in work.series.items() if h >= recent) / (now - recent),
                "day": overall["pixels_per_second"],
                "week": sum(p for h, p in work.series.items() if h >= week) / (now - week),
            },
            "segments_24h": overall["segments"],
            "failed_rate_24h": overall["failed"] / overall["segments"]
            if overall["segments"]
            else 0.0,
            "gross_unsettled": str(
                servicedb.gross_unsettled(ledger, servicedb.latest_closed(ledger), decode_weight)
            ),
            "latency_ratio_p50": overall["latency_ratio_p50"],
            "latency_ratio_p95": overall["latency_ratio_p95"],
            "paid_total": None if state.total_claimed is None else str(state.total_claimed),
        },
        "series": _series(work.series, now),
        "top_rigs": [
            {
                "address": address,
                "node": node,
                "score": r["score"],
                "pixels_per_second": r["pixels_per_second"],
                "success_rate": r["success_rate"],
                "latency_p95_ratio": r["latency_ratio_p95"],
                "realtime_ratio": r["realtime_ratio"],
            }
            for (address, node), r in top[:10]
        ],
        "chain": _freshness(state, settings, now),
    }


def selection_view(ledger: Ledger, settings: Settings, now: int) -> dict[str, Any]:
    """``GET /v1/selection``: online rigs ranked by :func:`livepool.quality.score` over
    the last ``selection_window_seconds``; ties by the rig's key, so the order is stable."""
    window = settings.selection_window_seconds
    windows = servicedb.rig_windows(ledger, now - window, now)
    online = servicedb.online_rigs(ledger, now - settings.online_seconds)
    scored = [
        (key, w, value)
        for key, w in windows.items()
        if key in online and (value := quality_score(w)) is not None
    ]
    scored.sort(key=lambda item: (-item[2], item[0]))
    return {
        "window_seconds": window,
        "rigs": [
            {
                "address": address,
                "node": node,
                "score": round(value, 6),
                "success_rate": w.success_rate,
                "latency_p50_ms": w.latency_ms_at(0.5),
                "latency_p95_ms": w.latency_ms_at(0.95),
                "realtime_ratio": w.realtime_ratio,
                "segments": w.segments,
            }
            for (address, node), w, value in scored
        ],
    }


def _iso(ts: int | None) -> str:
    if ts is None:
        return "its first receipt (none yet)"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def not_seen_detail(ledger: Ledger, address: str) -> str:
    """The 404 sentence for a miner the pool never saw."""
    since = servicedb.first_receipt_time(ledger)
    return f"miner {address} has not been seen by this pool (it has existed since {_iso(since)})"


def miner_view(
    ledger: Ledger, state: ChainState, settings: Settings, address: str, now: int
) -> dict[str, Any]:
    """``GET /v1/miners/{address}``; raises :class:`NotSeen`."""
    seen = servicedb.miner_seen(ledger, address)
    if seen is None and address not in state.payments:
        raise NotSeen(address)
    config = _config(ledger)
    active = active_epoch(ledger, state, settings)
    pending = state.pending.epoch if state.pending else None
    cumulative_by = servicedb.latest_balances(
        ledger, address, [e for e in (active, pending) if e is not None]
    )
    cumulative = cumulative_by.get(active, 0) if active is not None else 0
    in_pending = max(0, cumulative_by.get(pending, 0) - cumulative) if pending is not None else 0
    claimed = state.claimed.get(address, 0)
    claimable = max(0, cumulative - claimed)
    history = servicedb.balance_history(ledger, address)
    debt = int(history[0]["debt"]) if history else 0
    payments = payments_view(ledger, state, address, 0, 10**9)["payments"]
    pushed = sum(int(p["amount"]) for p in payments if p["kind"] == "push")
    last_closed = servicedb.latest_closed(ledger)
    window = _epoch_window(config, now)
    bps = commission_in_force(window["number"], servicedb.commission_history(ledger) or [(0, 0)])
    gross, lost = servicedb.unsettled_value(ledger, address, last_closed, config.decode_weight)
    penalty = int(lost * config.penalty_multiplier)
    earned = gross - lost
    unsettled = max(0, earned - earned * bps // BPS - penalty - debt)
    settings_row = servicedb.miner_settings(ledger, address)
    work = servicedb.miner_work(ledger, address, now)
    overall = _rig_stats(_total(work), now - work.since, None, now, settings.online_seconds)
    regions = servicedb.rig_regions(ledger, address)
    rigs = _rigs(work, now, settings.online_seconds, _windows(ledger, settings, now))
    rig_list = []
    for (_, node), r in sorted(rigs.items()):
        rig_list.append(
            {
                "node": node,
                "online": r["online"],
                "last_seen": r["last_seen"],
                "region": r["region"] or regions.get(node, (None, 0))[0],
                "pixels_per_second": r["pixels_per_second"],
                "segments": r["segments"],
                "failed": r["failed"],
                "latency_p95_ms": r["latency_p95_ms"],
                "realtime_ratio": r["realtime_ratio"],
                "score": r["score"],
            }
        )
    for node, (region, last_seen) in sorted(regions.items()):  # rigs idle for a day
        if (address, node) not in rigs:
            rig_list.append(
                {
                    "node": node,
                    "online": last_seen > now - settings.online_seconds,
                    "last_seen": last_seen,
                    "region": region,
                    "pixels_per_second": 0.0,
                    "segments": 0,
                    "failed": 0,
                    "latency_p95_ms": None,
                    "realtime_ratio": None,
                    "score": 0.0,
                }
            )
    next_payout = _next_payout(settings_row, claimable, in_pending, state, unsettled, window, now)
    first_seen, last_seen = seen if seen else (0, 0)
    return {
        "address": address,
        "first_seen": first_seen or None,  # 0: known from chain payments only
        "last_seen": last_seen or None,
        "balances": {
            "unsettled": str(unsettled),
            "in_pending_root": str(in_pending),
            "claimable_at": state.pending.valid_at if state.pending and in_pending else None,
            "cumulative": str(cumulative),
            "claimed": str(claimed),
            "claimable": str(claimable),
            "debt": str(debt),
            "pushed": str(pushed),
        },
        "settings": {**settings_row, "threshold": str(settings_row["threshold"])},
        "next_payout": next_payout,
        "stats": {
            "pixels_per_second_24h": overall["pixels_per_second"],
            "segments_24h": overall["segments"],
            "failed_24h": overall["failed"],
            "flagged_24h": overall["flagged"] + work.flagged_verdicts,
            "latency_ratio_p95": overall["latency_ratio_p95"],
        },
        "rigs": rig_list,
        "epochs": [
            {
                "epoch": int(h["epoch"]),
                "segments": int(h["segments"]),
                "failed_segments": int(h["failed_segments"]),
                **{
                    k: str(int(h[k]))
                    for k in (
                        "pixels",
                        "gross",
                        "commission",
                        "penalty",
                        "overhead",
                        "delta",
                        "cumulative",
                        "debt",
                    )
                },
            }
            for h in history
        ],
        "series": _series(work.series, now),
        "chain": _freshness(state, settings, now),
    }


def _next_payout(
    settings_row: dict[str, Any],
    claimable: int,
    in_pending: int,
    state: ChainState,
    unsettled: int,
    window: dict[str, int],
    now: int,
) -> dict[str, Any]:
    push, threshold = settings_row["mode"] == "push", int(settings_row["threshold"])
    if claimable > 0 and push and claimable >= threshold:
        return {
            "reason": "queued_push",
            "eta": None,
            "amount": str(claimable),
            "detail": "the pool will push this balance in its next payout batch",
        }
    if claimable > 0 and not push:
        return {
            "reason": "claimable",
            "eta": now,
            "amount": str(claimable),
            "detail": "claim it now from your wallet with the proof",
        }
    if in_pending > 0 and state.pending is not None:
        return {
            "reason": "challenge_window",
            "eta": state.pending.valid_at,
            "amount": str(in_pending),
            "detail": "the new root is waiting out its challenge window",
        }
    if push and claimable > 0:
        return {
            "reason": "below_threshold",
            "eta": None,
            "amount": str(claimable),
            "detail": f"the claimable balance is below your push threshold of {threshold} wei",
        }
    return {
        "reason": "epoch_open",
        "eta": window["settle_at"],
        "amount": str(unsettled),
        "detail": "the current epoch is still open; it closes after its settle time",
    }


def payments_view(
    ledger: Ledger, state: ChainState, address: str, offset: int, limit: int
) -> dict[str, Any]:
    """``GET /v1/miners/{address}/payments``: newest first."""
    everything = state.payments.get(address, [])
    pushes = servicedb.push_tx_costs(ledger) if everything else {}
    out = []
    for p in everything[offset : offset + limit]:
        push = pushes.get(p.tx_hash.lower())
        out.append(
            {
                "kind": "push" if push else "claim",
                "tx_hash": p.tx_hash,
                "block": p.block,
                "amount": str(p.amount),
                "gas_charged": str(-(-push[0] // push[1]) if push else 0),
                "time": p.time,
                "recipient": p.recipient,
            }
        )
    return {"payments": out, "total": len(everything)}
