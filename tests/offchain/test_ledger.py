"""The ledger: schema, migrations, engine settings, shared writes — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from livepool import epochs
from livepool.config import PoolConfig, Settings, get_settings
from livepool.errors import LedgerError
from livepool.errors import ValidationError as LivepoolValidation
from livepool.ingest import ingest_receipts
from livepool.ledger import (
    SCHEMA_VERSION,
    Ledger,
    metadata,
    push_batches,
    receipts,
    resolve_url,
    schema_version,
)
from livepool.receipts import MAX_PRICE


def test_migrate__fresh_database__creates_every_table_and_stamps_the_version(database_url):
    ledger = Ledger(database_url)
    with ledger.read() as conn:
        tables = set(inspect(conn).get_table_names())
    assert set(metadata.tables) <= tables
    assert ledger.version() == SCHEMA_VERSION
    ledger.close()


def test_migrate__run_again__is_a_no_op(database_url):
    first = Ledger(database_url)
    first.close()
    again = Ledger(database_url)
    assert again.migrate() == SCHEMA_VERSION
    with again.read() as conn:
        versions = conn.execute(select(schema_version.c.version)).scalars().all()
    assert versions == [SCHEMA_VERSION]
    again.close()


def test_migrate__newer_schema__refused(database_url):
    ledger = Ledger(database_url)
    with ledger.transaction() as conn:
        conn.execute(schema_version.insert().values(version=SCHEMA_VERSION + 1, applied_at=0))
    with pytest.raises(LedgerError, match="newer than this code"):
        ledger.migrate()
    ledger.close()


def test_migrate__tables_without_version__refused(database_url):
    ledger = Ledger(database_url)
    with ledger.transaction() as conn:
        conn.execute(schema_version.delete())
        conn.execute(text("DROP TABLE schema_version"))
    with pytest.raises(LedgerError, match="no schema_version"):
        ledger.migrate()
    ledger.close()


def test_indexes__receipts_by_epoch_alone_and_per_miner_balances(ledger):
    with ledger.read() as conn:
        inspector = inspect(conn)
        on_receipts = {tuple(i["column_names"]) for i in inspector.get_indexes("receipts")}
        on_balances = {tuple(i["column_names"]) for i in inspector.get_indexes("balances")}
        on_verdicts = {tuple(i["column_names"]) for i in inspector.get_indexes("verdicts")}
    assert on_receipts == {("credited_epoch",)}  # schema 4: the counters answer the rest
    assert ("address", "epoch") in on_balances
    assert ("charged_epoch",) in on_verdicts


def test_sqlite__wal_normal_sync_foreign_keys(tmp_path):
    ledger = Ledger(data_dir=tmp_path / "data")
    assert (tmp_path / "data" / "livepool.db").exists()
    with ledger.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    ledger.close()


def test_resolve_url__env_wins_over_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("LIVEPOOL_DATABASE_URL", "postgresql+psycopg://x@h/db")
    get_settings.cache_clear()
    assert resolve_url(None, tmp_path) == "postgresql+psycopg://x@h/db"
    assert resolve_url("sqlite:///a.db", tmp_path) == "sqlite:///a.db"
    monkeypatch.delenv("LIVEPOOL_DATABASE_URL")
    assert resolve_url(None, tmp_path) == "postgresql+psycopg://x@h/db"  # cached until cleared
    get_settings.cache_clear()
    assert resolve_url(None, tmp_path) == f"sqlite:///{tmp_path / 'livepool.db'}"


def test_settings__read_from_the_environment_on_first_use(monkeypatch, tmp_path):
    monkeypatch.setenv("LIVEPOOL_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.delenv("LIVEPOOL_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    assert settings == Settings(data_dir=tmp_path / "d", database_url=None)
    assert get_settings() is settings
    assert resolve_url() == f"sqlite:///{tmp_path / 'd' / 'livepool.db'}"


def test_pool_config__bad_values__refused_naming_the_field():
    with pytest.raises(LivepoolValidation, match=r"fee_address: .*invalid EIP-55 checksum"):
        PoolConfig.make(fee_address="0x" + "aB" * 20)
    with pytest.raises(LivepoolValidation, match="penalty_multiplier: must be exact"):
        PoolConfig.make(penalty_multiplier=0.5)
    with pytest.raises(LivepoolValidation, match="epoch_seconds: must be an integer"):
        PoolConfig.make(epoch_seconds=0)
    config = PoolConfig.make(decode_weight="2/20", commission=((0, 500), (4, 700)))
    assert config.to_json()["decode_weight"] == "1/10"
    assert (config.commission_bps(3), config.commission_bps(4)) == (500, 700)
    with pytest.raises(Exception, match="frozen"):
        config.genesis = 5  # type: ignore[misc]


def test_bad_url__ledger_error(tmp_path):
    with pytest.raises(LedgerError, match="database"):
        Ledger("nosuchdialect://x/y")


def test_uint256__amounts_past_64_bits_round_trip(ledger, make_receipt):
    report = ingest_receipts(ledger, [make_receipt(1, price_per_unit=MAX_PRICE)])
    assert report.accepted == 1
    assert ledger.receipt("r-1")["price_per_unit"] == MAX_PRICE


def test_transaction__exception__rolls_back(ledger, make_receipt):
    ingest_receipts(ledger, [make_receipt(1)])
    with pytest.raises(RuntimeError), ledger.transaction() as conn:
        conn.execute(receipts.delete())
        raise RuntimeError("boom")
    assert ledger.count(receipts) == 1


def test_record_push__same_batch_twice__no_op(ledger, pool):
    assert ledger.record_push("b1", "0x" + "ab" * 32, 21_000, 10**9, pool.MINERS[:2])
    assert not ledger.record_push("b1", "0x" + "ab" * 32, 21_000, 10**9, pool.MINERS[:2])
    assert ledger.count(push_batches) == 1


def test_record_push__same_batch_other_content__refused(ledger, pool):
    ledger.record_push("b1", "0x" + "ab" * 32, 21_000, 10**9, pool.MINERS[:2])
    with pytest.raises(LedgerError, match="other content"):
        ledger.record_push("b1", "0x" + "ab" * 32, 22_000, 10**9, pool.MINERS[:2])


def test_update_node__older_event__ignored(ledger, pool):
    rig = {"address": pool.MINERS[0], "node": "rig-1"}
    ledger.update_nodes(
        [
            {**rig, "status": "online", "event_name": "a", "seen_at": 10},
            {**rig, "status": "offline", "event_name": "b", "seen_at": 5},
        ]
    )
    [row] = ledger.node_rows(pool.MINERS[0])
    assert (row["status"], row["last_seen"]) == ("online", 10)


def test_configure__genesis_change_after_receipts__refused(ledger, make_receipt):
    ingest_receipts(ledger, [make_receipt(1)])
    with pytest.raises(LivepoolValidation, match="genesis: cannot change"):
        epochs.configure(ledger, genesis=0)


def test_configure__fee_address_that_a_receipt_pays__refused(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(0)])
    with pytest.raises(LivepoolValidation, match="is paid by receipt"):
        epochs.configure(ledger, fee_address=pool.MINERS[0])


def test_configure__commission_change__applies_from_the_next_epoch(ledger, make_receipt, pool):
    GENESIS, DAY = pool.GENESIS, pool.DAY
    ingest_receipts(ledger, [make_receipt(1)])
    config = epochs.configure(ledger, commission_bps=700, now=GENESIS + 3 * DAY + 5)
    assert config.commission == ((0, 500), (4, 700))
    assert epochs.pool_settings(ledger, 3).commission_bps == 500
    assert epochs.pool_settings(ledger, 4).commission_bps == 700
