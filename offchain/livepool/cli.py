"""The ``livepool`` command: a thin shell over the package (no logic lives here).

Every :class:`~livepool.errors.LivepoolError` becomes its message on stderr and exit
code 2, without a traceback. ``ingest`` exits 1 when any item was rejected or conflicted.

    livepool config --fee-address 0x… --genesis 1764028800 --commission-bps 500
    livepool simulate --miners 100 --receipts 100000 --seed 1 --out receipts.jsonl
    livepool ingest receipts.jsonl
    livepool ingest --format openpool batches/
    livepool poll http://orchestrator:7935
    livepool epoch close            # the next epoch; or N, or --all-due
    livepool epoch show N           # the statement (canonical JSON)
    livepool epoch tree N           # the OZ standard-v1 dump
    livepool epoch list
    livepool epoch publish public/  # statements + tree dumps, for miners and auditors
    livepool payout 0x… --push --threshold 10000000000000000
    livepool check public/          # offline audit of published statements
    livepool archive --dry-run      # move old epochs' receipts to DATA_DIR/archive
    livepool check public/ --archive data/archive   # … and recompute them from there
    livepool chain propose --account poster   # = ape run propose … (deploy, fund, accept,
                                              #   push, claim, verify likewise)
    livepool keeper --account poster          # = ape run keeper …: the pool's schedule
    livepool watch --source public/           # = ape run watch …: the watchtower
    livepool status [--json] --network …      # = ape run status …: where the pool stands
    livepool node start|stop|status [--port]  # a persistent local anvil (ethereum:local:foundry)
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from livepool import epochs, publish
from livepool.config import or_setting
from livepool.errors import LivepoolError, ValidationError
from livepool.ingest import IngestReport, ingest_jsonl
from livepool.ledger import Ledger

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])


def _ledger(ctx: click.Context) -> Ledger:
    obj = ctx.find_root().obj
    if obj.get("ledger") is None:
        obj["ledger"] = Ledger(obj["database_url"], data_dir=obj["data_dir"])
        ctx.call_on_close(obj["ledger"].close)
    ledger: Ledger = obj["ledger"]
    return ledger


def _configured_ledger(ctx: click.Context) -> Ledger:
    """The ledger, refusing when `livepool config` never ran: receipts decide their epoch
    by the genesis, which cannot change once one is stored."""
    from livepool.status import is_configured

    ledger = _ledger(ctx)
    if not is_configured(ledger):
        raise ValidationError(
            "the pool is not configured: run `livepool config --fee-address 0x… --genesis "
            "UNIX_TIME …` first (the genesis decides every receipt's epoch and cannot "
            "change once a receipt is stored)"
        )
    return ledger


def _errors(f: F) -> F:
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except LivepoolError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


#: ``--data-dir`` and ``--database-url``, shared with the ape scripts
#: (:mod:`livepool.scripting`): the command line, else ``LIVEPOOL_*``, else the default.
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    callback=or_setting("data_dir"),
    help="Where the SQLite ledger and local records live (env LIVEPOOL_DATA_DIR, default ./data).",
)
database_option = click.option(
    "--database-url",
    default=None,
    callback=or_setting("database_url"),
    help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db (env LIVEPOOL_DATABASE_URL; "
    "default: SQLite under --data-dir).",
)


@click.group()
@data_dir_option
@database_option
@click.version_option(package_name="livepool")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path, database_url: str | None) -> None:
    """Livepool: receipts in, exact epoch balances and Merkle roots out."""
    ape_data_folder()
    ctx.obj = {"data_dir": data_dir, "database_url": database_url, "ledger": None}


# --- config ----------------------------------------------------------------------------------


@cli.command("config")
@click.option("--fee-address", help="The pool's fee leaf (required before the first close).")
@click.option("--genesis", type=int, help="Unix time where epoch 0 starts (default 0).")
@click.option("--epoch-seconds", type=int, help="Epoch length (default 86400).")
@click.option("--settle-seconds", type=int, help="Wait after an epoch's end before closing.")
@click.option("--commission-bps", type=int, help="Pool commission; applies from the next epoch.")
@click.option("--penalty-multiplier", help="Penalty per failed verification, e.g. 1 or 3/2.")
@click.option("--decode-weight", help="Weight of decoded pixels in billing, e.g. 0 or 1/10.")
@click.option("--orchestrator", help="Pool orchestrator address (filled into Open Pool receipts).")
@click.pass_context
@_errors
def config_cmd(ctx: click.Context, /, **options: Any) -> None:
    """Show or change the pool configuration (prints it as JSON)."""
    given = {k: v for k, v in options.items() if v is not None}
    config = epochs.configure(_ledger(ctx), **given)
    click.echo(json.dumps(config.to_json(), indent=2, sort_keys=True))


# --- simulate ----------------------------------------------------------------------------------


@cli.command()
@click.option("--miners", type=int, default=100, show_default=True)
@click.option("--receipts", type=int, default=100_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--start", type=int, default=None, help="Unix time of the first segment.")
@click.option("--days", type=float, default=1.0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@_errors
def simulate(
    miners: int, receipts: int, seed: int, start: int | None, days: float, out: Path
) -> None:
    """Write a deterministic, realistic pool's receipts and verdicts as JSONL."""
    from livepool.simulate import DEFAULT_START, write_jsonl

    stats = write_jsonl(
        out, miners, receipts, seed=seed, start=DEFAULT_START if start is None else start, days=days
    )
    click.echo(f"wrote {out}: {stats.summary()}")


