"""Epoch lifecycle: configuration, closing (open → closed), and reading closed epochs.

This module is the one place where the ledger meets the pure accounting
(:mod:`livepool.accounting`), the statement (:mod:`livepool.statement`) and the tree
(:mod:`livepool.merkle`). It owns *which* rows an epoch's accounting sees; the formulas
live in :mod:`livepool.accounting`.

Epoch ``n`` covers ``finished_at`` in ``[genesis + n·epoch_seconds, genesis +
(n+1)·epoch_seconds)`` and may be closed ``settle_seconds`` after its end. Epochs are
closed in order: the first close may be any epoch with nothing credited before it, every
later close is the one after the last closed. Closing epoch ``n``:

1. takes the epoch lock (the ``meta`` row ``last_closed``, ``FOR UPDATE``);
2. tallies the receipts credited to ``n`` (exact sums of pixels × price per miner,
   ``pixels_per_unit``, status and flag: value is linear in pixels × price, so this is
   exact) and digests them, streaming: memory grows with miners, not receipts;
3. charges the verdicts charged in ``n``: on a receipt credited to ``n`` the segment is
   not credited but penalised; on one credited to an earlier (closed) epoch it is
   penalised and clawed back;
4. splits the gas of every push batch not yet charged (:func:`split_overhead`);
5. carries each miner's cumulative and debt from the last closed epoch;
6. settles with the commission in force for ``n``, builds the statement and its root;
7. writes balances, statement, root, data hash, marks ``n`` closed and charges the push
   batches — all in the same transaction. A crash anywhere leaves ``n`` open, and a
   re-run sees the same rows and gives the same statement and root.

Closing an epoch already closed returns what was stored, changing nothing.

Pool configuration (``meta`` key ``config``): ``fee_address`` (required before the first
close), ``genesis`` (default 0), ``epoch_seconds`` (86 400), ``settle_seconds`` (3 600),
``penalty_multiplier`` ("1"), ``decode_weight`` ("0"), ``orchestrator`` (the pool
orchestrator address the Open Pool importer fills in). Commission changes are kept as a
history (``commission_changes``); a change applies from the epoch after the current one.
``genesis`` and ``epoch_seconds`` cannot change once a receipt is stored.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from livepool.accounting import (
    EpochResult,
    EpochTally,
    PoolSettings,
    settle_epoch,
    split_overhead,
)
from livepool.config import PoolConfig
from livepool.errors import EpochError, LivepoolError, ValidationError
from livepool.ledger import Ledger, queries
from livepool.merkle import MerkleTree
from livepool.statement import (
    DigestSet,
    DigestSorter,
    Statement,
    build_statement,
    canonical_bytes,
    data_hash,
    digest_set,
    load_statement,
)

__all__ = [
    "ClosedEpoch",
    "close_due",
    "close_epoch",
    "configure",
    "due_epochs",
    "epoch_statement",
    "epoch_tree",
    "list_epochs",
    "pool_config",
    "pool_settings",
]


@dataclass(frozen=True, slots=True)
class ClosedEpoch:
    """A closed epoch: its statement (canonical bytes) and what goes on-chain."""

    number: int
    root: str
    data_hash: str
    total: int
    statement: bytes
    closed_at: int
    already_closed: bool = False  # True when the close found it closed before

    @property
    def miners(self) -> int:
        """Miner lines in the statement."""
        return len(json.loads(self.statement)["miners"])


# --- configuration ------------------------------------------------------------------------


def pool_config(ledger: Ledger, conn: Connection | None = None) -> PoolConfig:
    """The pool configuration as stored (defaults before anything was configured)."""
    return ledger.read_config(conn)


def configure(
    ledger: Ledger, *, commission_bps: int | None = None, now: int | None = None, **changes: Any
) -> PoolConfig:
    """Change the pool configuration (the :class:`PoolConfig` fields given, not ``None``);
    return it, commission history included.

    Refused: a malformed value; changing ``genesis`` or ``epoch_seconds`` once receipts
    exist (they would move between epochs); a fee address some receipt pays (one account,
    two leaves). A ``commission_bps`` change applies from the epoch after the one ``now``
    falls in (or from the first epoch, if nothing was ever stored or closed).
    """
    now = int(time.time()) if now is None else now
    with ledger.transaction() as conn:
        old = queries.read_config(conn)
        config = old.changed(**changes)
        has_receipts = queries.has_receipts(conn)
        for name in ("genesis", "epoch_seconds"):
            if getattr(config, name) != getattr(old, name) and has_receipts:
                raise ValidationError(
                    f"{name}: cannot change once receipts are stored "
                    f"(they would move between epochs)"
                )
        if config.fee_address != old.fee_address and config.fee_address is not None:
            paid = queries.receipt_paying(conn, config.fee_address)
            if paid is not None:
                raise ValidationError(f"fee_address: {config.fee_address} is paid by {paid}")
        queries.write_config(conn, config)
        if commission_bps is not None:
            if type(commission_bps) is not int or not 0 <= commission_bps <= 10_000:
                raise ValidationError(f"commission_bps: must be 0..10000, got {commission_bps!r}")
            last = queries.last_closed(conn)
            effective = 0
            if last is not None or has_receipts:
                current = max(0, (now - config.genesis) // config.epoch_seconds)
                effective = max(current + 1, 0 if last is None else last + 1)
            queries.record_commission(conn, effective, commission_bps, now)
        return queries.read_config(conn)


def pool_settings(ledger: Ledger, epoch: int, conn: Connection | None = None) -> PoolSettings:
    """The accounting settings in force for ``epoch`` (commission from the history)."""
    return pool_config(ledger, conn).settings(epoch)


# --- closing ---------------------------------------------------------------------------------


def _stored(row: Any, already: bool) -> ClosedEpoch:
    return ClosedEpoch(
        number=int(row.number),
        root=row.root,
        data_hash=row.data_hash,
        total=int(row.total),
        statement=row.statement.encode(),
        closed_at=int(row.closed_at),
        already_closed=already,
    )


def _digests(conn: Connection, number: int) -> DigestSet:
    """The set digest of the receipts credited to ``number``, in bounded memory."""
    sorter = DigestSorter()
    for batch in queries.epoch_digests(conn, number):
        sorter.add_many(batch)
    return sorter.result()


def _tally(conn: Connection, number: int) -> tuple[EpochTally, DigestSet]:
    """Tally the receipts credited to ``number`` and the verdicts charged in it; and the
    receipts' set digest. Two streaming passes over the epoch (sums, then digests)."""
    groups = queries.epoch_sums(conn, number)
    tally = EpochTally()
    for t, price, ppu, status, flag, enc, dec, credited_in in queries.charged_receipts(
        conn, number
    ):
        if status != "ok" or flag:
            continue  # never paid (failed), or already charged (implausible): nothing more
        if credited_in == number:
            acc = groups[(t, ppu, status, False)]  # move it from credit to charge
            for i, moved in enumerate((enc * price, dec * price, enc, dec, 1)):
                acc[i] -= moved
            tally.charge(t, enc, dec, price, ppu)
        else:  # its receipt was paid in a closed epoch: penalise and take the pay back
            tally.charge(t, enc, dec, price, ppu, clawback=True)
    for (t, ppu, status, flag), acc in groups.items():
        if acc[4] == 0:
            continue
        if status != "ok":
            tally.fail(t, acc[4])
        else:
            tally.add_sums("charge" if flag else "credit", t, ppu, acc)
    return tally, _digests(conn, number)


