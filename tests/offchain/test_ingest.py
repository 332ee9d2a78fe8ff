"""Ingest: idempotent, item by item, every rejection with its reason — SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from livepool import epochs
from livepool.errors import ValidationError
from livepool.ingest import ingest_jsonl, ingest_receipts
from livepool.ledger import epochs_table, receipts, verdicts
from livepool.receipts import parse_receipt, receipt_digest


def snapshot(ledger):
    """Every row the ingest may touch, to show a rejected item changed nothing."""
    with ledger.read() as conn:
        return {
            t.name: sorted(tuple(r) for r in conn.execute(select(t)))
            for t in (receipts, verdicts, epochs_table)
        }


def verdict(receipt_id, reason="failed verification", **extra):
    return {"verdict": {"receipt_id": receipt_id, "ok": False, "reason": reason, **extra}}


# --- accepted, duplicate, conflict ------------------------------------------------------------


def test_ingest__new_receipts__accepted_and_stored_with_digest(ledger, make_receipt):
    items = [make_receipt(n) for n in range(5)]
    report = ingest_receipts(ledger, items)
    assert (report.accepted, report.duplicate, report.conflict, report.rejected) == (5, 0, 0, 0)
    assert report.ok
    row = ledger.receipt("r-3")
    assert row["digest"] == receipt_digest(parse_receipt(items[3]))
    assert row["credited_epoch"] == row["epoch"] == 0
    assert json.loads(row["profiles"]) == ["720p30", "480p30", "360p30"]


def test_ingest__same_id_same_content__duplicate_no_op(ledger, make_receipt):
    ingest_receipts(ledger, [make_receipt(1)])
    before = snapshot(ledger)
    report = ingest_receipts(ledger, [make_receipt(1), json.dumps(make_receipt(1))])
    assert (report.accepted, report.duplicate) == (0, 2)
    assert report.ok
    assert snapshot(ledger) == before


def test_ingest__same_content_other_key_order__duplicate(ledger, make_receipt):
    receipt = make_receipt(1)
    ingest_receipts(ledger, [receipt])
    reordered = json.dumps(dict(reversed(list(receipt.items()))))
    assert ingest_receipts(ledger, [reordered]).duplicate == 1


def test_ingest__same_id_other_content__conflict_reported_nothing_changed(ledger, make_receipt):
    ingest_receipts(ledger, [make_receipt(1)])
    before = snapshot(ledger)
    report = ingest_receipts(ledger, [make_receipt(1, pixels_encoded=1)])
    assert (report.accepted, report.conflict) == (0, 1)
    assert not report.ok
    [problem] = report.problems
    assert (problem.id, problem.outcome) == ("r-1", "conflict")
    assert problem.reason == "id: a receipt with this id is stored with different content"
    assert snapshot(ledger) == before


def test_ingest__conflict_within_one_batch__first_wins(ledger, make_receipt):
    report = ingest_receipts(ledger, [make_receipt(1), make_receipt(1, seq=99)])
    assert (report.accepted, report.conflict) == (1, 1)
    assert ledger.receipt("r-1")["seq"] == 1


def test_ingest__duplicates_across_chunks__caught_by_the_database(ledger, make_receipt):
    items = [make_receipt(n % 4) for n in range(10)]
    report = ingest_receipts(ledger, items, chunk_size=3)
    assert (report.accepted, report.duplicate) == (4, 6)
    assert ledger.count(receipts) == 4


def test_ingest__mixed_batch__each_item_on_its_own(ledger, make_receipt):
    items = [make_receipt(1), b"{not json", make_receipt(2, seq=-1), make_receipt(3)]
    report = ingest_receipts(ledger, items)
    assert (report.accepted, report.rejected) == (2, 2)
    assert [p.index for p in report.problems] == [1, 2]
    assert ledger.receipt("r-1") and ledger.receipt("r-3")
    assert ledger.receipt("r-2") is None


def test_ingest__blank_items__skipped_but_numbered(ledger, make_receipt):
    report = ingest_receipts(ledger, [None, make_receipt(1), None, b"[]"])
    assert report.total == 2
    assert report.problems[0].index == 3


# --- every rejection path ------------------------------------------------------------------------

REJECTIONS = [
    # (name, mutate(receipt dict) -> item, expected reason fragment)
    ("not json", lambda r: b"{oops", "not JSON"),
    ("not an object", lambda r: b"[1, 2]", "not a JSON object: list"),
    ("missing field", lambda r: {k: v for k, v in r.items() if k != "seq"}, "seq: field required"),
    ("unknown field", lambda r: {**r, "colour": "red"}, "colour: unknown field"),
    ("malformed transcoder", lambda r: {**r, "transcoder": "0x12"}, "transcoder: not a 20-byte"),
    ("malformed orchestrator", lambda r: {**r, "orchestrator": "nope"}, "orchestrator: not a"),
    ("zero transcoder", lambda r: {**r, "transcoder": "0x" + "0" * 40}, "transcoder: the zero"),
    ("negative pixels", lambda r: {**r, "pixels_encoded": -1}, "pixels_encoded:"),
    ("absurd pixels", lambda r: {**r, "pixels_decoded": 10**14}, "pixels_decoded:"),
    ("zero pixels_per_unit", lambda r: {**r, "pixels_per_unit": 0}, "pixels_per_unit:"),
    ("negative price", lambda r: {**r, "price_per_unit": -5}, "price_per_unit:"),
    ("unknown status", lambda r: {**r, "status": "meh"}, "status:"),
    ("over-long id", lambda r: {**r, "id": "x" * 129}, "id:"),
    ("control char in id", lambda r: {**r, "id": "a\nb"}, "id: contains a control character"),
    ("float amount", lambda r: {**r, "seq": 1.0}, "seq:"),
    ("string amount", lambda r: {**r, "pixels_encoded": "5"}, "pixels_encoded:"),
    ("bool amount", lambda r: {**r, "latency_ms": True}, "latency_ms:"),
    ("zero duration", lambda r: {**r, "duration_ms": 0}, "duration_ms:"),
    ("finished long ago", lambda r: {**r, "finished_at": 1_000}, "finished_at:"),
    ("before genesis", lambda r: {**r, "finished_at": 1_700_000_000}, "before the pool's genesis"),
    ("fee address paid", lambda r: {**r, "transcoder": FEE_LOWER}, "is the pool's fee address"),
    ("verdict ok true", lambda r: verdict("r-0", ok=True), "ok:"),
    ("verdict unknown field", lambda r: verdict("r-0", extra=1), "extra: unknown field"),
    ("verdict beside junk", lambda r: {**verdict("r-0"), "x": 1}, "holds only the 'verdict'"),
    ("verdict no reason", lambda r: {"verdict": {"receipt_id": "r-0", "ok": False}}, "reason:"),
    ("verdict unknown receipt", lambda r: verdict("nope"), "receipt_id: no receipt 'nope'"),
]
FEE_LOWER = "0x00000000000000000000000000000000000000fe"


@pytest.mark.parametrize(
    ("mutate", "expected"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS]
)
@pytest.mark.parametrize("as_json", [False, True], ids=["mapping", "json"])
def test_ingest__invalid_item__rejected_with_reason_ledger_unchanged(
    ledger, make_receipt, mutate, expected, as_json
):
    ingest_receipts(ledger, [make_receipt(0)])
    before = snapshot(ledger)
    item = mutate(make_receipt(1))
    if as_json and not isinstance(item, bytes):
        item = json.dumps(item)
    report = ingest_receipts(ledger, [item])
    assert (report.accepted, report.rejected) == (0, 1), report.problems
    [problem] = report.problems
    assert problem.outcome == "rejected"
    assert expected in problem.reason
    assert not report.ok
    assert snapshot(ledger) == before


def test_ingest__reasons_counted_by_field(ledger, make_receipt):
    items = [make_receipt(n, seq=-1) for n in range(3)] + [b"{"]
    report = ingest_receipts(ledger, items, keep=2)
    assert len(report.problems) == 2
    assert report.by_reason == {"receipt: seq": 3, "unknown: not JSON": 1}


def test_ingest__bad_chunk_size__refused(ledger):
    with pytest.raises(ValidationError, match="chunk_size"):
        ingest_receipts(ledger, [], chunk_size=0)


# --- verdicts -----------------------------------------------------------------------------------


def test_verdict__after_its_receipt__accepted_charged_in_its_epoch(ledger, make_receipt):
    report = ingest_receipts(ledger, [make_receipt(1), verdict("r-1")])
    assert (report.receipts, report.verdicts) == (1, 1)
    with ledger.read() as conn:
        assert conn.execute(select(verdicts.c.charged_epoch)).scalar() == 0


def test_verdict__twice__duplicate_then_conflict(ledger, make_receipt):
    ingest_receipts(ledger, [make_receipt(1), verdict("r-1")])
    before = snapshot(ledger)
    report = ingest_receipts(ledger, [verdict("r-1"), verdict("r-1", reason="other")])
    assert (report.duplicate, report.conflict) == (1, 1)
    assert report.problems[0].reason.startswith("receipt_id: a verdict")
    assert snapshot(ledger) == before


# --- epochs: late receipts and verdicts --------------------------------------------------------


def test_late_receipt__its_epoch_closed__credited_to_the_open_epoch(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(1)])
    epochs.close_epoch(ledger, 0, now=pool.GENESIS + 2 * pool.DAY)
    ingest_receipts(ledger, [make_receipt(2)])  # finished in epoch 0, which is closed
    row = ledger.receipt("r-2")
    assert (row["epoch"], row["credited_epoch"]) == (0, 1)


def test_late_verdict__its_epoch_closed__charged_in_the_open_epoch(ledger, make_receipt, pool):
    ingest_receipts(ledger, [make_receipt(1)])
    epochs.close_epoch(ledger, 0, now=pool.GENESIS + 2 * pool.DAY)
    ingest_receipts(ledger, [verdict("r-1")])
    with ledger.read() as conn:
        assert conn.execute(select(verdicts.c.charged_epoch)).scalar() == 1


def test_implausible_receipt__stored_and_flagged(ledger, make_receipt):
    renditions = [{"profile": "360p30", "width": 640, "height": 360, "fps": 30, "pixels": 1}]
    report = ingest_receipts(ledger, [make_receipt(1, renditions=renditions)])
    assert report.accepted == 1
    assert "pixels_encoded" in ledger.receipt("r-1")["flagged"]


def test_ingest_jsonl__file_with_blank_lines_and_verdicts(ledger, make_receipt, tmp_path):
    path = tmp_path / "in.jsonl"
    lines = [json.dumps(make_receipt(1)), "", json.dumps(verdict("r-1")), "{bad"]
    path.write_text("\n".join(lines) + "\n")
    seen = []
    report = ingest_jsonl(ledger, path, progress=seen.append)
    assert (report.receipts, report.verdicts, report.rejected) == (1, 1, 1)
    assert report.problems[0].index == 3  # line 4
    assert seen == [path.stat().st_size]


def test_ingest_jsonl__missing_file__clear_error(ledger, tmp_path):
    with pytest.raises(ValidationError, match="cannot read"):
        ingest_jsonl(ledger, tmp_path / "nope.jsonl")
