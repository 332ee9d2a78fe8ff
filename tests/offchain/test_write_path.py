"""The SQLite write path of schema 4 (issue 10): 16 KiB pages, one receipts index, WAL
checkpoints deferred to the end of a bulk ingest (and back to normal after it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import inspect

from livepool import epochs, ingest
from livepool.ledger import Ledger


def _autocheckpoint(ledger: Ledger) -> int:
    with ledger.transaction() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() or 0)


def test_new_sqlite_ledger_has_16k_pages_and_one_receipts_index(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.db'}")
    with ledger.read() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 16384
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        indexes = {i["name"]: i["column_names"] for i in inspect(conn).get_indexes("receipts")}
    assert indexes == {"ix_receipts_epoch": ["credited_epoch"]}
    ledger.close()


def test_bulk_defers_checkpoints_and_checkpoints_at_its_end(
    tmp_path: Path, make_receipt: Any
) -> None:
    path = tmp_path / "l.db"
    ledger = Ledger(f"sqlite:///{path}")
    epochs.configure(ledger, fee_address="0x" + "ee" * 20)
    assert _autocheckpoint(ledger) == 1000
    with ledger.bulk():
        assert _autocheckpoint(ledger) == 0
        with ledger.bulk():  # nested: still deferred
            assert _autocheckpoint(ledger) == 0
        assert _autocheckpoint(ledger) == 0
        report = ingest.ingest_receipts(ledger, [make_receipt(i) for i in range(300)])
        assert report.receipts == 300
        wal = Path(f"{path}-wal").stat().st_size
        assert wal > 0
    assert _autocheckpoint(ledger) == 1000
    # Every page the WAL held is in the database file now: another connection reading
    # the file without the WAL (immutable) sees all 300 receipts.
    db = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    assert db.execute("SELECT count(*) FROM receipts").fetchone()[0] == 300
    db.close()
    ledger.close()
