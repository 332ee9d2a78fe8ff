"""Retention: archiving old epochs' receipts and auditing from the archive — both databases.

The attacker edits archive files and ledger rows; the crash stops the archiver between
its steps; the operator archives too early. Closes of later epochs must not notice.
"""

from __future__ import annotations

import gzip
import json
import secrets
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from livepool import archive as archiving
from livepool import epochs
from livepool.archive import archive, archive_path, check_archives, read_lines
from livepool.cli import cli
from livepool.errors import LedgerError, ValidationError
from livepool.hashing import keccak256
from livepool.ingest import ingest_receipts
from livepool.ledger import Ledger, archives, queries, receipts, verdicts
from livepool.publish import load_published, publish, statement_path
from livepool.statement import digest_set, load_statement

#: Retention used by these tests (days), and a "now" far past every test epoch.
AGE = 30


def verdict(receipt_id, reason="failed verification"):
    return {"verdict": {"receipt_id": receipt_id, "ok": False, "reason": reason}}


def closes(pool, epoch):
    return pool.GENESIS + (epoch + 1) * pool.DAY + 3_600


def old_enough(pool, epoch):
    """The first time ``epoch`` is old enough to archive with :data:`AGE`."""
    return pool.GENESIS + (epoch + 1) * pool.DAY + AGE * pool.DAY


def day(pool, epoch, n):
    return pool.GENESIS + epoch * pool.DAY + n


def two_epochs(ledger, make_receipt, pool):
    """Epoch 0: 30 receipts, a failed one, an implausible one, a verdict on time (r-4);
    epoch 1: 12 receipts, a late receipt of epoch 0, a late verdict on r-8 (clawback) and
    a verdict on time. Both closed."""
    rendition = {"fps": 30, "height": 720, "pixels": 10**12, "profile": "720p30", "width": 1280}
    ingest_receipts(
        ledger,
        [make_receipt(n) for n in range(30)]
        + [make_receipt(30, status="failed"), make_receipt(31, renditions=[rendition])]
        + [verdict("r-4")],
    )
    epochs.close_epoch(ledger, 0, now=closes(pool, 0))
    ingest_receipts(
        ledger,
        [make_receipt(100 + n, finished_at=day(pool, 1, n)) for n in range(12)]
        + [make_receipt(50)]  # finished in epoch 0, arrives late: credited to epoch 1
        + [verdict("r-8"), verdict("r-105")],
    )
    epochs.close_epoch(ledger, 1, now=closes(pool, 1))


def run_archive(ledger, folders, now, **options):
    published, archived = folders
    return archive(
        ledger,
        archive_dir=archived,
        publish_dir=published,
        older_than=options.pop("older_than", AGE),
        now=now,
        **options,
    )


@pytest.fixture
def folders(tmp_path):
    return tmp_path / "published", tmp_path / "archive"


def hot(ledger, epoch):
    with ledger.read() as conn:
        return queries.epoch_row_counts(conn, epoch)


def statement_of(ledger, epoch):
    return load_statement(epochs.epoch_statement(ledger, epoch))


def check(folders):
    published, archived = folders
    return check_archives(load_published(published), archived)


def rewrite(path: Path, lines: list[bytes]) -> None:
    with gzip.open(path, "wb") as gz:
        gz.write(b"".join(line + b"\n" for line in lines))


# --- archiving --------------------------------------------------------------------------------


def test_archive__closed_published_old_epoch__file_matches_statement_rows_deleted(
    ledger, make_receipt, pool, folders
):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    report = run_archive(ledger, folders, old_enough(pool, 0))
    assert [a.epoch for a in report.archived] == [0]  # epoch 1 is too young
    assert "epoch 1: ended" in report.plan.waiting[0]
    s0 = statement_of(ledger, 0)
    lines = list(read_lines(archive_path(folders[1], 0)))
    receipt_lines = [x for x in lines if not x.startswith(b'{"verdict"')]
    verdict_lines = lines[len(receipt_lines) :]  # receipts first, then verdicts
    assert digest_set(keccak256(x) for x in receipt_lines) == s0.receipts
    assert verdict_lines == [
        b'{"verdict":{"ok":false,"reason":"failed verification","receipt_id":"r-4"}}'
    ]
    # r-8's verdict is charged in epoch 1, not archived yet: r-8 stays, nothing else.
    assert hot(ledger, 0) == (1, 0)
    with ledger.read() as conn:
        row = queries.archive_row(conn, 0)
    assert (row["receipts"], row["verdicts"]) == (s0.receipts.count, 1)
    assert row["receipts_digest"] == s0.receipts.digest
    assert row["verdicts_digest"] == s0.verdicts.digest
    assert row["bytes"] == archive_path(folders[1], 0).stat().st_size
    assert check(folders).problems == []


