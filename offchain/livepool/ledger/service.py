"""The service's SQL: every query the HTTP API runs (its tables are in :mod:`.schema`).

Reads and writes three tables of schema version 3: orchestrator tokens (only a
SHA-256 of each secret is stored), the audit trail of signed payout-settings changes,
and each miner's settings nonce and gas cap. It also holds the read queries behind the
pool, miner, rig and epoch views: their work statistics read the counters kept at ingest
(``rig_hours``, ``rigs``, ``miner_value``, the latest price: :mod:`.counters`), never a
scan of ``receipts``; only verdicts (rare) are joined to their receipts by primary key.
The routes never contain SQL; this module never speaks HTTP. Amounts come back as
``int`` (wei), never floats.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final

from sqlalchemy import (
    Connection,
    func,
    select,
)

from livepool.errors import LedgerError
from livepool.ledger import counters
from livepool.ledger.database import Ledger
from livepool.ledger.schema import (
    RATIO_BUCKETS,
    api_tokens,
    balances,
    commission_changes,
    miner_value,
    nodes,
    payout_settings,
    push_batches,
    receipts,
    rig_hours,
    rigs,
    settings_nonces,
    settings_signatures,
    verdicts,
)
from livepool.ledger.schema import epochs_table as epochs
from livepool.quality import RigWindow

__all__ = [
    "MinerWork",
    "TokenInfo",
    "balance_history",
    "create_token",
    "epoch_page",
    "first_receipt_time",
    "gross_unsettled",
    "hour_of",
    "latest_balances",
    "list_tokens",
    "miner_seen",
    "miner_settings",
    "miner_work",
    "online_rigs",
    "pool_totals",
    "pool_work",
    "push_tx_costs",
    "revoke_token",
    "rig_windows",
    "save_signed_settings",
    "unsettled_value",
    "verify_token",
]

# --- tokens -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token's public facts (never its secret)."""

    token_id: str
    orchestrator: str
    name: str
    created_at: int
    revoked_at: int | None


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(ledger: Ledger, orchestrator: str, name: str = "") -> tuple[str, TokenInfo]:
    """Create a token for ``orchestrator`` (checksummed); return the secret token (shown
    once) and its facts."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    info = TokenInfo(token_id, orchestrator, name, int(time.time()), None)
    with ledger.transaction() as conn:
        conn.execute(
            api_tokens.insert().values(
                token_id=token_id,
                orchestrator=orchestrator,
                name=name,
                secret_sha256=_sha(secret),
                created_at=info.created_at,
            )
        )
    return f"lp_{token_id}_{secret}", info


def list_tokens(ledger: Ledger) -> list[TokenInfo]:
    """Every token, oldest first."""
    t = api_tokens.c
    with ledger.read() as conn:
        rows = conn.execute(
            select(t.token_id, t.orchestrator, t.name, t.created_at, t.revoked_at).order_by(
                t.created_at, t.token_id
            )
        )
        return [TokenInfo(*row) for row in rows]


def revoke_token(ledger: Ledger, token_id: str) -> bool:
    """Revoke a token; ``False`` when no live token has that id."""
    t = api_tokens.c
    with ledger.transaction() as conn:
        done = conn.execute(
            api_tokens.update()
            .where(t.token_id == token_id, t.revoked_at.is_(None))
            .values(revoked_at=int(time.time()))
        ).rowcount
    return bool(done)


def verify_token(ledger: Ledger, token: str) -> str | None:
    """The orchestrator a live token belongs to, or ``None``."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "lp" or len(parts[1]) != 16:
        return None
    t = api_tokens.c
    with ledger.read() as conn:
        row = conn.execute(
            select(t.orchestrator, t.secret_sha256, t.revoked_at).where(t.token_id == parts[1])
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_sha256, _sha(parts[2])):
        return None
    return str(row.orchestrator)


# --- payout settings ---------------------------------------------------------------------


