"""The keeper: the pool's schedule as one long-running process.

Steps, in order, each on its own interval (:class:`Intervals`):

``close``    close every due epoch (:func:`livepool.epochs.close_due`);
``publish``  write each closed epoch's statement and tree dump (:class:`FolderPublisher`;
             a service upload is one more :class:`Publisher`);
``propose``  propose the latest closed, *published* epoch's root
             (:func:`livepool.operations.propose_latest`), unless another root is pending;
``accept``   accept the pending root once its challenge window has passed
             (:func:`livepool.operations.accept`), only if it is the ledger's own root;
``push``     pay push-mode miners from the active root (:func:`livepool.operations.push`).

It owns no chain logic: every transaction goes through :mod:`livepool.operations`, whose
chain actions are recorded *prepared* before sending and *confirmed* after. On start, and
before anything new, :meth:`Keeper.reconcile` settles every action left *prepared* by a
crash against the chain, so killing the keeper at any moment and starting it again does
nothing twice and loses nothing. A failing step (node down, insolvency, a refused root) is
logged and retried with exponential backoff; it never stops the loop. A step that changed
something brings the next step forward (a close is published and proposed at once).

This module never imports ape (the chain is reached through the
:class:`~livepool.chain.Distributor` it is given) and never reads the environment at
import time.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from livepool import epochs, operations, publish
from livepool.chain import MAX_BATCH, ZERO32, Distributor, Sent
from livepool.errors import ChainError, LivepoolError
from livepool.ledger import Ledger

__all__ = [
    "KILL_AFTER_ENV",
    "STEPS",
    "FolderPublisher",
    "Intervals",
    "Keeper",
    "KeeperMetrics",
    "Publisher",
    "StepResult",
    "configure_logging",
    "install_kill_after",
    "install_stop_signals",
    "sign_unattended",
]

#: The steps, in the order one pass runs them.
STEPS = ("close", "publish", "propose", "accept", "push")

#: Fault injection for crash tests: a comma-separated list of chain actions (``propose``,
#: ``accept``, ``push``) after whose transaction is mined — and before it is recorded —
#: the process SIGKILLs itself. Read only by :func:`install_kill_after`.
KILL_AFTER_ENV = "LIVEPOOL_KEEPER_KILL_AFTER"


# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Intervals:
    """Seconds between runs of each step, and the backoff after a failure.

    The defaults suit a 1-day epoch with a challenge window of hours: a close or a
    proposal is at most five minutes late, pushes go out hourly. :meth:`demo` suits a
    minute-long epoch. A failed step is retried after ``retry_min`` seconds, doubling up
    to ``retry_max``, whatever its interval.
    """

    close: float = 300.0
    publish: float = 300.0
    propose: float = 300.0
    accept: float = 300.0
    push: float = 3_600.0
    retry_min: float = 30.0
    retry_max: float = 1_800.0

    def __post_init__(self) -> None:
        for name in (*STEPS, "retry_min", "retry_max"):
            value = getattr(self, name)
            if not value > 0:
                raise LivepoolError(f"keeper interval {name}: must be > 0 seconds, got {value}")
        if self.retry_min > self.retry_max:
            raise LivepoolError(
                f"keeper intervals: retry_min {self.retry_min} exceeds retry_max {self.retry_max}"
            )

    @classmethod
    def demo(cls) -> Intervals:
        """Seconds, for an accelerated clock (epochs of a minute, windows of seconds)."""
        return cls(close=1, publish=1, propose=1, accept=1, push=2, retry_min=1, retry_max=10)

    def of(self, step: str) -> float:
        return float(getattr(self, step))

    def backoff(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failures (≥ 1)."""
        return float(min(self.retry_max, self.retry_min * 2 ** max(0, failures - 1)))


# --- publishing ----------------------------------------------------------------------------


