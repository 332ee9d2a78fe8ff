"""`livepool token create|list|revoke`, and the schema migrations from version 2."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import inspect, text

from livepool.cli import cli
from livepool.ledger import SCHEMA_VERSION, Ledger
from livepool.ledger import service as servicedb

from .conftest import ORCHESTRATOR

SERVICE_TABLES = ("api_tokens", "settings_nonces", "settings_signatures")
#: What schema 4 added: counters, the archive register, an index on the epoch alone.
V4_TABLES = ("rig_hours", "rigs", "miner_value", "archives")


def test_token__create_list_revoke(ledger):
    runner = CliRunner()
    args = ["--database-url", ledger.url, "token"]
    created = runner.invoke(cli, [*args, "create", ORCHESTRATOR.lower(), "--name", "orch-1"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert servicedb.verify_token(ledger, secret) == ORCHESTRATOR
    with ledger.read() as conn:  # stored hashed: the secret is nowhere in the table
        rows = conn.execute(text("SELECT * FROM api_tokens")).all()
    assert secret.split("_", 2)[2] not in repr(rows)
    listed = runner.invoke(cli, [*args, "list"])
    assert listed.exit_code == 0 and ORCHESTRATOR in listed.output and "live" in listed.output
    token_id = secret.split("_")[1]
    revoked = runner.invoke(cli, [*args, "revoke", token_id])
    assert revoked.exit_code == 0, revoked.output
    assert servicedb.verify_token(ledger, secret) is None
    again = runner.invoke(cli, [*args, "revoke", token_id])
    assert again.exit_code == 2 and "no live token" in again.output


def test_token__bad_address__refused(ledger):
    result = CliRunner().invoke(cli, ["--database-url", ledger.url, "token", "create", "0x12"])
    assert result.exit_code == 2
    assert servicedb.list_tokens(ledger) == []


def test_migration__version_2_database__gains_service_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    ledger = Ledger(url)
    with ledger.transaction() as conn:  # make it look like a version-2 database
        for name in (*SERVICE_TABLES, *V4_TABLES):
            conn.execute(text(f"DROP TABLE {name}"))
        conn.execute(text("DROP INDEX ix_receipts_epoch"))
        conn.execute(
            text(
                "CREATE INDEX ix_receipts_epoch_miner_node"
                " ON receipts (credited_epoch, transcoder, node)"
            )
        )
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(text("INSERT INTO schema_version VALUES (2, 0)"))
    ledger.close()
    migrated = Ledger(url)
    assert migrated.version() == SCHEMA_VERSION == 4
    with migrated.read() as conn:
        names = set(inspect(conn).get_table_names())
    assert set(SERVICE_TABLES) | set(V4_TABLES) <= names
    migrated.close()