def miner_settings(ledger: Ledger, address: str) -> dict[str, Any]:
    """A miner's payout settings: mode, threshold, gas cap, nonce, updated_at."""
    p, n = payout_settings.c, settings_nonces.c
    with ledger.read() as conn:
        row = conn.execute(
            select(p.mode, p.threshold, p.updated_at).where(p.address == address)
        ).first()
        nonce = conn.execute(select(n.nonce, n.gas_cap_bps).where(n.address == address)).first()
    return {
        "mode": row.mode if row else "claim",
        "threshold": int(row.threshold) if row else 0,
        "gas_cap_bps": nonce.gas_cap_bps if nonce else None,
        "nonce": int(nonce.nonce) if nonce else 0,
        "updated_at": int(row.updated_at) if row else None,
    }


def save_signed_settings(
    ledger: Ledger,
    *,
    address: str,
    mode: str,
    threshold: int,
    gas_cap_bps: int,
    nonce: int,
    deadline: int,
    chain_id: int,
    contract: str,
    signature: str,
    now: int,
) -> bool:
    """Store a verified settings change, its nonce and its signature in one transaction.

    ``False`` (nothing changed) when ``nonce`` is not the stored nonce + 1 — also when a
    concurrent request used it first: the nonce row is locked, or written by one writer.
    """
    n = settings_nonces.c
    p = payout_settings.c
    with ledger.transaction() as conn:
        stored = conn.execute(
            select(n.nonce).where(n.address == address).with_for_update()
        ).scalar()
        if nonce != (0 if stored is None else int(stored)) + 1:
            return False
        values = {"nonce": nonce, "gas_cap_bps": gas_cap_bps or None, "updated_at": now}
        if stored is None:
            conn.execute(settings_nonces.insert().values(address=address, **values))
        else:
            conn.execute(settings_nonces.update().where(n.address == address).values(**values))
        row = {"mode": mode, "threshold": threshold, "updated_at": now}
        if not conn.execute(
            payout_settings.update().where(p.address == address).values(**row)
        ).rowcount:
            conn.execute(payout_settings.insert().values(address=address, **row))
        conn.execute(
            settings_signatures.insert().values(
                address=address,
                nonce=nonce,
                mode=mode,
                threshold=threshold,
                gas_cap_bps=gas_cap_bps,
                deadline=deadline,
                chain_id=chain_id,
                contract=contract,
                signature=signature,
                received_at=now,
            )
        )
    return True


# --- epochs and balances -------------------------------------------------------------------