class Publisher(Protocol):
    """Somewhere closed epochs are published (a folder; later, the service).

    ``publish`` must be idempotent (publishing again changes nothing) and return what it
    newly published; ``has`` says whether an epoch's statement is out, so that a root is
    never proposed before auditors can fetch the data behind it.
    """

    @property
    def name(self) -> str: ...

    def publish(self, ledger: Ledger) -> list[str]: ...

    def has(self, epoch: int) -> bool: ...


@dataclass(frozen=True)
class FolderPublisher:
    """Statements and tree dumps as files (:func:`livepool.publish.publish`)."""

    folder: Path

    @property
    def name(self) -> str:
        return f"folder:{self.folder}"

    def publish(self, ledger: Ledger) -> list[str]:
        return [str(p) for p in publish.publish(ledger, self.folder)]

    def has(self, epoch: int) -> bool:
        return (
            publish.statement_path(self.folder, epoch).exists()
            and publish.tree_path(self.folder, epoch).exists()
        )


# --- observability -----------------------------------------------------------------------------


class KeeperMetrics:
    """The keeper's Prometheus metrics, in their own registry (served on their own port)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.steps = Counter("livepool_keeper_steps", "Steps run, by step.", ["step"], registry=r)
        self.failures = Counter(
            "livepool_keeper_step_failures", "Steps that failed, by step.", ["step"], registry=r
        )
        self.last_success = Gauge(
            "livepool_keeper_last_success_timestamp_seconds",
            "Unix time of each step's last success.",
            ["step"],
            registry=r,
        )
        self.duration = Histogram(
            "livepool_keeper_step_duration_seconds", "How long steps take.", ["step"], registry=r
        )
        self.epoch = Gauge(
            "livepool_keeper_epoch",
            "Latest epoch at each stage (closed in the ledger, pending or active on-chain; "
            "-1: none).",
            ["stage"],
            registry=r,
        )
        self.epoch_lag = Gauge(
            "livepool_keeper_epoch_lag",
            "Epochs due by the clock that are not yet active on-chain.",
            registry=r,
        )
        self.liabilities = Gauge(
            "livepool_keeper_liabilities_wei",
            "What the contract holds back for miners (balance - surplus()), wei.",
            registry=r,
        )
        self.balance = Gauge(
            "livepool_keeper_balance_wei", "The distributor's ETH balance, wei.", registry=r
        )
        for step in STEPS:  # every series exists from the start, at 0
            self.steps.labels(step)
            self.failures.labels(step)

    def serve(self, port: int, host: str = "127.0.0.1") -> Callable[[], None]:
        """Serve ``/metrics`` on ``host:port`` in a daemon thread; return its stopper."""
        from prometheus_client import start_http_server

        server, thread = start_http_server(port, addr=host, registry=self.registry)

        def stop() -> None:
            server.shutdown()
            thread.join(timeout=5)

        return stop


def configure_logging(fmt: str = "kv", level: str = "info", stream: Any = None) -> None:
    """Structured log lines on stderr: ``kv`` (key=value) or ``json`` (one object a line),
    at ``level`` and above (``debug`` adds every step's outcome, idle or not)."""
    if fmt not in ("kv", "json"):
        raise LivepoolError(f"log format must be kv or json, got {fmt!r}")
    levels = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
    if level not in levels:
        raise LivepoolError(f"log level must be one of {', '.join(levels)}, got {level!r}")
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if fmt == "json"
        else structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"])
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(levels[level]),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )


def install_stop_signals(stop: threading.Event, log: Any) -> None:
    """SIGTERM and SIGINT ask for a clean stop: the current step finishes, then exit."""

    def handler(signum: int, _frame: Any) -> None:
        log.info("stop_requested", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def sign_unattended(account: Any) -> None:
    """Let a keystore account sign without asking for each transaction (a service has
    nobody to answer). Its passphrase comes from ``APE_ACCOUNTS_<alias>_PASSPHRASE`` (ape
    reads it) or is asked once at start. Test accounts sign unasked already."""
    if account is not None and hasattr(account, "set_autosign"):
        account.set_autosign(True)


def install_kill_after(environ: Any = None) -> set[str]:
    """Fault injection for crash tests (:data:`KILL_AFTER_ENV`): SIGKILL this process right
    after a chain action's transaction is mined, before it is recorded. Returns the kinds
    armed (empty: nothing installed)."""
    environ = os.environ if environ is None else environ
    kinds = {k.strip() for k in environ.get(KILL_AFTER_ENV, "").split(",") if k.strip()}
    if not kinds:
        return kinds
    previous = operations.after_send

    def die(kind: str, sent: Sent) -> None:
        if previous is not None:
            previous(kind, sent)
        if kind in kinds:
            sys.stderr.write(f"{KILL_AFTER_ENV}: killed after {kind} {sent.tx_hash}\n")
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    operations.after_send = die
    return kinds


# --- the keeper -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepResult:
    """What one run of a step did: ``ok`` False when it raised; ``changed`` when it
    closed, published or sent (or recorded) something."""

    step: str
    ok: bool
    changed: bool
    detail: str
    error: str | None = None


@dataclass
class _Schedule:
    next_run: dict[str, float] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)


def _action_key(epoch: int) -> str:
    # operations.py names propose/accept actions by epoch; the keeper reads them only to
    # tell "sent or recorded now" from "done before".
    return f"epoch:{epoch}"


