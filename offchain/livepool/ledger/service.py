"""The service's SQL: every query the HTTP API runs (its tables are in :mod:`.schema`).

Reads and writes three tables of schema version 3: orchestrator tokens (only a
SHA-256 of each secret is stored), the audit trail of signed payout-settings changes,
and each miner's settings nonce and gas cap. It also holds the read queries behind the
pool, miner, rig and epoch views. The routes never contain SQL; this module never
speaks HTTP. Amounts come back as ``int`` (wei), never floats.
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
from livepool.ledger.database import Ledger
from livepool.ledger.schema import (
    api_tokens,
    balances,
    commission_changes,
    nodes,
    payout_settings,
    push_batches,
    receipts,
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
    "latest_balances",
    "list_tokens",
    "miner_seen",
    "miner_settings",
    "miner_work",
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
    r = receipts.c
    with ledger.read() as conn:
        row = conn.execute(
            select(func.min(r.finished_at), func.max(r.finished_at)).where(r.transcoder == address)
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
        value = conn.execute(select(func.min(receipts.c.received_at))).scalar()
    return None if value is None else int(value)


def unsettled_value(
    ledger: Ledger, address: str, after_epoch: int | None, decode_weight: Fraction
) -> tuple[int, int]:
    """Gross value (wei, floored once) and failed-verdict value of ``address``'s receipts
    credited after ``after_epoch`` (the open epochs): ``(gross, penalised_value)``."""
    r = receipts.c
    start = -1 if after_epoch is None else after_epoch
    ok = (r.status == "ok") & r.flagged.is_(None)
    query = (
        select(
            r.price_per_unit,
            r.pixels_per_unit,
            func.sum(r.pixels_encoded),
            func.sum(r.pixels_decoded),
        )
        .where(r.credited_epoch > start, r.transcoder == address, ok)
        .group_by(r.price_per_unit, r.pixels_per_unit)
    )
    failed = (
        select(r.price_per_unit, r.pixels_per_unit, r.pixels_encoded, r.pixels_decoded)
        .select_from(verdicts.join(receipts, verdicts.c.receipt_id == r.id))
        .where(verdicts.c.charged_epoch > start, r.transcoder == address, ok)
    )
    gross = Fraction(0)
    lost = Fraction(0)
    with ledger.read() as conn:
        for price, ppu, enc, dec in conn.execute(query):
            gross += Fraction((int(enc) + decode_weight * int(dec)) * int(price), int(ppu))
        for price, ppu, enc, dec in conn.execute(failed):
            lost += Fraction((int(enc) + decode_weight * int(dec)) * int(price), int(ppu))
    return int(gross), int(lost)


# --- work statistics -----------------------------------------------------------------------


@dataclass(slots=True)
class MinerWork:
    """A miner's (or the pool's) receipts in a window, as plain rows for statistics."""

    rows: list[tuple[Any, ...]]  # (transcoder, node, region, finished_at, duration_ms,
    #                               latency_ms, pixels_encoded, status, flagged)
    flagged_verdicts: int
    series: dict[int, int]  # hour start -> pixels encoded (ok segments)


_WORK_COLUMNS: Final = (
    receipts.c.transcoder,
    receipts.c.node,
    receipts.c.region,
    receipts.c.finished_at,
    receipts.c.duration_ms,
    receipts.c.latency_ms,
    receipts.c.pixels_encoded,
    receipts.c.status,
    receipts.c.flagged,
)


def _series(conn: Connection, where: Sequence[Any], since: int) -> dict[int, int]:
    r = receipts.c
    hour = (r.finished_at // 3600).label("hour")
    query = (
        select(hour, func.sum(r.pixels_encoded))
        .where(*where, r.finished_at >= since, r.status == "ok")
        .group_by(hour)
    )
    return {int(h) * 3600: int(p) for h, p in conn.execute(query)}


def _window(ledger: Ledger, conn: Connection, since: int) -> int:
    """The first epoch a receipt finished at ``since`` or later can be credited to."""
    config = ledger.read_config(conn)
    return max(0, (since - config.genesis) // config.epoch_seconds)


def miner_work(ledger: Ledger, address: str, now: int, window: int = 86_400) -> MinerWork:
    """One miner's receipts finished in ``(now - window, now]`` and a 7-day hourly series."""
    r = receipts.c
    since = now - window
    with ledger.read() as conn:
        first = _window(ledger, conn, since)
        rows = conn.execute(
            select(*_WORK_COLUMNS).where(
                r.credited_epoch >= first, r.transcoder == address, r.finished_at > since
            )
        ).all()
        flagged = conn.execute(
            select(func.count())
            .select_from(verdicts.join(receipts, verdicts.c.receipt_id == r.id))
            .where(r.transcoder == address, verdicts.c.received_at > since)
        ).scalar()
        week = now - 7 * 86_400
        series = _series(
            conn, [r.credited_epoch >= _window(ledger, conn, week), r.transcoder == address], week
        )
    return MinerWork([tuple(x) for x in rows], int(flagged or 0), series)