def epoch_page(ledger: Ledger, limit: int, before: int | None) -> list[dict[str, Any]]:
    """Epochs newest first (``number < before``), with their miner-line counts."""
    e = epochs.c
    miners = (
        select(func.count())
        .where(balances.c.epoch == e.number, balances.c.role == "miner")
        .scalar_subquery()
    )
    query = (
        select(
            e.number,
            e.start,
            e.end,
            e.state,
            e.root,
            e.data_hash,
            e.total,
            e.closed_at,
            miners.label("miners"),
        )
        .order_by(e.number.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(e.number < before)
    with ledger.read() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def closed_epoch(ledger: Ledger, number: int) -> dict[str, Any] | None:
    """One closed epoch's row (statement included), or ``None`` (unknown or open)."""
    with ledger.read() as conn:
        row = conn.execute(select(epochs).where(epochs.c.number == number)).first()
    if row is None or row.state == "open":
        return None
    return dict(row._mapping)


def latest_closed(ledger: Ledger) -> int | None:
    """The number of the last closed epoch."""
    with ledger.read() as conn:
        return ledger.last_closed(conn)


def balance_history(ledger: Ledger, address: str, limit: int = 200) -> list[dict[str, Any]]:
    """A miner's balance lines, newest epoch first."""
    b = balances.c
    with ledger.read() as conn:
        rows = conn.execute(
            select(balances).where(b.address == address).order_by(b.epoch.desc()).limit(limit)
        )
        return [dict(r._mapping) for r in rows]


def latest_balances(ledger: Ledger, address: str, epochs_: Iterable[int]) -> dict[int, int]:
    """``{epoch: cumulative}`` for the given epochs where ``address`` has a line."""
    wanted = sorted({e for e in epochs_ if e is not None})
    if not wanted:
        return {}
    b = balances.c
    with ledger.read() as conn:
        rows = conn.execute(
            select(b.epoch, b.cumulative).where(b.address == address, b.epoch.in_(wanted))
        )
        return {int(e): int(c) for e, c in rows}


def miner_seen(ledger: Ledger, address: str) -> tuple[int, int] | None:
    """``(first_seen, last_seen)`` over the miner's receipts (finished_at), or ``None``."""
    g = rigs.c
    with ledger.read() as conn:
        row = conn.execute(
            select(func.min(g.first_seen), func.max(g.last_seen)).where(g.transcoder == address)
        ).first()
        if row is None or row[0] is None:
            in_balances = conn.execute(
                select(func.count()).where(balances.c.address == address)
            ).scalar()
            return (0, 0) if in_balances else None
    return int(row[0]), int(row[1])


def first_receipt_time(ledger: Ledger) -> int | None:
    """When the pool first saw work (the earliest ``received_at``)."""
    with ledger.read() as conn:
        value = conn.execute(select(func.min(rigs.c.first_received))).scalar()
    return None if value is None else int(value)


def _open_values(
    conn: Connection, after_epoch: int | None, address: str | None
) -> list[tuple[int, str, int, int, int]]:
    """``miner_value`` rows credited after ``after_epoch``: ``(epoch, miner, ppu,
    encoded value, decoded value)``; summed in Python (on SQLite they are decimal text)."""
    v = miner_value.c
    where = [v.credited_epoch > (-1 if after_epoch is None else after_epoch)]
    if address is not None:
        where.append(v.transcoder == address)
    rows = conn.execute(
        select(v.credited_epoch, v.transcoder, v.pixels_per_unit, v.encoded_value, v.decoded_value)
        .where(*where)
    )  # fmt: skip
    return [(int(e), str(t), int(p), int(enc), int(dec)) for e, t, p, enc, dec in rows]


def unsettled_value(
    ledger: Ledger, address: str, after_epoch: int | None, decode_weight: Fraction
) -> tuple[int, int]:
    """Gross value (wei, floored once) and failed-verdict value of ``address``'s receipts
    credited after ``after_epoch`` (the open epochs): ``(gross, penalised_value)``.

    The gross comes from the ``miner_value`` counters; the failed-verdict part joins the
    (rare) verdicts to their receipts by primary key."""
    r = receipts.c
    start = -1 if after_epoch is None else after_epoch
    ok = (r.status == "ok") & r.flagged.is_(None)
    failed = (
        select(r.price_per_unit, r.pixels_per_unit, r.pixels_encoded, r.pixels_decoded)
        .select_from(verdicts.join(receipts, verdicts.c.receipt_id == r.id))
        .where(verdicts.c.charged_epoch > start, r.transcoder == address, ok)
    )
    gross = Fraction(0)
    lost = Fraction(0)
    with ledger.read() as conn:
        for _, _, ppu, enc, dec in _open_values(conn, after_epoch, address):
            gross += Fraction(enc + decode_weight * dec, ppu)
        for price, ppu, enc, dec in conn.execute(failed):
            lost += Fraction((int(enc) + decode_weight * int(dec)) * int(price), int(ppu))
    return int(gross), int(lost)


def gross_unsettled(ledger: Ledger, after_epoch: int | None, decode_weight: Fraction) -> int:
    """The pool's gross (wei) in the epochs credited after ``after_epoch`` (those not yet
    closed): Σ over (epoch, miner) of ⌊Σ billable pixels × price / pixels_per_unit⌋ of
    the ok, plausible receipts, as the closes will credit it before verdicts."""
    per_miner: dict[tuple[int, str], Fraction] = defaultdict(Fraction)
    with ledger.read() as conn:
        for epoch, miner, ppu, enc, dec in _open_values(conn, after_epoch, None):
            per_miner[(epoch, miner)] += Fraction(enc + decode_weight * dec, ppu)
    return sum(int(value) for value in per_miner.values())


# --- work statistics -----------------------------------------------------------------------

HOUR: Final = 3_600
WEEK: Final = 7 * 86_400


def hour_of(t: int) -> int:
    """The start of the hour ``t`` falls in: the key of ``rig_hours``."""
    return t - t % HOUR


@dataclass(slots=True)
class MinerWork:
    """A miner's (or the pool's) work from the hourly counters.

    ``rigs``: per rig, the sums of the hours overlapping the window (from ``since``, the
    start of the first hour, to ``until``); ``seen``: per rig of ``rigs``, its last
    ``finished_at`` ever and region (from ``rigs``); ``series``: hour start → pixels of
    the ok segments, for the hours overlapping the last 7 days."""

    since: int
    until: int
    rigs: dict[tuple[str, str], RigWindow]
    seen: dict[tuple[str, str], tuple[int, str | None]]
    flagged_verdicts: int
    series: dict[int, int]


_HOUR_SUMS: Final = tuple(rig_hours.c[name] for name in counters.HOUR_SUMS)
_N_RATIO: Final = len(RATIO_BUCKETS)


def _windows(conn: Connection, since: int, until: int, *where: Any) -> dict[Any, RigWindow]:
    h = rig_hours.c
    query = (
        select(h.transcoder, h.node, *(func.sum(c) for c in _HOUR_SUMS))
        .where(h.hour >= hour_of(since), h.hour <= until, *where)
        .group_by(h.transcoder, h.node)
    )
    out: dict[Any, RigWindow] = {}
    for transcoder, node, *sums in conn.execute(query):
        (segments, failed, flagged, pixels, duration, latency, ok_duration, ok_latency,
         *hist) = (int(x) for x in sums)  # fmt: skip
        out[(transcoder, node)] = RigWindow(
            segments=segments,
            failed=failed,
            pixels=pixels,
            duration_ms=duration,
            latency_ms=latency,
            ratio_hist=hist[:_N_RATIO],
            ms_hist=hist[_N_RATIO:],
            flagged=flagged,
            ok_duration_ms=ok_duration,
            ok_latency_ms=ok_latency,
        )
    return out


def _seen(conn: Connection, *where: Any) -> dict[tuple[str, str], tuple[int, str | None]]:
    g = rigs.c
    rows = conn.execute(select(g.transcoder, g.node, g.last_seen, g.region).where(*where))
    return {(t, n): (int(last), region) for t, n, last, region in rows}


def _series(conn: Connection, now: int, *where: Any) -> dict[int, int]:
    h = rig_hours.c
    query = (
        select(h.hour, func.sum(h.pixels))
        .where(h.hour >= hour_of(now - WEEK), h.hour <= now, *where)
        .group_by(h.hour)
    )
    return {int(hour): int(p) for hour, p in conn.execute(query)}


def miner_work(ledger: Ledger, address: str, now: int, window: int = 86_400) -> MinerWork:
    """One miner's rigs over the hours overlapping ``(now - window, now]``, the verdicts
    against it received in that window, and its 7-day hourly series."""
    r = receipts.c
    since = now - window
    with ledger.read() as conn:
        windows = _windows(conn, since, now, rig_hours.c.transcoder == address)
        seen = _seen(conn, rigs.c.transcoder == address)
        # Verdicts (rare) drive, each receipt found by its key: a join would let the
        # planner scan receipts for the miner, which no index serves.
        miner = select(r.transcoder).where(r.id == verdicts.c.receipt_id).scalar_subquery()
        flagged = conn.execute(
            select(func.count())
            .select_from(verdicts)
            .where(verdicts.c.received_at > since, miner == address)
        ).scalar()
        series = _series(conn, now, rig_hours.c.transcoder == address)
    return MinerWork(
        hour_of(since), now, windows, {k: seen[k] for k in windows}, int(flagged or 0), series
    )


def pool_work(ledger: Ledger, now: int, window: int = 86_400) -> MinerWork:
    """Every rig over the hours overlapping ``(now - window, now]``, and the pool's
    7-day hourly series."""
    since = now - window
    with ledger.read() as conn:
        windows = _windows(conn, since, now)
        seen = _seen(conn)
        series = _series(conn, now)
    return MinerWork(hour_of(since), now, windows, {k: seen[k] for k in windows}, 0, series)


def online_rigs(ledger: Ledger, since: int) -> set[tuple[str, str]]:
    """The rigs whose latest receipt finished after ``since`` (``rigs.last_seen``)."""
    g = rigs.c
    with ledger.read() as conn:
        rows = conn.execute(select(g.transcoder, g.node).where(g.last_seen > since))
        return {(t, n) for t, n in rows}


def rig_windows(ledger: Ledger, since: int, until: int) -> dict[tuple[str, str], RigWindow]:
    """Each rig's work over the hours overlapping ``(since, until]`` (from the start of the
    hour ``since`` falls in), keyed by ``(transcoder, node)`` (the node is the
    transcoder's address when a receipt names none). A failed segment, or one flagged
    implausible at ingest, counts as failed. Sums of ``rig_hours``: no receipt is read."""
    with ledger.read() as conn:
        return _windows(conn, since, until)


def pool_totals(ledger: Ledger) -> dict[str, int]:
    """Miners and rigs the pool has ever seen."""
    g = rigs.c
    with ledger.read() as conn:
        miners = conn.execute(select(func.count(func.distinct(g.transcoder)))).scalar()
        count = conn.execute(select(func.count()).select_from(rigs)).scalar()
    return {"miners": int(miners or 0), "rigs": int(count or 0)}


def rig_regions(ledger: Ledger, address: str) -> dict[str, tuple[str | None, int]]:
    """Rig status rows (Open Pool events): ``{node: (region, last_seen)}``."""
    with ledger.read() as conn:
        rows = conn.execute(
            select(nodes.c.node, nodes.c.region, nodes.c.last_seen).where(
                nodes.c.address == address
            )
        )
        return {n: (reg, int(seen)) for n, reg, seen in rows}


def push_tx_costs(ledger: Ledger) -> dict[str, tuple[int, int]]:
    """``{tx_hash (lower-case): (gas cost wei, miners in the batch)}`` of recorded pushes."""
    p = push_batches.c
    with ledger.read() as conn:
        rows = conn.execute(select(p.tx_hash, p.gas_cost, p.miners))
        return {
            str(tx).lower(): (int(cost), max(1, len(json.loads(miners))))
            for tx, cost, miners in rows
        }


def group_rows(rows: Iterable[tuple[Any, ...]], key: int) -> dict[Any, list[tuple[Any, ...]]]:
    """Rows grouped by the column at ``key``."""
    out: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


def check_ledger(ledger: Ledger) -> bool:
    """``True`` when the ledger answers a trivial query."""
    try:
        with ledger.read() as conn:
            conn.execute(select(func.count()).select_from(epochs).where(epochs.c.number < 0))
        return True
    except LedgerError:
        return False


def commission_history(ledger: Ledger) -> list[tuple[int, int]]:
    """``[(effective_epoch, bps)]``, oldest first."""
    t = commission_changes.c
    with ledger.read() as conn:
        rows = conn.execute(select(t.effective_epoch, t.commission_bps).order_by(t.effective_epoch))
        return [(int(e), int(b)) for e, b in rows]


def latest_price(ledger: Ledger) -> tuple[int, int] | None:
    """``(price_per_unit, pixels_per_unit)`` of the most recently received receipt (kept
    at ingest: :func:`livepool.ledger.counters.latest_price`)."""
    with ledger.read() as conn:
        return counters.latest_price(conn)


def receipt_orchestrators(ledger: Ledger, ids: Sequence[str]) -> dict[str, str]:
    """``{receipt id: orchestrator}`` of the stored receipts among ``ids``."""
    r = receipts.c
    out: dict[str, str] = {}
    with ledger.read() as conn:
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            rows = conn.execute(select(r.id, r.orchestrator).where(r.id.in_(part)))
            out.update((str(i), str(o)) for i, o in rows)
    return out