def test_archive__later_epoch__releases_the_receipt_its_verdict_kept(
    ledger, make_receipt, pool, folders
):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    run_archive(ledger, folders, old_enough(pool, 0))
    report = run_archive(ledger, folders, old_enough(pool, 1))
    [done] = report.archived
    assert (done.epoch, done.earlier, done.kept) == (1, 1, 0)
    assert ledger.count(receipts) == ledger.count(verdicts) == 0
    assert report.plan.already == 1
    result = check(folders)
    assert (result.checked, result.problems) == ([0, 1], [])


def _rig_segments(ledger):
    with ledger.read() as conn:
        return conn.exec_driver_sql("SELECT coalesce(sum(segments), 0) FROM rigs").scalar()


def test_archive__everything__new_receipts_still_counted(ledger, make_receipt, pool, folders):
    """The service's counters outlive retention, and on SQLite (counted after storing, by
    rowid) new rows numbered from 1 again in an emptied table are still counted."""
    two_epochs(ledger, make_receipt, pool)
    counted = _rig_segments(ledger)
    assert counted == ledger.count(receipts) == 45
    publish(ledger, folders[0])
    run_archive(ledger, folders, old_enough(pool, 1))
    assert ledger.count(receipts) == 0
    assert _rig_segments(ledger) == counted  # history stays
    report = ingest_receipts(
        ledger, [make_receipt(100 + n, finished_at=day(pool, 40, n)) for n in range(5)]
    )
    assert report.receipts == 5
    assert _rig_segments(ledger) == counted + 5


def test_archive__run_again__skips_what_is_archived(ledger, make_receipt, pool, folders):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    run_archive(ledger, folders, old_enough(pool, 1))
    before = archive_path(folders[1], 1).read_bytes()
    again = run_archive(ledger, folders, old_enough(pool, 1) + 99 * pool.DAY)
    assert again.archived == []
    assert again.plan.already == 2
    assert archive_path(folders[1], 1).read_bytes() == before
    assert ledger.count(archives) == 2


def test_archive__dry_run__lists_and_changes_nothing(ledger, make_receipt, pool, folders):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    report = run_archive(ledger, folders, old_enough(pool, 1), dry_run=True)
    assert [(c.epoch, c.verdicts) for c in report.plan.candidates] == [(0, 1), (1, 2)]
    assert report.archived == []
    assert not folders[1].exists()
    assert ledger.count(archives) == 0
    assert hot(ledger, 0) == (32, 1)


def test_archive__same_rows__same_file_bytes(ledger, make_receipt, pool, tmp_path):
    """Deterministic output (gzip without a time stamp): a re-run can compare."""
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, tmp_path / "published")
    first = tmp_path / "first.gz"
    second = tmp_path / "second.gz"
    archiving._write_file(ledger, 0, first)
    archiving._write_file(ledger, 0, second)
    assert first.read_bytes() == second.read_bytes()


# --- refusals: nothing changes ------------------------------------------------------------------


def test_archive__too_young__kept(ledger, make_receipt, pool, folders):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    report = run_archive(ledger, folders, old_enough(pool, 0) - 1)
    assert report.archived == []
    assert report.plan.waiting == [
        "epoch 0: ended 29 d ago, younger than 30 days: kept, and every later epoch with it"
    ]
    assert hot(ledger, 0) == (32, 1)


def test_archive__open_epoch__refused(ledger, make_receipt, pool, folders):
    ingest_receipts(ledger, [make_receipt(n) for n in range(5)])
    folders[0].mkdir()
    report = run_archive(ledger, folders, old_enough(pool, 0))
    assert report.archived == []
    assert report.plan.waiting == ["epoch 0: still open: close it first"]
    assert hot(ledger, 0) == (5, 0)


def test_archive__not_published__refused_and_later_epochs_wait(ledger, make_receipt, pool, folders):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    statement_path(folders[0], 0).unlink()
    report = run_archive(ledger, folders, old_enough(pool, 1))
    assert report.archived == []
    [reason] = report.plan.waiting
    assert reason.startswith("epoch 0: not published:") and "later epochs wait" in reason
    assert hot(ledger, 0) == (32, 1) and hot(ledger, 1) == (13, 2)


