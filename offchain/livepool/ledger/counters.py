"""Counters kept at ingest (schema 4): ``rig_hours``, ``rigs``, ``miner_value`` and the
latest price, so the service never scans receipts. (Being written: issue 10.)"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

__all__ = ["backfill", "count_receipts"]


def count_receipts(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Add newly stored receipt rows (``queries.RECEIPT_COLUMNS`` order) to the counters."""
    raise NotImplementedError


def backfill(conn: Connection) -> None:
    """Fill the counters from the receipts already stored (migration 4)."""
    raise NotImplementedError
