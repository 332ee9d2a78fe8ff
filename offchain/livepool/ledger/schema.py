"""The ledger's tables (SQLAlchemy Core) and the column types they need.

Amounts that may exceed 64 bits (prices, wei) use :class:`UInt256`: ``NUMERIC(78, 0)``
on PostgreSQL, a decimal string on SQLite (whose integers stop at 2**63). The table of
epochs is ``epochs_table`` in Python (``epochs`` in SQL), so that it never shadows the
module :mod:`livepool.epochs`.

To change the schema: edit the tables here, then bump
:data:`livepool.ledger.migrations.SCHEMA_VERSION` and append a migration.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = [
    "AMOUNT_COLUMNS",
    "CHAIN_ACTION_STATES",
    "MS_BUCKETS",
    "PAYOUT_MODES",
    "RATIO_BUCKETS",
    "UInt256",
    "api_tokens",
    "archives",
    "balances",
    "chain_actions",
    "commission_changes",
    "epochs_table",
    "meta",
    "metadata",
    "miner_value",
    "nodes",
    "payout_settings",
    "push_batches",
    "receipts",
    "rig_hours",
    "rigs",
    "schema_version",
    "settings_nonces",
    "settings_signatures",
    "verdicts",
]


class UInt256(TypeDecorator[int]):
    """A non-negative integer up to 2**256: NUMERIC(78,0) on PostgreSQL, text on SQLite."""

    impl = String(78)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(78, 0, asdecimal=True))
        return dialect.type_descriptor(String(78))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return int(value)
        return str(int(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return int(value)
        return int(value)


metadata = MetaData()

#: The applied schema version (one row per applied version).
schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", BigInteger, nullable=False),
)

#: Small key/value state: pool configuration (``config``, JSON), the epoch lock
#: (``last_closed``), poller cursors (``poll:<url>``).
meta = Table(
    "meta",
    metadata,
    Column("key", String(256), primary_key=True),
    Column("value", Text, nullable=False),
)

#: Every accepted receipt, all fields. ``epoch`` is the window its ``finished_at`` falls
#: in; ``credited_epoch`` the epoch it is accounted in (later when ``epoch`` was already
#: closed on arrival). ``flagged`` says why it failed the plausibility check (credited
#: nothing, charged). ``digest`` = keccak256 of its canonical bytes: the idempotency
#: fingerprint and the statement's receipt digest.
receipts = Table(
    "receipts",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("orchestrator", String(42), nullable=False),
    Column("transcoder", String(42), nullable=False),
    Column("stream", String(128), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=False),
    Column("duration_ms", BigInteger, nullable=False),
    Column("latency_ms", BigInteger, nullable=False),
    Column("pixels_decoded", BigInteger, nullable=False),
    Column("pixels_encoded", BigInteger, nullable=False),
    Column("price_per_unit", UInt256, nullable=False),
    Column("pixels_per_unit", UInt256, nullable=False),
    Column("status", String(8), nullable=False),
    Column("node", String(128)),
    Column("region", String(64)),
    Column("broadcaster", String(42)),
    Column("round", BigInteger),
    Column("profiles", Text),  # JSON array, when given
    Column("renditions", Text),  # JSON array of objects, when given
    Column("epoch", BigInteger, nullable=False),
    Column("credited_epoch", BigInteger, nullable=False),
    Column("flagged", Text),
    Column("digest", LargeBinary(32), nullable=False),
    Column("received_at", BigInteger, nullable=False),
    # One secondary index, on the epoch alone (schema 4): the close reads an epoch's rows
    # in one sequential pass through it, retention deletes by it. Per-miner and per-rig
    # questions are answered by the counters below (``rig_hours``, ``rigs``,
    # ``miner_value``), kept at ingest, so nothing else needs an index here: each index
    # on this table costs ~30 % of ingest speed (issue 10's profile).
    Index("ix_receipts_epoch", "credited_epoch"),
)

#: Failed verifications, one per receipt (the idempotency key is ``receipt_id``).
#: ``charged_epoch``: the epoch that charges it (the receipt's, or the open one when that
#: was already closed on arrival).
verdicts = Table(
    "verdicts",
    metadata,
    Column("receipt_id", String(128), ForeignKey("receipts.id"), primary_key=True),
    Column("ok", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("digest", LargeBinary(32), nullable=False),
    Column("charged_epoch", BigInteger, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Index("ix_verdicts_epoch", "charged_epoch"),
)

#: Epochs: ``open`` until closed; a closed epoch holds its statement (canonical JSON),
#: ``data_hash``, Merkle ``root``, ``total`` and the settings it was closed with. Later
#: states (``proposed``, ``active``) belong to the chain side.
epochs_table = Table(
    "epochs",
    metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("start", BigInteger, nullable=False),
    Column("end", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("settings", Text),
    Column("statement", Text),
    Column("data_hash", String(66)),
    Column("root", String(66)),
    Column("total", UInt256),
    Column("closed_at", BigInteger),
    Index("ix_epochs_state", "state"),
)

AMOUNT_COLUMNS: Final = (
    "pixels",
    "pixels_decoded",
    "gross",
    "commission",
    "penalty",
    "clawback",
    "overhead",
    "debt_in",
    "debt",
    "delta",
    "cumulative",
)

#: Per (epoch, account) balances of a closed epoch; ``role`` is ``miner`` or ``pool``
#: (the fee leaf). ``debt`` is the debt carried out of the epoch.
balances = Table(
    "balances",
    metadata,
    Column("epoch", BigInteger, ForeignKey("epochs.number"), primary_key=True),
    Column("address", String(42), primary_key=True),
    Column("role", String(8), nullable=False),
    Column("segments", BigInteger, nullable=False),
    Column("failed_segments", BigInteger, nullable=False),
    Column("charged_segments", BigInteger, nullable=False),
    *(Column(name, UInt256, nullable=False) for name in AMOUNT_COLUMNS),
    Index("ix_balances_address", "address", "epoch"),
)

#: Push transactions (batch payouts): their actual gas cost is split among the batch's
#: miners as overhead in the next epoch closed (``charged_epoch``, NULL until then).
push_batches = Table(
    "push_batches",
    metadata,
    Column("batch_id", String(128), primary_key=True),
    Column("tx_hash", String(66), nullable=False),
    Column("gas_used", UInt256, nullable=False),
    Column("gas_price", UInt256, nullable=False),
    Column("gas_cost", UInt256, nullable=False),
    Column("miners", Text, nullable=False),  # JSON array of checksummed addresses
    Column("pushed_at", BigInteger, nullable=False),
    Column("charged_epoch", BigInteger),
    Index("ix_push_batches_epoch", "charged_epoch"),
)

#: Commission history: ``commission_bps`` applies from ``effective_epoch`` on.
commission_changes = Table(
    "commission_changes",
    metadata,
    Column("effective_epoch", BigInteger, primary_key=True, autoincrement=False),
    Column("commission_bps", Integer, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
)

#: Rigs (nodes) and their last known status, from Open Pool non-job events.
nodes = Table(
    "nodes",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("node", String(128), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("last_event", String(64), nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Column("region", String(64)),
    Column("detail", Text),
    Index("ix_nodes_status", "status"),
)

#: Chain actions as state machines (prepared → confirmed | abandoned): proposals,
#: acceptances and push batches. Written *before* a transaction is sent, so a crash
#: between sending and recording is found and settled from the chain on the next run.
chain_actions = Table(
    "chain_actions",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("tx_hash", String(66)),
    Column("block", BigInteger),
    Column("payload", Text),
    Column("note", Text),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_chain_actions_state", "kind", "state"),
)

#: Each miner's payout choice: ``push`` (the pool pays when the claimable balance reaches
#: ``threshold`` wei) or ``claim`` (the miner claims from their wallet; the default).
payout_settings = Table(
    "payout_settings",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("mode", String(8), nullable=False),
    Column("threshold", UInt256, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

CHAIN_ACTION_STATES: Final = ("prepared", "confirmed", "abandoned")
PAYOUT_MODES: Final = ("push", "claim")

# --- the service (schema version 3) ---------------------------------------------------

#: Orchestrator bearer tokens: ``lp_<token_id>_<secret>``; only sha256(secret) is kept.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("orchestrator", String(42), nullable=False),
    Column("name", String(128), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

#: Each miner's settings nonce (the last one used) and gas cap; mode and threshold stay
#: in ``payout_settings``, which the keeper already reads.
settings_nonces = Table(
    "settings_nonces",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("nonce", BigInteger, nullable=False),
    Column("gas_cap_bps", Integer),
    Column("updated_at", BigInteger, nullable=False),
)

#: The audit trail: every accepted signed settings change, verbatim.
settings_signatures = Table(
    "settings_signatures",
    metadata,
    Column("address", String(42), primary_key=True),
    Column("nonce", BigInteger, primary_key=True, autoincrement=False),
    Column("mode", String(8), nullable=False),
    Column("threshold", UInt256, nullable=False),
    Column("gas_cap_bps", Integer, nullable=False),
    Column("deadline", BigInteger, nullable=False),
    Column("chain_id", BigInteger, nullable=False),
    Column("contract", String(42), nullable=False),
    Column("signature", Text, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Index("ix_settings_signatures_time", "received_at"),
)


# --- counters kept at ingest, and retention (schema version 4) -------------------------

#: Bucket columns of the two latency histograms of :mod:`livepool.quality`
#: (``len(edges) + 1`` buckets each, the last one open-ended).
RATIO_BUCKETS: Final = tuple(f"ratio_{i:02d}" for i in range(17))
MS_BUCKETS: Final = tuple(f"ms_{i:02d}" for i in range(12))

#: Per rig and hour: what the service shows and rig selection ranks, kept at ingest so
#: no view scans receipts. ``node`` is the transcoder's address when a receipt names
#: none; ``hour`` = ``finished_at`` rounded down to the hour. ``failed``: status
#: ``failed`` or flagged implausible at ingest; ``pixels``/``ok_*``: the other segments.
rig_hours = Table(
    "rig_hours",
    metadata,
    Column("transcoder", String(42), primary_key=True),
    Column("node", String(128), primary_key=True),
    Column("hour", BigInteger, primary_key=True, autoincrement=False),
    Column("segments", BigInteger, nullable=False),
    Column("failed", BigInteger, nullable=False),
    Column("flagged", BigInteger, nullable=False),
    Column("pixels", BigInteger, nullable=False),
    Column("duration_ms", BigInteger, nullable=False),
    Column("latency_ms", BigInteger, nullable=False),
    Column("ok_duration_ms", BigInteger, nullable=False),
    Column("ok_latency_ms", BigInteger, nullable=False),
    *(Column(name, BigInteger, nullable=False) for name in RATIO_BUCKETS + MS_BUCKETS),
    Index("ix_rig_hours_hour", "hour"),
)

#: One row per rig ever seen: first and last ``finished_at``, first ``received_at``,
#: segments in all, and the region of its latest receipt that names one (``region_at``:
#: that receipt's ``finished_at``; on a tie the greater region, so the row does not
#: depend on the order receipts arrived in).
rigs = Table(
    "rigs",
    metadata,
    Column("transcoder", String(42), primary_key=True),
    Column("node", String(128), primary_key=True),
    Column("first_seen", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Column("first_received", BigInteger, nullable=False),
    Column("segments", BigInteger, nullable=False),
    Column("region", String(64)),
    Column("region_at", BigInteger),
)

#: Per (credited epoch, miner, ``pixels_per_unit``): Σ pixels × price of the ok,
#: plausible receipts (exact integers; value is linear in pixels), so a miner's
#: unsettled earnings are read without scanning the open epoch's receipts.
miner_value = Table(
    "miner_value",
    metadata,
    Column("credited_epoch", BigInteger, primary_key=True, autoincrement=False),
    Column("transcoder", String(42), primary_key=True),
    Column("pixels_per_unit", UInt256, primary_key=True),
    Column("encoded_value", UInt256, nullable=False),
    Column("decoded_value", UInt256, nullable=False),
    Column("segments", BigInteger, nullable=False),
)

#: Retention (:mod:`livepool.archive`): epochs whose receipts and verdicts moved from the
#: hot tables to ``receipts-<epoch>.jsonl.gz``. ``sha256`` and ``bytes``: the file's;
#: counts and set digests: the statement's, which the file was checked against before
#: the rows were deleted (in the same transaction as this row was written).
archives = Table(
    "archives",
    metadata,
    Column("epoch", BigInteger, primary_key=True, autoincrement=False),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("receipts", BigInteger, nullable=False),
    Column("verdicts", BigInteger, nullable=False),
    Column("receipts_digest", String(66), nullable=False),
    Column("verdicts_digest", String(66), nullable=False),
    Column("archived_at", BigInteger, nullable=False),
)