def test_archive__published_statement_differs__refused(ledger, make_receipt, pool, folders):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    path = statement_path(folders[0], 0)
    path.write_bytes(path.read_bytes().replace(b'"epoch":0', b'"epoch":0 '))
    report = run_archive(ledger, folders, old_enough(pool, 0))
    assert report.archived == []
    assert "differs from the ledger's statement" in report.plan.waiting[0]


def test_archive__proposal_prepared__refused_until_reconciled(ledger, make_receipt, pool, folders):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    ledger.set_chain_action("propose", "epoch:0", "prepared", payload={"root": "0x"})
    report = run_archive(ledger, folders, old_enough(pool, 0))
    assert report.archived == []
    assert "prepared, not confirmed" in report.plan.waiting[0]
    ledger.set_chain_action("propose", "epoch:0", "confirmed", tx_hash="0x" + "11" * 32)
    assert [a.epoch for a in run_archive(ledger, folders, old_enough(pool, 0)).archived] == [0]


def test_archive__bad_input__clear_error(ledger, make_receipt, pool, folders, tmp_path):
    two_epochs(ledger, make_receipt, pool)
    with pytest.raises(ValidationError, match="not a folder of published statements"):
        run_archive(ledger, folders, old_enough(pool, 0))
    publish(ledger, folders[0])
    with pytest.raises(ValidationError, match="older_than: must be ≥ 0"):
        run_archive(ledger, folders, old_enough(pool, 0), older_than=-1)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ValidationError, match="cannot create it"):
        archive(
            ledger,
            archive_dir=blocker / "sub",
            publish_dir=folders[0],
            older_than=AGE,
            now=old_enough(pool, 0),
        )
    assert ledger.count(archives) == 0
    assert hot(ledger, 0) == (32, 1)


def test_archive__tampered_row__refused_naming_the_receipt(ledger, make_receipt, pool, folders):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    with ledger.transaction() as conn:
        conn.execute(receipts.update().where(receipts.c.id == "r-7").values(pixels_encoded=1))
    with pytest.raises(LedgerError, match=r"receipt 'r-7': its stored fields hash to"):
        run_archive(ledger, folders, old_enough(pool, 0))
    assert not archive_path(folders[1], 0).exists()
    assert list(folders[1].iterdir()) == []  # no temporary file left either
    assert hot(ledger, 0) == (32, 1)


def test_archive__stray_file_at_the_path__refused_never_overwritten(
    ledger, make_receipt, pool, folders
):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    folders[1].mkdir()
    path = archive_path(folders[1], 0)
    rewrite(path, [b'{"not":"a receipt"}'])
    before = path.read_bytes()
    with pytest.raises(LedgerError, match="exists, is not recorded as its archive"):
        run_archive(ledger, folders, old_enough(pool, 0))
    assert path.read_bytes() == before
    assert hot(ledger, 0) == (32, 1)


# --- crashes --------------------------------------------------------------------------------------