def pool_work(ledger: Ledger, now: int, window: int = 86_400) -> MinerWork:
    """Every receipt finished in ``(now - window, now]`` and the pool's 7-day series."""
    r = receipts.c
    since = now - window
    with ledger.read() as conn:
        first = _window(ledger, conn, since)
        rows = conn.execute(
            select(*_WORK_COLUMNS).where(r.credited_epoch >= first, r.finished_at > since)
        ).all()
        week = now - 7 * 86_400
        series = _series(conn, [r.credited_epoch >= _window(ledger, conn, week)], week)
    return MinerWork([tuple(x) for x in rows], 0, series)


def rig_windows(ledger: Ledger, since: int, until: int) -> dict[tuple[str, str], RigWindow]:
    """Each rig's work over receipts finished in ``(since, until]``, keyed by
    ``(transcoder, node)`` (the node is the transcoder's address when a receipt names
    none). A failed segment, or one flagged by a verdict, counts as failed.

    Computed from the receipts for now; per-rig hourly counters can replace the body
    (same name, same signature, same answer at hour boundaries)."""
    r = receipts.c
    out: dict[tuple[str, str], RigWindow] = {}
    with ledger.read() as conn:
        first = _window(ledger, conn, since)
        rows = conn.execute(
            select(
                r.transcoder, r.node, r.status, r.flagged, r.pixels_encoded,
                r.duration_ms, r.latency_ms,
            ).where(r.credited_epoch >= first, r.finished_at > since, r.finished_at <= until)
        )  # fmt: skip
        for transcoder, node, status, flagged, pixels, duration, latency in rows:
            window = out.setdefault((transcoder, node or transcoder), RigWindow())
            window.record(
                ok=status == "ok" and flagged is None,
                pixels=int(pixels),
                duration_ms=int(duration),
                latency_ms=int(latency),
            )
    return out


def pool_totals(ledger: Ledger) -> dict[str, int]:
    """Miners and rigs the pool has ever seen."""
    r = receipts.c
    with ledger.read() as conn:
        miners = conn.execute(select(func.count(func.distinct(r.transcoder)))).scalar()
        rigs = conn.execute(
            select(func.count()).select_from(
                select(r.transcoder, r.node).group_by(r.transcoder, r.node).subquery()
            )
        ).scalar()
    return {"miners": int(miners or 0), "rigs": int(rigs or 0)}


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


def gross_since(ledger: Ledger, since: int, decode_weight: Fraction) -> int:
    """The pool's gross (wei) over receipts finished after ``since`` (ok, unflagged)."""
    r = receipts.c
    with ledger.read() as conn:
        first = _window(ledger, conn, since)
        rows = conn.execute(
            select(
                r.price_per_unit,
                r.pixels_per_unit,
                func.sum(r.pixels_encoded),
                func.sum(r.pixels_decoded),
            )
            .where(
                r.credited_epoch >= first,
                r.finished_at > since,
                r.status == "ok",
                r.flagged.is_(None),
            )
            .group_by(r.price_per_unit, r.pixels_per_unit)
        )
        total = Fraction(0)
        for price, ppu, enc, dec in rows:
            total += Fraction((int(enc) + decode_weight * int(dec)) * int(price), int(ppu))
    return int(total)


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
    """``(price_per_unit, pixels_per_unit)`` of the most recently received receipt."""
    r = receipts.c
    with ledger.read() as conn:
        row = conn.execute(
            select(r.price_per_unit, r.pixels_per_unit)
            .order_by(r.received_at.desc(), r.finished_at.desc())
            .limit(1)
        ).first()
    return None if row is None else (int(row[0]), int(row[1]))


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
