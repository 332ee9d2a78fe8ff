"""`ape run keeper` (= `livepool keeper`): run the pool's schedule until stopped.

close due epochs → publish → propose → accept when ripe → push, each on its own interval,
crash-safe (a restart reconciles unconfirmed chain actions first). It sends without
asking: start it only with the account that should sign (the poster; it also accepts and
pushes). Stops cleanly on SIGTERM / Ctrl-C; `--once` runs one pass and exits 1 if a step
failed.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from livepool.chain import MAX_BATCH
from livepool.errors import LivepoolError
from livepool.keeper import (
    STEPS,
    FolderPublisher,
    Intervals,
    Keeper,
    KeeperMetrics,
    configure_logging,
    install_kill_after,
    install_stop_signals,
    sign_unattended,
)
from livepool.scripting import ScriptRun, operator_command


def _interval_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for step in reversed((*STEPS, "retry-min", "retry-max")):
        name = step.replace("-", "_")
        what = {
            "retry_min": "First wait after a failed step (doubles each failure)",
            "retry_max": "Longest wait after failed steps",
        }.get(name, f"Seconds between {step} runs")
        f = click.option(
            f"--{step}-every" if not step.startswith("retry") else f"--{step}",
            name,
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            help=f"{what} (default: from --intervals).",
        )(f)
    return f


@operator_command(
    click.option(
        "--publish-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Where statements and tree dumps are published (default: DATA_DIR/published).",
    ),
    click.option(
        "--intervals",
        "preset",
        type=click.Choice(["day", "demo"]),
        default="day",
        show_default=True,
        help="day: minutes between steps, an hour between pushes; demo: seconds.",
    ),
    _interval_options,
    click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=MAX_BATCH),
    click.option(
        "--metrics-port",
        type=click.IntRange(0, 65_535),
        default=None,
        help="Serve Prometheus /metrics on 127.0.0.1:PORT (default: not served).",
    ),
    click.option("--metrics-host", default="127.0.0.1", show_default=True),
    click.option(
        "--log-format", type=click.Choice(["kv", "json"]), default="kv", show_default=True
    ),
    click.option(
        "--log-level",
        type=click.Choice(["debug", "info", "warning"]),
        default="info",
        show_default=True,
    ),
    click.option(
        "--once", is_flag=True, help="One pass of every step, then exit (1 if any failed)."
    ),
    ledger=True,
    yes=False,
)
def cli(
    run: ScriptRun,
    publish_dir: Path | None,
    preset: str,
    batch_size: int,
    metrics_port: int | None,
    metrics_host: str,
    log_format: str,
    log_level: str,
    once: bool,
    **every: float | None,
) -> None:
    """Run the keeper: close, publish, propose, accept and push on a schedule."""
    base = Intervals.demo() if preset == "demo" else Intervals()
    overrides = {k.removesuffix("_every"): v for k, v in every.items() if v is not None}
    try:
        intervals = Intervals(**{**base.__dict__, **overrides})
        configure_logging(log_format, log_level)
        distributor = run.distributor()
        ledger = run.ledger()
    except LivepoolError as exc:
        raise click.ClickException(str(exc)) from None
    sign_unattended(run.sender)
    install_kill_after()
    metrics = KeeperMetrics()
    keeper = Keeper(
        ledger,
        distributor,
        run.sender,
        publishers=[FolderPublisher(publish_dir or run.data_dir / "published")],
        intervals=intervals,
        metrics=metrics,
        batch_size=batch_size,
    )
    stop_metrics = metrics.serve(metrics_port, metrics_host) if metrics_port else None
    try:
        if once:
            results = keeper.run_once()
            failed = [r for r in results if not r.ok]
            for r in results:
                click.echo(f"{r.step}: {'FAILED: ' + (r.error or '') if not r.ok else r.detail}")
            sys.exit(1 if failed else 0)
        stop = threading.Event()
        install_stop_signals(stop, keeper.log)
        keeper.run(stop)
    finally:
        if stop_metrics is not None:
            stop_metrics()
        ledger.close()