# --- ingest --------------------------------------------------------------------------------------


#: Longest id echoed in a report (a hostile or broken client may send megabytes).
SHOWN_ID = 40


def short_id(value: object) -> str:
    """An id as a report shows it: at most :data:`SHOWN_ID` characters, with a note of
    the full length when cut."""
    text = repr(value) if not isinstance(value, str) else value
    if len(text) <= SHOWN_ID:
        return text
    return f"{text[: SHOWN_ID - 1]}… ({len(text)} chars)"


def _print_report(report: IngestReport, show: int) -> None:
    click.echo(report.summary())
    if report.by_reason:
        click.echo("reasons:")
        for reason, count in report.by_reason.most_common():
            click.echo(f"  {count:>8}  {short_id(reason)}")
    for item in report.problems[:show]:
        where = f"item {item.index + 1}"
        who = f" {short_id(item.id)}" if item.id else ""
        click.echo(f"  {where}{who}: {item.outcome}: {item.reason}")
    flagged = getattr(report, "flagged_items", [])
    for item in flagged[:show]:
        click.echo(
            f"  item {item.index + 1} {short_id(item.id)}: flagged: {item.reason} "
            "(stored; credited nothing at close)"
        )
    if report.flagged > len(flagged[:show]):
        click.echo(f"  … and {report.flagged - len(flagged[:show])} more flagged")
    hidden = report.conflict + report.rejected - min(show, len(report.problems))
    if hidden > 0:
        click.echo(f"  … and {hidden} more")