def _overhead(conn: Connection, number: int) -> dict[str, int]:
    total: Counter[str] = Counter()
    for cost, miners in queries.charge_pushes(conn, number):
        total.update(split_overhead(cost, miners))
    return dict(total)


def _check_order(conn: Connection, number: int, last: int | None) -> None:
    """Refuse to close ``number`` out of order (epochs close one after another)."""
    if number < 0:
        raise EpochError(f"epoch {number}: epoch numbers start at 0")
    if last is not None and number != last + 1:
        if number <= last:  # pragma: no cover - a closed epoch has a closed row
            raise EpochError(f"epoch {number}: closed before, but its row is missing")
        raise EpochError(f"epoch {number}: epoch {last + 1} must be closed first")
    if last is None:
        first = queries.first_open_epoch(conn)
        if first is not None and first < number:
            raise EpochError(f"epoch {number}: epoch {first} must be closed first")


def _settle(
    conn: Connection, number: int, last: int | None, settings: PoolSettings
) -> tuple[Statement, EpochResult]:
    """Steps 2–6 of the close: tally, overhead, carry, settle, statement."""
    previous, pool_cumulative = queries.previous_balances(conn, last)
    tally, receipt_digests = _tally(conn, number)
    result = settle_epoch(
        settings,
        tally,
        overhead=_overhead(conn, number),
        previous=previous,
        pool_cumulative=pool_cumulative,
    )
    statement = build_statement(
        number,
        result,
        receipts=receipt_digests,
        verdicts=digest_set(queries.verdict_digests(conn, number)),
    )
    return statement, result