def test_crash_after_file_write__rerun_verifies_the_file_and_finishes(
    ledger, make_receipt, pool, folders, monkeypatch
):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])

    def crash(epoch, path):
        raise RuntimeError("power cut")

    monkeypatch.setattr(archiving, "after_write", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        run_archive(ledger, folders, old_enough(pool, 0))
    assert archive_path(folders[1], 0).exists()
    assert ledger.count(archives) == 0 and hot(ledger, 0) == (32, 1)
    monkeypatch.setattr(archiving, "after_write", None)
    [done] = run_archive(ledger, folders, old_enough(pool, 0)).archived
    assert done.reused and done.epoch == 0
    assert hot(ledger, 0) == (1, 0)
    assert check(folders).problems == []


def test_crash_inside_the_delete_transaction__rolled_back__rerun_finishes(
    ledger, make_receipt, pool, folders, monkeypatch
):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    real = queries.record_archive

    def crash(conn, row):  # the rows are deleted by now; the record never lands
        raise RuntimeError("power cut")

    monkeypatch.setattr(queries, "record_archive", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        run_archive(ledger, folders, old_enough(pool, 0))
    assert ledger.count(archives) == 0
    assert hot(ledger, 0) == (32, 1)  # the delete was rolled back with it
    monkeypatch.setattr(queries, "record_archive", real)
    [done] = run_archive(ledger, folders, old_enough(pool, 0)).archived
    assert done.reused
    assert hot(ledger, 0) == (1, 0)
    assert ledger.count(archives) == 1


# --- the ledger after archiving -----------------------------------------------------------------


def _fresh(ledger: Ledger, tmp_path: Path) -> Ledger:
    """An empty ledger on the same database server, configured like the fixture's."""
    if ledger.is_sqlite:
        twin = Ledger(f"sqlite:///{tmp_path / f'twin-{secrets.token_hex(3)}.db'}")
    else:
        schema = f"t_{secrets.token_hex(6)}"
        with ledger.engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
            conn.commit()
        url = ledger.engine.url.set(query={"options": f"-csearch_path={schema}"})
        twin = Ledger(url.render_as_string(hide_password=False))
    epochs.configure(
        twin,
        fee_address="0x00000000000000000000000000000000000000fe",
        genesis=1_764_028_800,
        epoch_seconds=86_400,
        settle_seconds=3_600,
        orchestrator="0x8ba1f109551bD432803012645Ac136ddd64DBA72",
        commission_bps=500,
    )
    return twin


def test_close_after_archiving__later_epochs_identical_to_a_ledger_that_kept_everything(
    ledger, make_receipt, pool, folders, tmp_path
):
    """Epoch 0 is archived after a late verdict on its receipt r-9 was ingested (charged
    in epoch 1, still open): r-9 stays for epoch 1's close, and epochs 1 and 2 close to
    the same bytes as on a ledger that never archived."""

    def feed(target: Ledger, archive_between: bool) -> list[bytes]:
        ingest_receipts(target, [make_receipt(n) for n in range(20)] + [verdict("r-4")])
        epochs.close_epoch(target, 0, now=closes(pool, 0))
        ingest_receipts(
            target,
            [make_receipt(200 + n, finished_at=day(pool, 1, n)) for n in range(8)]
            + [verdict("r-9")],
        )
        if archive_between:
            publish(target, folders[0])
            [done] = run_archive(target, folders, old_enough(pool, 0)).archived
            assert done.kept == 1  # r-9
        epochs.close_epoch(target, 1, now=old_enough(pool, 0))
        ingest_receipts(target, [make_receipt(300, finished_at=day(pool, 2, 5))])
        epochs.close_epoch(target, 2, now=old_enough(pool, 2))
        return [epochs.epoch_statement(target, n) for n in (1, 2)]

    twin = _fresh(ledger, tmp_path)
    try:
        kept_everything = feed(twin, archive_between=False)
    finally:
        twin.close()
    assert feed(ledger, archive_between=True) == kept_everything
    assert statement_of(ledger, 1).totals.clawback > 0  # r-9 was paid in epoch 0
    publish(ledger, folders[0])
    run_archive(ledger, folders, old_enough(pool, 2))
    assert ledger.count(receipts) == ledger.count(verdicts) == 0
    result = check(folders)
    assert (result.checked, result.problems) == ([0, 1, 2], [])


def test_late_verdict_after_archive__refused_with_the_reason(ledger, make_receipt, pool, folders):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    run_archive(ledger, folders, old_enough(pool, 0))
    report = ingest_receipts(ledger, [verdict("r-12")])
    assert report.rejected == 1
    [problem] = report.problems
    assert problem.reason == (
        "receipt_id: no receipt 'r-12' in the ledger (epochs up to 0 are archived: if it "
        "was credited in one of them, that epoch is settled for good and no verdict can "
        "charge it)"
    )
    # The receipt kept for epoch 1's verdict still answers as before.
    assert ingest_receipts(ledger, [verdict("r-8")]).duplicate == 1


def test_genesis__cannot_change_once_everything_is_archived(ledger, make_receipt, pool, folders):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    run_archive(ledger, folders, old_enough(pool, 1))
    assert ledger.count(receipts) == 0
    with pytest.raises(ValidationError, match="genesis: cannot change"):
        epochs.configure(ledger, genesis=pool.GENESIS + 1)


def test_receipt_of_an_archived_epoch_sent_again__not_credited_twice(
    ledger, make_receipt, pool, folders
):
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    run_archive(ledger, folders, old_enough(pool, 0))
    before = ledger.count(receipts)
    report = ingest_receipts(ledger, [make_receipt(12)])
    assert report.receipts == 0
    assert report.rejected == 1
    assert "which is archived (epochs up to 0 are)" in report.problems[0].reason
    assert ledger.count(receipts) == before  # nothing stored, nothing credited


# --- the auditor, from the archive ---------------------------------------------------------------


@pytest.fixture
def archived(ledger, make_receipt, pool, folders):
    """Both epochs archived; returns epoch 0's archive file."""
    two_epochs(ledger, make_receipt, pool)
    publish(ledger, folders[0])
    run_archive(ledger, folders, old_enough(pool, 1))
    assert check(folders).problems == []
    return archive_path(folders[1], 0)


def _edit(line: bytes, **changes) -> bytes:
    obj = json.loads(line)
    obj.update(changes)
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def test_check__changed_pixels__fails(archived, folders):
    lines = list(read_lines(archived))
    target = next(i for i, x in enumerate(lines) if b'"id":"r-1"' in x)
    lines[target] = _edit(
        lines[target], pixels_encoded=json.loads(lines[target])["pixels_encoded"] + 1
    )
    rewrite(archived, lines)
    problems = check(folders).problems
    assert any("archived receipts' digest is" in p for p in problems)
    assert any(p.startswith("epoch 0: miner") and "pixels is" in p for p in problems)
    assert any("gross is" in p for p in problems)


def test_check__dropped_line__fails(archived, folders):
    lines = list(read_lines(archived))
    rewrite(archived, [x for x in lines if b'"id":"r-2"' not in x])
    problems = check(folders).problems
    assert any("the archive holds 31 receipts, the statement 32" in p for p in problems)
    assert any("segments is" in p for p in problems)


def test_check__extra_line__fails(archived, folders, make_receipt):
    lines = list(read_lines(archived))
    extra = json.dumps(make_receipt(77), sort_keys=True, separators=(",", ":")).encode()
    rewrite(archived, [extra, *lines])
    problems = check(folders).problems
    assert any("the archive holds 33 receipts" in p for p in problems)


def test_check__dropped_verdict__fails(archived, folders):
    lines = list(read_lines(archived))
    rewrite(archived, [x for x in lines if not x.startswith(b'{"verdict"')])
    problems = check(folders).problems
    assert any("the archive holds 0 verdicts, the statement 1" in p for p in problems)
    assert any("charged_segments is 1 in the statement, 0 from the archive" in p for p in problems)


def test_check__late_verdicts_receipt_missing_from_the_archives__fails(archived, folders):
    """Epoch 1's verdict on r-8 needs epoch 0's archive (r-8 was paid there)."""
    archived.unlink()
    problems = check(folders).problems
    assert any("'r-8': its receipt is in no archive given" in p for p in problems)


def test_check__archive_without_published_statement__fails(archived, folders):
    statement_path(folders[0], 1).unlink()
    problems = check(folders).problems
    assert any("epoch 1: archived in receipts-1.jsonl.gz, but no statement" in p for p in problems)


# --- the command line -----------------------------------------------------------------------


def test_cli__archive_dry_run_archive_and_check(ledger, make_receipt, pool, tmp_path):
    two_epochs(ledger, make_receipt, pool)
    url = ledger.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--database-url", url, "--data-dir", str(tmp_path), *args])

    now = str(old_enough(pool, 1))
    result = run("archive", "--now", now)
    assert result.exit_code == 2
    assert "not a folder of published statements" in result.output
    assert run("epoch", "publish", str(tmp_path / "published")).exit_code == 0
    result = run("archive", "--dry-run", "--now", now)
    assert result.exit_code == 0, result.output
    assert "would archive epoch 0: 32 receipts, 1 verdicts" in result.output
    result = run("archive", "--now", now, "--older-than", "30")
    assert result.exit_code == 0, result.output
    assert f"epoch 0: archived 32 receipts and 1 verdicts to {tmp_path / 'archive'}" in (
        result.output
    )
    assert "epoch 1: archived 13 receipts and 2 verdicts" in result.output
    result = run("check", str(tmp_path / "published"), "--archive", str(tmp_path / "archive"))
    assert result.exit_code == 0, result.output
    assert "archives checked: 0, 1" in result.output
    lines = list(read_lines(tmp_path / "archive" / "receipts-1.jsonl.gz"))
    rewrite(tmp_path / "archive" / "receipts-1.jsonl.gz", lines[1:])
    result = run("check", str(tmp_path / "published"), "--archive", str(tmp_path / "archive"))
    assert result.exit_code == 1
    assert "the archive holds 12 receipts, the statement 13" in result.output
