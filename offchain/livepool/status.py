"""`livepool status`: where the pool stands, and what to do next.

Joins the ledger (epochs open and closed, chain actions not yet confirmed) and, when a
distributor is reachable, the chain (which epoch is pending until when, which is active,
the contract's balance, liabilities and surplus). :func:`pool_status` returns plain data
(times in unix seconds, amounts in wei: the ``--json`` form); :func:`render` is the
human form, with times in UTC ISO plus "in 3 h".
"""

from __future__ import annotations

import time
from typing import Any

from livepool import epochs
from livepool.chain import ROOT_EXPIRY, ZERO32, Distributor
from livepool.humantime import human_time, iso
from livepool.ledger import Ledger
from livepool.ledger import queries as ledger_queries

__all__ = ["SHOWN_EPOCHS", "is_configured", "pool_status", "render"]

#: The newest epochs listed (older ones are summarised by count).
SHOWN_EPOCHS = 10
#: As `epoch close --all-due`: more due epochs than this need a look at the genesis.
ASK_ABOVE = 3
ACTION_KINDS = ("propose", "accept", "push")


def is_configured(ledger: Ledger) -> bool:
    """Whether `livepool config` has stored a configuration in this ledger."""
    with ledger.read() as conn:
        return ledger_queries.get_meta(conn, "config") is not None


def pool_status(
    ledger: Ledger,
    distributor: Distributor | None = None,
    *,
    chain_error: str | None = None,
    now: int | None = None,
) -> dict[str, Any]:
    """Everything `livepool status` shows, as JSON-ready data (times: unix seconds)."""
    now = int(time.time()) if now is None else int(now)
    configured = is_configured(ledger)
    rows = epochs.list_epochs(ledger)
    chain: dict[str, Any] | None = None
    if distributor is not None:
        pending = distributor.pending
        chain_now = distributor.now()
        active = distributor.epoch if distributor.root != ZERO32 else None
        balance, funded, total = distributor.balance, distributor.funded, distributor.total
        claimed = max(0, funded - balance)
        owed = max(total, pending.total if pending.exists else 0)
        chain = {
            "address": distributor.address,
            "chain_id": distributor.chain_id(),
            "now": chain_now,
            "active_epoch": active,
            "active_root": "0x" + distributor.root.hex() if active is not None else None,
            "pending": (
                {
                    "epoch": pending.epoch,
                    "root": "0x" + pending.root.hex(),
                    "total": pending.total,
                    "valid_at": pending.valid_at,
                    "expires_at": pending.valid_at + ROOT_EXPIRY,
                }
                if pending.exists
                else None
            ),
            "paused": distributor.paused,
            "balance": balance,
            "funded": funded,
            "total": total,
            "liabilities": max(0, owed - claimed),
            "surplus": distributor.surplus,
        }
    listed = []
    for row in rows:
        n = int(row["number"])
        state = str(row["state"])
        entry: dict[str, Any] = {
            "number": n,
            "state": state,
            "start": int(row["start"]),
            "end": int(row["end"]),
            "root": row["root"],
            "total": None if row["total"] is None else int(row["total"]),
        }
        proposed = ledger.chain_action("propose", f"epoch:{n}")
        if proposed is not None and proposed["state"] == "confirmed":
            entry["state"] = "proposed"
        if chain is not None:
            if chain["pending"] and chain["pending"]["epoch"] == n:
                entry["state"] = "pending"
                entry["valid_at"] = chain["pending"]["valid_at"]
            elif chain["active_epoch"] == n:
                entry["state"] = "active"
            elif (
                chain["active_epoch"] is not None
                and n < chain["active_epoch"]
                and (entry["state"] in ("proposed", "closed"))
            ):
                entry["state"] = "superseded" if entry["state"] == "closed" else "accepted"
        listed.append(entry)
    unconfirmed = [
        {
            "kind": kind,
            "key": a["key"],
            "state": a["state"],
            "tx_hash": a["tx_hash"],
            "block": a["block"],
            "updated_at": int(a["updated_at"]),
        }
        for kind in ACTION_KINDS
        for a in ledger.chain_actions(kind, state="prepared")
    ]
    status: dict[str, Any] = {
        "now": now,
        "configured": configured,
        "epochs": listed[-SHOWN_EPOCHS:],
        "epochs_not_shown": max(0, len(listed) - SHOWN_EPOCHS),
        "due": _due(ledger, now) if configured else {"count": 0, "first": None, "last": None},
        "unconfirmed_actions": unconfirmed,
        "chain": chain,
        "chain_error": chain_error,
    }
    status["next"] = _next_steps(status)
    return status