def close_epoch(
    ledger: Ledger, number: int | None = None, *, now: int | None = None
) -> ClosedEpoch:
    """Close epoch ``number`` (default: the next one to close) in one transaction.

    Raises :class:`EpochError` when it is not due yet (``now`` < end + settle), when an
    earlier epoch is still open, or when the pool has no fee address. Closing an epoch
    already closed returns the stored result (``already_closed=True``).
    """
    now = int(time.time()) if now is None else now
    with ledger.transaction() as conn:
        last = queries.last_closed(conn, lock="update")
        if number is None:
            number = _next_to_close(conn, last)
            if number is None:
                raise EpochError("no epoch to close: the ledger holds no receipts")
        row = queries.epoch_row(conn, number) if number >= 0 else None
        if row is not None and row.state != "open":
            return _stored(row, already=True)
        _check_order(conn, number, last)
        settings = queries.read_config(conn).settings(number)
        closes_at = settings.closes_at(number)
        if now < closes_at:
            raise EpochError(
                f"epoch {number}: not due until {closes_at} (its end + settle_seconds); "
                f"now is {now}"
            )
        statement, result = _settle(conn, number, last, settings)
        body = canonical_bytes(statement)
        hash_hex = "0x" + data_hash(statement).hex()
        values = {
            "state": "closed",
            "settings": json.dumps(settings.to_json(), sort_keys=True),
            "statement": body.decode(),
            "data_hash": hash_hex,
            "root": statement.root,
            "total": statement.total,
            "closed_at": now,
        }
        queries.save_closed_epoch(conn, number, settings.window(number), values)
        queries.insert_balances(conn, number, result)
        return ClosedEpoch(number, statement.root, hash_hex, statement.total, body, now)


def _next_to_close(conn: Connection, last: int | None) -> int | None:
    return queries.first_open_epoch(conn) if last is None else last + 1


def due_epochs(ledger: Ledger, *, now: int | None = None) -> list[int]:
    """The epochs a ``close_due`` at ``now`` would close, in order."""
    now = int(time.time()) if now is None else now
    with ledger.read() as conn:
        config = queries.read_config(conn)
        nxt = _next_to_close(conn, queries.last_closed(conn))
    if nxt is None:
        return []
    genesis, length, settle = config.genesis, config.epoch_seconds, config.settle_seconds
    # Epoch n is due when genesis + (n+1)·length + settle ≤ now.
    last_due = (now - settle - genesis) // length - 1
    return list(range(nxt, last_due + 1))


def close_due(ledger: Ledger, *, now: int | None = None) -> list[ClosedEpoch]:
    """Close every due epoch in order (each in its own transaction); return them."""
    now = int(time.time()) if now is None else now
    return [close_epoch(ledger, n, now=now) for n in due_epochs(ledger, now=now)]


# --- reading ------------------------------------------------------------------------------------


def _closed_row(ledger: Ledger, number: int) -> Any:
    with ledger.read() as conn:
        row = queries.epoch_row(conn, number)
    if row is None:
        raise EpochError(f"epoch {number}: unknown (nothing credited to it, never closed)")
    if row.state == "open":
        raise EpochError(f"epoch {number}: still open, no statement yet")
    return row


def epoch_statement(ledger: Ledger, number: int) -> bytes:
    """The canonical statement bytes of closed epoch ``number``."""
    return str(_closed_row(ledger, number).statement).encode()


def epoch_tree(ledger: Ledger, number: int) -> MerkleTree:
    """The Merkle tree of closed epoch ``number``, rebuilt from its statement (same leaves,
    same order as at close: miners with cumulative > 0 by address, then the fee leaf)."""
    statement: Statement = load_statement(epoch_statement(ledger, number))
    leaves = [(m.address, m.cumulative) for m in statement.miners if m.cumulative > 0]
    leaves.append((statement.pool.address, statement.pool.cumulative))
    tree = MerkleTree.build(leaves)
    if "0x" + tree.root.hex() != statement.root:  # pragma: no cover - a corrupt ledger
        raise LivepoolError(f"epoch {number}: the stored statement's root does not rebuild")
    return tree


def list_epochs(ledger: Ledger) -> list[dict[str, Any]]:
    """Every known epoch with its state, window, root, total and closing time."""
    return ledger.epoch_rows()