class Keeper:
    """Runs the steps against one ledger and one distributor with one account."""

    def __init__(
        self,
        ledger: Ledger,
        distributor: Distributor,
        account: Any,
        *,
        publishers: Sequence[Publisher] = (),
        intervals: Intervals | None = None,
        metrics: KeeperMetrics | None = None,
        batch_size: int = MAX_BATCH,
        clock: Callable[[], float] = time.time,
        log: Any = None,
    ) -> None:
        self.ledger = ledger
        self.distributor = distributor
        self.account = account
        self.publishers = list(publishers)
        self.intervals = intervals or Intervals()
        self.metrics = metrics or KeeperMetrics()
        self.batch_size = batch_size
        self.clock = clock
        self.log = log if log is not None else structlog.get_logger("livepool.keeper")
        self._steps: dict[str, Callable[[], tuple[bool, str]]] = {
            "close": self.close,
            "publish": self.publish,
            "propose": self.propose,
            "accept": self.accept,
            "push": self.push,
        }

    # -- reconciliation ------------------------------------------------------------------

    def reconcile(self) -> list[str]:
        """Settle every chain action left *prepared* by a crash, before anything new.

        A prepared proposal or acceptance whose effect is on-chain is recorded (nothing
        sent); one that never got mined stays prepared and its step sends it again. A
        prepared push batch is settled from the `Claimed` logs by :func:`operations.push`
        (which recovers before it pushes anything). Returns what was done.
        """
        done = operations.reconcile(self.ledger, self.distributor)
        d = self.distributor
        if self.ledger.chain_actions("push", state="prepared"):
            if d.root == ZERO32:
                raise ChainError("reconcile: push batches are prepared but no root is active")
            report = operations.push(self.ledger, d, self.account, batch_size=self.batch_size)
            done += [f"push {line}" for line in report.recovered]
            done += [
                f"push epoch {report.epoch}: paid {len(b.paid)} in {b.sent.tx_hash}"
                for b in report.batches
            ]
        for line in done:
            self.log.info("reconciled", action=line)
        return done

    # -- steps (each returns (changed, detail); raising is a failure) -------------------------

    def close(self) -> tuple[bool, str]:
        closed = [
            c for c in epochs.close_due(self.ledger, now=int(self.clock())) if not c.already_closed
        ]
        for c in closed:
            self.log.info(
                "epoch_closed", epoch=c.number, root=c.root, total_wei=str(c.total), miners=c.miners
            )
        if not closed:
            return False, "no epoch is due"
        return True, "closed " + ", ".join(str(c.number) for c in closed)

    def publish(self) -> tuple[bool, str]:
        written: list[str] = []
        for publisher in self.publishers:
            new = publisher.publish(self.ledger)
            if new:
                self.log.info("published", to=publisher.name, files=new)
            written += new
        return bool(written), f"{len(written)} new files" if written else "up to date"

    def _latest_closed(self) -> int | None:
        closed = [
            int(e["number"]) for e in epochs.list_epochs(self.ledger) if e["state"] == "closed"
        ]
        return closed[-1] if closed else None

    def propose(self) -> tuple[bool, str]:
        number = self._latest_closed()
        if number is None:
            return False, "no closed epoch yet"
        before = self.ledger.chain_action("propose", _action_key(number))
        if before is not None and before["state"] == "confirmed":
            return False, f"epoch {number} was proposed before"
        pending = self.distributor.pending
        if pending.exists and pending.epoch != number:
            return False, f"epoch {pending.epoch} is pending; epoch {number} waits"
        missing = [p.name for p in self.publishers if not p.has(number)]
        if missing:
            return False, f"epoch {number} is not published yet ({', '.join(missing)})"
        outcome = operations.propose_latest(self.ledger, self.distributor, self.account)
        self.log.info(
            "root_proposed" if outcome.sent else "root_recorded",
            epoch=outcome.epoch,
            root=outcome.root,
            total_wei=str(outcome.total),
            data_hash=outcome.data_hash,
            tx=outcome.sent.tx_hash if outcome.sent else None,
            gas=outcome.sent.gas_used if outcome.sent else None,
            note=outcome.note,
        )
        return True, outcome.note

    def accept(self) -> tuple[bool, str]:
        d = self.distributor
        pending = d.pending
        if not pending.exists:
            return False, "no root is pending"
        now = d.now()
        if now < pending.valid_at:
            return False, f"epoch {pending.epoch} is ripe in {pending.valid_at - now} s"
        ours = {int(e["number"]): e["root"] for e in epochs.list_epochs(self.ledger)}
        if ours.get(pending.epoch) != "0x" + pending.root.hex():
            raise ChainError(
                f"accept: the pending root 0x{pending.root.hex()} of epoch {pending.epoch} is "
                "not the ledger's root: not accepting it (the guardian should revoke it)"
            )
        epoch, sent = operations.accept(self.ledger, d, self.account)
        self.log.info(
            "root_accepted",
            epoch=epoch,
            tx=sent.tx_hash if sent else None,
            gas=sent.gas_used if sent else None,
        )
        return True, f"epoch {epoch} accepted"

    def push(self) -> tuple[bool, str]:
        if self.distributor.root == ZERO32:
            return False, "no root is active yet"
        report = operations.push(
            self.ledger, self.distributor, self.account, batch_size=self.batch_size
        )
        for line in report.recovered:
            self.log.info("push_recovered", detail=line)
        for batch in report.batches:
            self.log.info(
                "pushed",
                epoch=report.epoch,
                tx=batch.sent.tx_hash,
                miners=len(batch.paid),
                paid_wei=str(sum(batch.paid.values())),
                gas_cost_wei=str(batch.sent.cost),
            )
            for account, amount in batch.failed.items():
                self.log.warning("payout_refused", account=account, amount_wei=str(amount))
        changed = bool(report.batches or report.recovered)
        paid = sum(report.paid.values())
        return changed, f"epoch {report.epoch}: {len(report.batches)} batches, {paid} wei"

    # -- running -------------------------------------------------------------------------------

    def run_step(self, step: str) -> StepResult:
        """Run one step; a raised error is logged and counted, never propagated."""
        started = time.monotonic()
        self.metrics.steps.labels(step).inc()
        try:
            changed, detail = self._steps[step]()
        except Exception as exc:  # a failing step must never stop the keeper
            self.metrics.failures.labels(step).inc()
            expected = isinstance(exc, LivepoolError)
            self.log.error(
                "step_failed",
                step=step,
                error=str(exc) or type(exc).__name__,
                error_type=type(exc).__name__,
                exc_info=not expected,
            )
            return StepResult(step, False, False, "failed", str(exc) or type(exc).__name__)
        finally:
            self.metrics.duration.labels(step).observe(time.monotonic() - started)
        self.metrics.last_success.labels(step).set(time.time())
        self.log.debug("step_ok", step=step, changed=changed, detail=detail)
        return StepResult(step, True, changed, detail)

    def observe(self) -> None:
        """Refresh the gauges (epochs, lag, liabilities); a failure is only logged."""
        try:
            d = self.distributor
            active = d.epoch if d.root != ZERO32 else -1
            pending = d.pending
            closed = self._latest_closed()
            m = self.metrics
            m.epoch.labels("closed").set(-1 if closed is None else closed)
            m.epoch.labels("pending").set(pending.epoch if pending.exists else -1)
            m.epoch.labels("active").set(active)
            config = epochs.pool_config(self.ledger)
            last_due = (
                int(self.clock()) - config.settle_seconds - config.genesis
            ) // config.epoch_seconds - 1
            m.epoch_lag.set(max(0, last_due - active))
            m.liabilities.set(d.balance - d.surplus)
            m.balance.set(d.balance)
        except Exception as exc:
            self.log.warning("observe_failed", error=str(exc) or type(exc).__name__)

    def run_once(self) -> list[StepResult]:
        """Reconcile, then one pass of every step in order (for cron and tests)."""
        try:
            self.reconcile()
        except Exception as exc:
            self.metrics.failures.labels("reconcile").inc()
            self.log.error("reconcile_failed", error=str(exc) or type(exc).__name__)
            return [StepResult("reconcile", False, False, "failed", str(exc))]
        results = [self.run_step(step) for step in STEPS]
        self.observe()
        return results

    def run(self, stop: threading.Event) -> None:
        """Reconcile (retrying until it succeeds), then run every step on its interval
        until ``stop`` is set; the step under way when it is set finishes first."""
        self.log.info(
            "keeper_started",
            distributor=self.distributor.address,
            account=str(getattr(self.account, "address", self.account)),
            intervals={s: self.intervals.of(s) for s in STEPS},
        )
        failures = 0
        while not stop.is_set():
            try:
                self.reconcile()
                break
            except Exception as exc:
                failures += 1
                delay = self.intervals.backoff(failures)
                self.metrics.failures.labels("reconcile").inc()
                self.log.error(
                    "reconcile_failed", error=str(exc) or type(exc).__name__, retry_in=delay
                )
                stop.wait(delay)
        schedule = _Schedule(
            next_run=dict.fromkeys(STEPS, time.monotonic()), failures=dict.fromkeys(STEPS, 0)
        )
        while not stop.is_set():
            ran = False
            for index, step in enumerate(STEPS):
                if stop.is_set():
                    break
                now = time.monotonic()
                if schedule.next_run[step] > now:
                    continue
                result = self.run_step(step)
                ran = True
                now = time.monotonic()
                if result.ok:
                    schedule.failures[step] = 0
                    schedule.next_run[step] = now + self.intervals.of(step)
                    if result.changed and index + 1 < len(STEPS):
                        schedule.next_run[STEPS[index + 1]] = now  # hand on at once
                else:
                    schedule.failures[step] += 1
                    delay = self.intervals.backoff(schedule.failures[step])
                    schedule.next_run[step] = now + delay
                    self.log.info("step_retry", step=step, retry_in=delay)
            if ran:
                self.observe()
            wait = min(schedule.next_run.values()) - time.monotonic()
            if wait > 0:
                stop.wait(wait)
        self.observe()
        self.log.info("keeper_stopped")