def _due(ledger: Ledger, now: int) -> dict[str, Any]:
    due = epochs.due_epochs(ledger, now=now)
    return {"count": len(due), "first": due[0] if due else None, "last": due[-1] if due else None}


def _next_steps(s: dict[str, Any]) -> list[str]:
    steps: list[str] = []
    if not s["configured"]:
        return ["livepool config --fee-address 0x… --genesis UNIX_TIME …  (before any ingest)"]
    if s["unconfirmed_actions"]:
        steps.append(
            "chain actions are still prepared (a crash?): run any operator script "
            "(`ape run propose`, `accept`, `push`) to reconcile them with the chain"
        )
    due = s["due"]
    if due["count"] > ASK_ABOVE:
        steps.append(
            f"livepool epoch close --all-due   ({due['count']} epochs due, most of them "
            "likely empty: check the genesis in `livepool config`; it asks before closing)"
        )
    elif due["count"]:
        steps.append(f"livepool epoch close --all-due   ({due['count']} epochs due)")
    chain = s["chain"]
    if chain is None:
        steps.append(
            "connect to the chain to see the contract: "
            "livepool status --network NETWORK (and --provider-settings for a node)"
        )
        return steps
    closed = [e for e in s["epochs"] if e["state"] == "closed"]
    pending = chain["pending"]
    if pending is not None:
        if chain["now"] >= pending["valid_at"]:
            steps.append(f"ape run accept   (epoch {pending['epoch']}'s window is over)")
        else:
            steps.append(
                f"wait: epoch {pending['epoch']} becomes valid "
                f"{human_time(pending['valid_at'], chain['now'])}; then `ape run accept`"
            )
    elif closed:
        latest = closed[-1]
        if (latest["total"] or 0) > chain["funded"]:
            steps.append(
                f"ape run fund {latest['total'] - chain['funded']}   (epoch "
                f"{latest['number']}'s total exceeds what the contract was funded with)"
            )
        steps.append(f"ape run propose   (epoch {latest['number']} is closed, not proposed)")
    if chain["active_epoch"] is not None:
        steps.append("ape run push   (pays push-mode miners at/above their threshold)")
    return steps


def _eth(wei: int) -> str:
    return f"{wei} wei ({wei / 10**18:.6f} ETH)"


def render(s: dict[str, Any]) -> str:
    """The human form of :func:`pool_status`."""
    now = s["now"]
    lines = []
    if not s["configured"]:
        lines.append("ledger: not configured (run `livepool config` first)")
    lines.append("epochs:" if s["epochs"] else "epochs: none yet")
    if s["epochs_not_shown"]:
        lines.append(f"  … {s['epochs_not_shown']} earlier epochs")
    if s["epochs"]:
        lines.append(f"  {'epoch':>7}  {'state':<10}  {'window (UTC)':<44}  total (wei)")
    for e in s["epochs"]:
        window = f"{iso(e['start'])} → {iso(e['end'])}"
        total = "-" if e["total"] is None else str(e["total"])
        extra = ""
        if e.get("valid_at") is not None:
            chain_now = s["chain"]["now"] if s["chain"] else now
            extra = f"  pending until {human_time(e['valid_at'], chain_now)}"
        lines.append(f"  {e['number']:>7}  {e['state']:<10}  {window:<44}  {total}{extra}")
    if s["due"]["count"]:
        due = s["due"]
        lines.append(f"due to close: {due['count']} epochs ({due['first']}…{due['last']})")
    if s["unconfirmed_actions"]:
        lines.append("chain actions not confirmed:")
        for a in s["unconfirmed_actions"]:
            lines.append(
                f"  {a['kind']} {a['key']}: {a['state']} since {human_time(a['updated_at'], now)}"
            )
    else:
        lines.append("chain actions not confirmed: none")
    c = s["chain"]
    if c is None:
        lines.append(f"contract: not read ({s['chain_error'] or 'no chain connected'})")
    else:
        lines += [
            f"contract: {c['address']} on chain {c['chain_id']}"
            + ("  PAUSED" if c["paused"] else ""),
            f"  active epoch: {'-' if c['active_epoch'] is None else c['active_epoch']}",
            f"  balance: {_eth(c['balance'])}",
            f"  liabilities: {_eth(c['liabilities'])}",
            f"  surplus: {_eth(c['surplus'])}",
        ]
    lines.append("next:")
    lines += [f"  {step}" for step in s["next"]] or ["  nothing to do"]
    return "\n".join(lines)