@cli.command()
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "openpool"]),
    default="jsonl",
    show_default=True,
    help="jsonl: receipts and {'verdict': …} lines; openpool: Open Pool event batches "
    "(a file or a folder).",
)
@click.option("--orchestrator", help="For --format openpool: the pool orchestrator address.")
@click.option("--show", type=int, default=20, show_default=True, help="Problems listed in full.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a tty).")
@click.pass_context
@_errors
def ingest(
    ctx: click.Context,
    source: Path,
    fmt: str,
    orchestrator: str | None,
    show: int,
    progress: bool | None,
) -> None:
    """Ingest receipts and verdicts; exit 1 if any was rejected or conflicted."""
    ledger = _configured_ledger(ctx)
    if progress is None:
        progress = sys.stderr.isatty()
    if fmt == "openpool":
        from livepool.openpool import FILLED_IN, import_path

        click.echo(
            "openpool: filling in what the fork's events lack: "
            + ", ".join(f"{k}={v!r}" for k, v in FILLED_IN.items() if k != "status")
            + ", orchestrator=<pool orchestrator>, pixels_per_unit=1",
            err=True,
        )
        op_report = import_path(ledger, source, orchestrator=orchestrator)
        _print_report(op_report.ingest, show)
        click.echo(f"rig events: {op_report.rig_events}")
        for reason, count in op_report.ignored.most_common():
            click.echo(f"  ignored {count}: {reason}")
        sys.exit(0 if op_report.ok else 1)
    if source.is_dir():
        raise click.UsageError("--format jsonl reads one file, not a folder")
    from tqdm import tqdm  # type: ignore[import-untyped]

    size = os.path.getsize(source)
    with tqdm(total=size, unit="B", unit_scale=True, file=sys.stderr, disable=not progress) as bar:
        last = [0]

        def advance(done: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        report = ingest_jsonl(ledger, source, progress=advance)
    _print_report(report, show)
    sys.exit(0 if report.ok else 1)


@cli.command("poll")
@click.argument("url")
@click.option("--since", type=int, default=None, help="Unix time (default: the last poll).")
@click.option("--orchestrator", help="The pool orchestrator address to fill in.")
@click.option("--every", type=float, default=None, help="Keep polling every N seconds.")
@click.pass_context
@_errors
def poll_cmd(
    ctx: click.Context, url: str, since: int | None, orchestrator: str | None, every: float | None
) -> None:
    """Import Open Pool events from GET URL/pool/events?lastCheckTime=…"""
    import time

    from livepool.openpool import poll

    ledger = _configured_ledger(ctx)
    click.echo(
        "openpool: filling in stream='openpool', seq=0, pixels_decoded=0, "
        "orchestrator=<pool orchestrator>",
        err=True,
    )
    while True:
        report = poll(ledger, url, since, orchestrator=orchestrator)
        _print_report(report.ingest, 20)
        click.echo(f"rig events: {report.rig_events}")
        if every is None:
            sys.exit(0 if report.ok else 1)
        since = None
        time.sleep(every)


# --- epochs -------------------------------------------------------------------------------------


@cli.group()
def epoch() -> None:
    """Close epochs and read their statements and trees."""


#: `epoch close --all-due` asks before closing more epochs than this.
ASK_ABOVE = 3


@epoch.command("close")
@click.argument("number", type=int, required=False)
@click.option("--all-due", is_flag=True, help="Close every epoch that is due, in order.")
@click.option("--now", type=int, default=None, help="Pretend it is this unix time.")
@click.option(
    "--yes", "-y", is_flag=True, help=f"With --all-due: close more than {ASK_ABOVE} without asking."
)
@click.pass_context
@_errors
def epoch_close(
    ctx: click.Context, number: int | None, all_due: bool, now: int | None, yes: bool
) -> None:
    """Close epoch NUMBER (default: the next one), or --all-due (asks first when more
    than a few are due: a genesis far back would close a year of empty epochs)."""
    ledger = _ledger(ctx)
    if all_due and number is not None:
        raise click.UsageError("give an epoch NUMBER or --all-due, not both")
    if all_due and not yes:
        due = epochs.due_epochs(ledger, now=now)
        if len(due) > ASK_ABOVE and not click.confirm(
            f"{len(due)} epochs are due ({due[0]}…{due[-1]}); each becomes a statement, "
            "most likely empty (check the genesis with `livepool config`). Close them all?",
            default=False,
        ):
            raise click.Abort()
    closed = (
        epochs.close_due(ledger, now=now)
        if all_due
        else [epochs.close_epoch(ledger, number, now=now)]
    )
    if not closed:
        click.echo("no epoch is due")
    for c in closed:
        what = "already closed" if c.already_closed else "closed"
        click.echo(
            f"epoch {c.number} {what}: root {c.root} data_hash {c.data_hash} "
            f"total {c.total} wei, {c.miners} miners"
        )


@epoch.command("show")
@click.argument("number", type=int)
@click.pass_context
@_errors
def epoch_show(ctx: click.Context, number: int) -> None:
    """Print the statement of closed epoch NUMBER (canonical JSON)."""
    click.echo(epochs.epoch_statement(_ledger(ctx), number).decode())


@epoch.command("tree")
@click.argument("number", type=int)
@click.pass_context
@_errors
def epoch_tree(ctx: click.Context, number: int) -> None:
    """Print the Merkle tree of closed epoch NUMBER (OZ standard-v1 dump)."""
    click.echo(epochs.epoch_tree(_ledger(ctx), number).dump_json())


@epoch.command("list")
@click.pass_context
@_errors
def epoch_list(ctx: click.Context) -> None:
    """List the known epochs."""
    rows = epochs.list_epochs(_ledger(ctx))
    if not rows:
        click.echo("no epochs yet")
        return
    from livepool.humantime import iso

    click.echo(f"{'epoch':>8}  {'state':<8} {'window (UTC)':<44}  {'root':<66}  total (wei)")
    for r in rows:
        root = r["root"] or "-"
        total = r["total"] if r["total"] is not None else "-"
        window = f"[{iso(r['start'])}, {iso(r['end'])})"
        click.echo(f"{r['number']:>8}  {r['state']:<8} {window:<44}  {root:<66}  {total}")


@epoch.command("publish")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
@_errors
def epoch_publish(ctx: click.Context, folder: Path) -> None:
    """Write every closed epoch's statement and tree dump to FOLDER (never rewritten)."""
    written = publish.publish(_ledger(ctx), folder)
    for path in written:
        click.echo(f"published {path}")
    if not written:
        click.echo(f"{folder}: already up to date")


@cli.command("payout")
@click.argument("address")
@click.option("--push/--claim", "push", required=True, help="Pool pushes, or the miner claims.")
@click.option("--threshold", type=int, default=0, show_default=True, help="Push at ≥ this (wei).")
@click.pass_context
@_errors
def payout_cmd(ctx: click.Context, address: str, push: bool, threshold: int) -> None:
    """Record how miner ADDRESS is paid: push at a threshold, or claim (the default)."""
    from livepool.hashing import checksum_address

    try:
        account = checksum_address(address)
    except ValueError as exc:
        raise ValidationError(f"address: {exc}") from None
    _ledger(ctx).set_payout(account, "push" if push else "claim", threshold)
    click.echo(f"{account}: {'push at ≥ ' + str(threshold) + ' wei' if push else 'claims'}")


@cli.command("check")
@click.argument("source")
@click.option(
    "--archive",
    "archive_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A folder of receipts-N.jsonl.gz (livepool archive): recompute each archived "
    "epoch's digests and miner lines from it.",
)
def check_cmd(source: str, archive_dir: Path | None) -> None:
    """Check published statements and tree dumps (a folder or a base URL serving them)
    offline: every figure follows from the aggregates, epochs chain, roots rebuild, each
    tree dump loads and has its statement's root and leaves; with --archive, each archived
    epoch's receipts and verdicts give its statement's digests and miner lines. The
    on-chain half of the audit is `ape run verify`."""
    from livepool.archive import archive_files, check_archives
    from livepool.audit import audit

    try:
        wanted = sorted(archive_files(archive_dir)) if archive_dir is not None else []
        statements = publish.load_published(source, wanted)
        trees = publish.load_trees(source, statements)
        report = audit(statements=statements, root_events=[], funded={}, trees=trees)
        if archive_dir is not None:
            checked = check_archives(statements, archive_dir)
            report.archives_checked = checked.checked
            report.problems += checked.problems
    except LivepoolError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(report.render())
    sys.exit(0 if report.ok else 1)


@cli.command("archive")
@click.option(
    "--older-than",
    type=float,
    default=None,
    help="Archive epochs whose window ended at least this many days ago "
    "(env LIVEPOOL_RETAIN_DAYS, default 30).",
)
@click.option(
    "--archive-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where receipts-N.jsonl.gz go (env LIVEPOOL_ARCHIVE_DIR, default DATA_DIR/archive).",
)
@click.option(
    "--publish-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the epochs are published (env LIVEPOOL_PUBLISHED_DIR, default "
    "DATA_DIR/published): an epoch is archived only once published there.",
)
@click.option("--dry-run", is_flag=True, help="List what would be archived; change nothing.")
@click.option("--now", type=int, default=None, help="Pretend it is this unix time.")
@click.pass_context
@_errors
def archive_cmd(
    ctx: click.Context,
    older_than: float | None,
    archive_dir: Path | None,
    publish_dir: Path | None,
    dry_run: bool,
    now: int | None,
) -> None:
    """Move the receipts and verdicts of old, closed, published epochs from the ledger to
    compressed JSONL files (checked against each statement first), oldest first."""
    from livepool.archive import archive
    from livepool.config import get_settings

    settings = get_settings()
    data_dir: Path = ctx.find_root().obj["data_dir"]
    age = settings.retain_days if older_than is None else older_than
    report = archive(
        _ledger(ctx),
        archive_dir=archive_dir or settings.archive_dir or data_dir / "archive",
        publish_dir=publish_dir or settings.published_dir or data_dir / "published",
        older_than=age,
        now=now,
        dry_run=dry_run,
        progress=lambda done: click.echo(done.line()),
    )
    planned = report.plan
    if dry_run:
        for c in planned.candidates:
            click.echo(
                f"would archive epoch {c.epoch}: {c.receipts} receipts, {c.verdicts} verdicts"
            )
    for reason in planned.waiting:
        click.echo(f"waiting: {reason}")
    if not planned.candidates:
        click.echo(
            f"nothing to archive (archived before: {planned.already} epochs; "
            f"closed with nothing to archive: {planned.empty})"
        )


CHAIN_SCRIPTS = ("deploy", "fund", "propose", "accept", "push", "claim", "verify", "status")


@cli.command(
    "chain",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("script", type=click.Choice(CHAIN_SCRIPTS))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def chain_cmd(script: str, args: tuple[str, ...]) -> None:
    """Run an on-chain operation: the ape script of that name (`ape run SCRIPT ARGS…`).

    One implementation either way: `livepool chain propose --account poster` is
    `ape run propose --account poster`."""
    _ape_run(script, args)


def ape_data_folder() -> None:
    """Create the ape data folder named by ``APE_DATA_FOLDER`` when it is missing (ape
    itself fails with a FileNotFoundError traceback), saying so on stderr."""
    folder = os.environ.get("APE_DATA_FOLDER")
    if folder and not Path(folder).is_dir():
        try:
            Path(folder).mkdir(parents=True)
        except OSError as exc:
            raise click.ClickException(
                f"APE_DATA_FOLDER={folder} does not exist and cannot be created ({exc}): "
                "point it at a writable folder, or unset it (default ~/.ape)"
            ) from None
        click.echo(f"created the ape data folder {folder} (APE_DATA_FOLDER)", err=True)


def _ape_run(script: str, args: tuple[str, ...]) -> None:
    ape_data_folder()
    bin_dir = Path(sys.executable).parent
    # ape-vyper finds the pinned compiler on PATH: the venv's bin must come first.
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    ape = bin_dir / "ape"
    os.execv(str(ape), [str(ape), "run", script, *args])


_PASS_THROUGH = {
    "ignore_unknown_options": True,
    "allow_interspersed_args": False,
    "help_option_names": [],  # `--help` goes to the script
}


@cli.command("keeper", context_settings=_PASS_THROUGH)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def keeper_cmd(args: tuple[str, ...]) -> None:
    """Run the pool's schedule (close, publish, propose, accept, push): `ape run keeper`."""
    _ape_run("keeper", args)


@cli.command("status", context_settings=_PASS_THROUGH)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def status_cmd(args: tuple[str, ...]) -> None:
    """Epochs, unconfirmed chain actions, the contract's balance and what to do next:
    `ape run status` (`--json` for JSON, `--network` for the chain)."""
    _ape_run("status", args)


@cli.command("watch", context_settings=_PASS_THROUGH)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def watch_cmd(args: tuple[str, ...]) -> None:
    """The watchtower: audit every proposed root, revoke or alert: `ape run watch`."""
    _ape_run("watch", args)


@cli.command("demo")
@click.option("--port", type=int, default=8000, show_default=True, help="The service's port.")
@click.option("--anvil-port", type=int, default=0, help="anvil's port (default: a free one).")
@click.option(
    "--epochs",
    "epochs_",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many accepted epochs (with --exit).",
)
@click.option(
    "--exit",
    "exit_",
    is_flag=True,
    help="Bounded and headless: print a summary, "
    "exit 0 only when the audit passes (needs --epochs).",
)
@click.option(
    "--tamper-epoch",
    type=click.IntRange(min=1),
    default=None,
    help="At this epoch the operator proposes a raised root once; the watchtower must revoke it.",
)
@click.option("--epoch-seconds", type=click.IntRange(min=5), default=60, show_default=True)
@click.option("--settle-seconds", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--challenge-seconds", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--rate", type=float, default=3.0, show_default=True, help="Receipts per second.")
@click.option(
    "--demo-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data") / "demo",
    show_default=True,
    help="A fresh folder for the demo's ledger, deployment and logs (emptied first).",
)
def demo_cmd(
    port: int, anvil_port: int, epochs_: int | None, exit_: bool, tamper_epoch: int | None,
    epoch_seconds: int, settle_seconds: int, challenge_seconds: int, rate: float,
    demo_dir: Path,
) -> None:  # fmt: skip
    """A live pool on this machine: anvil, the distributor, the service, the keeper, the
    watchtower and a simulated orchestrator posting receipts; Ctrl-C stops it all."""
    from livepool.demo import DemoOptions, run_demo

    if exit_ and epochs_ is None:
        raise click.UsageError("--exit needs --epochs N")
    options = DemoOptions(
        data_dir=demo_dir.resolve(),
        port=port,
        anvil_port=anvil_port,
        epochs=epochs_ if exit_ or epochs_ else None,
        tamper_epoch=tamper_epoch,
        epoch_seconds=epoch_seconds,
        settle_seconds=settle_seconds,
        challenge_seconds=challenge_seconds,
        rate=rate,
    )
    sys.exit(run_demo(options))


# --- node ---------------------------------------------------------------------------------------


@cli.group()
def node() -> None:
    """A persistent local chain (anvil) for `--network ethereum:local:foundry`."""


def _port_option(f: F) -> F:
    from livepool.node import default_port

    return click.option(
        "--port",
        type=click.IntRange(1, 65_535),
        default=default_port,
        show_default="8545, or APE_FOUNDRY_HOST's port",
        help="Port on 127.0.0.1 (ape-foundry connects to 8545 unless APE_FOUNDRY_HOST says).",
    )(f)


@node.command("start")
@_port_option
@click.option("--block-time", type=int, default=None, help="Mine every N s (default: at once).")
@click.pass_context
@_errors
def node_start(ctx: click.Context, port: int, block_time: int | None) -> None:
    """Start anvil in the background (state kept under DATA_DIR/node across restarts)."""
    from livepool import node as local

    info, started = local.start(ctx.find_root().obj["data_dir"], port, block_time=block_time)
    what = "started" if started else "already running"
    click.echo(f"anvil {what} at {info.url} (pid {info.pid}, chain 31337); log {info.log}")
    click.echo("dev accounts TEST::0…TEST::9 hold 10000 ETH each; stop it: livepool node stop")


@node.command("stop")
@_port_option
@click.pass_context
@_errors
def node_stop(ctx: click.Context, port: int) -> None:
    """Stop the anvil this data dir started (its state is saved for the next start)."""
    from livepool import node as local

    info = local.stop(ctx.find_root().obj["data_dir"], port)
    click.echo(f"anvil on port {port}: {'stopped' if info else 'not running'}")


@node.command("status")
@_port_option
@click.pass_context
@_errors
def node_status(ctx: click.Context, port: int) -> None:
    """Whether a node answers on the port; exit 1 if none."""
    from livepool import node as local

    info, chain = local.status(ctx.find_root().obj["data_dir"], port)
    if chain is None:
        click.echo(f"no node answers on 127.0.0.1:{port}: livepool node start")
        sys.exit(1)
    who = f"started by this data dir (pid {info.pid})" if info else "not started by this data dir"
    click.echo(f"node on 127.0.0.1:{port}: chain {chain}, {who}")


# The service's commands live in livepool.api.cli.
from livepool.api.cli import serve, token  # noqa: E402

cli.add_command(serve)
cli.add_command(token)


def main() -> None:
    """Entry point of the ``livepool`` command."""
    cli(prog_name="livepool")


if __name__ == "__main__":  # pragma: no cover
    main()
