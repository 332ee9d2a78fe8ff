"""The watchtower: audit every proposed root inside its challenge window; revoke or alert.

Anyone can run it, against the chain and the pool's published data (the service's URL
or a folder). For each `RootProposed` it has not checked yet it fetches the epoch's
statement (and the one before, for continuity) and tree dump, and checks:

- the full audit of :func:`livepool.audit.audit`: the statement is canonical and every
  figure follows from its aggregates and the previous statement; the Merkle root rebuilt
  from its leaves is the one it states; keccak256 of the published bytes is the on-chain
  ``data_hash``; root and total equal the on-chain ones; no account's cumulative is below
  an earlier on-chain root's; the total was funded by the proposal's block;
- that the published tree dump holds together and has the statement's root and exactly
  the statement's leaves (miners with cumulative > 0, and the pool's fee leaf).

A failing root that is still pending is revoked when a guardian account is given;
otherwise (or when revoking fails, or the root is no longer pending) the watchtower
raises an alert: an ``error`` log line and, when configured, a JSON POST to a webhook.
Data that cannot be fetched is alerted too and retried on the next poll.

What was checked is remembered in a small JSON state file (the next block to read, and
each proposal's verdict), so a restart neither re-alerts nor misses a proposal. The
chain is read only through :class:`livepool.chain.Distributor`; this module never
imports ape.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog

from livepool import publish
from livepool.audit import RootEvent, audit, check_tree
from livepool.chain import Distributor
from livepool.errors import LivepoolError

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_UNFETCHED",
    "FetchError",
    "RootCheck",
    "Watchtower",
    "check_root",
    "fetch_published",
]

EXIT_OK, EXIT_FAILED, EXIT_UNFETCHED = 0, 1, 2

OK, FAILED, UNFETCHED = "ok", "failed", "unfetched"


class FetchError(LivepoolError):
    """The published statement or tree of an epoch could not be fetched."""


@dataclass(frozen=True)
class RootCheck:
    """The verdict on one proposed root."""

    epoch: int
    root: str
    block: int
    tx_hash: str
    status: str  # ok | failed | unfetched
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return _key_of(self.block, self.tx_hash, self.root)


def _key_of(block: int, tx_hash: str, root: str) -> str:
    return f"{block}:{tx_hash or root}"


def _hex(b: bytes | None) -> str:
    return "0x" + (b or b"").hex()


# --- fetching ------------------------------------------------------------------------------


def _get(client: httpx.Client, url: str) -> bytes | None:
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        raise FetchError(f"GET {url}: {exc}") from None
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise FetchError(f"GET {url}: HTTP {response.status_code}")
    return response.content


def fetch_published(
    source: str | Path, epoch: int, *, client: httpx.Client | None = None
) -> tuple[dict[int, bytes], bytes]:
    """The published statements an audit of ``epoch`` needs (a folder: all of them; the
    service: ``epoch`` and the one before) and ``epoch``'s tree dump.

    Raises :class:`FetchError` when ``epoch``'s statement or tree is not published or
    cannot be read.
    """
    text = str(source)
    try:
        statements = publish.load_published(source, [epoch])
    except LivepoolError as exc:
        raise FetchError(str(exc)) from None
    if epoch not in statements:
        raise FetchError(f"epoch {epoch}: no statement published at {text}")
    if text.startswith(("http://", "https://")):
        url = f"{text.rstrip('/')}/v1/epochs/{epoch}/tree"
        if client is not None:  # the caller's: it stays open for the next round
            tree = _get(client, url)
        else:
            with httpx.Client(timeout=30) as http:
                tree = _get(http, url)
    else:
        path = publish.tree_path(Path(source), epoch)
        tree = path.read_bytes() if path.exists() else None
    if tree is None:
        raise FetchError(f"epoch {epoch}: no tree dump published at {text}")
    return statements, tree


# --- checking (pure) ---------------------------------------------------------------------------

_EPOCH_PREFIX = re.compile(r"^epoch (\d+)\b")


def check_root(
    event: RootEvent,
    statements: Mapping[int, bytes],
    tree_dump: bytes,
    *,
    history: Sequence[RootEvent],
    funded: Mapping[int, int],
) -> RootCheck:
    """Audit the root proposed in ``event`` against the published data (no I/O).

    ``history``: the root events on-chain before it (earlier roots, for the "never
    below an earlier root" check); ``funded``: block → the contract's ``funded()`` at that
    block, for every proposal among them (:meth:`Distributor.funded_at_proposals`).
    Problems about other epochs (an earlier statement that does not hold) are kept as
    notes: they do not make this root wrong.
    """
    n = event.epoch
    # Earlier roots only; earlier proposals of this same epoch (revoked ones) would make
    # the audit skip a re-proposed root as "revoked".
    earlier = [e for e in history if e.block <= event.block and e.epoch != n]
    report = audit(statements=statements, root_events=[*earlier, event], funded=funded)
    problems: list[str] = []
    notes = list(report.notes)
    for problem in report.problems:
        match = _EPOCH_PREFIX.match(problem)
        if match is None or int(match.group(1)) == n:
            problems.append(problem)
        else:
            notes.append(f"not about this root: {problem}")
    if n not in report.roots_checked and not problems:
        problems.append(f"epoch {n}: the audit did not check this root")
    problems += check_tree(n, statements.get(n), tree_dump, event.root)
    return RootCheck(
        epoch=n,
        root=_hex(event.root),
        block=event.block,
        tx_hash=event.tx_hash,
        status=FAILED if problems else OK,
        problems=tuple(problems),
        notes=tuple(notes),
    )


# --- the watchtower ------------------------------------------------------------------------------


@dataclass
class _State:
    next_block: int
    roots: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None, start: int) -> _State:
        if path is None or not path.exists():
            return cls(next_block=start)
        try:
            data = json.loads(path.read_text())
            return cls(next_block=int(data["next_block"]), roots=dict(data["roots"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise LivepoolError(f"{path}: not a watchtower state file: {exc}") from None

    def save(self, path: Path | None) -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        tmp.replace(path)


class Watchtower:
    """Follows the distributor's proposals and audits each one.

    ``from_block``: where following starts on a first run (later runs resume from the
    state file); ``history_from``: where the root and funding history is read from — the
    deployment block, so that solvency counts every `Funded` event.
    """

    def __init__(
        self,
        distributor: Distributor,
        source: str | Path,
        *,
        guardian: Any = None,
        webhook: str | None = None,
        state_path: Path | None = None,
        from_block: int = 0,
        history_from: int = 0,
        http: httpx.Client | None = None,
        log: Any = None,
    ) -> None:
        self.distributor = distributor
        self.source = source
        self.guardian = guardian
        self.webhook = webhook
        self.state_path = state_path
        self.history_from = history_from
        self.http = http or httpx.Client(timeout=30)
        self.log = log if log is not None else structlog.get_logger("livepool.watch")
        self.state = _State.load(state_path, from_block)

    # -- one root ---------------------------------------------------------------------------

    def check(self, event: RootEvent, history: Sequence[RootEvent]) -> RootCheck:
        """Fetch and audit one proposal (no action taken)."""
        try:
            statements, tree = fetch_published(self.source, event.epoch, client=self.http)
        except FetchError as exc:
            return RootCheck(
                event.epoch, _hex(event.root), event.block, event.tx_hash, UNFETCHED, (str(exc),)
            )
        funded = self.distributor.funded_at_proposals([*history, event])
        return check_root(event, statements, tree, history=history, funded=funded)

    def _is_pending(self, event: RootEvent) -> bool:
        pending = self.distributor.pending
        return pending.exists and pending.root == event.root and pending.epoch == event.epoch

    def act(self, result: RootCheck, event: RootEvent, history: Sequence[RootEvent]) -> str:
        """Log the verdict; revoke or alert on a failure. Returns what was done."""
        fields = {"epoch": result.epoch, "root": result.root, "block": result.block}
        for note in result.notes:
            self.log.info("audit_note", note=note, **fields)
        if result.status == OK:
            self.log.info("root_ok", **fields)
            return "ok"
        pending = self._is_pending(event)
        if result.status == UNFETCHED:
            self.log.error("root_unfetched", problems=list(result.problems), **fields)
            self._alert("root_unfetched", result, pending=pending)
            return "alerted"
        self.log.error("root_audit_failed", problems=list(result.problems), **fields)
        if not pending:
            revoked = any(
                e.kind == "RootRevoked" and e.root == event.root and e.epoch == event.epoch
                for e in history
            )
            if revoked:
                self.log.info("root_already_revoked", **fields)
                return "revoked"
            self._alert("root_audit_failed", result, pending=False)
            return "alerted"
        if self.guardian is not None:
            try:
                sent = self.distributor.revoke(self.guardian)
            except LivepoolError as exc:
                self.log.error("revoke_failed", error=str(exc), **fields)
                self._alert("root_audit_failed", result, pending=True, error=str(exc))
                return "alerted"
            self.log.warning("root_revoked", tx=sent.tx_hash, **fields)
            self._alert("root_revoked", result, pending=False, tx=sent.tx_hash)
            return "revoked"
        self._alert("root_audit_failed", result, pending=True)
        return "alerted"

    def _alert(self, kind: str, result: RootCheck, *, pending: bool, **extra: Any) -> None:
        if not self.webhook:
            return
        body = {
            "event": f"livepool.{kind}",
            "contract": self.distributor.address,
            "epoch": result.epoch,
            "root": result.root,
            "block": result.block,
            "tx_hash": result.tx_hash,
            "pending": pending,
            "problems": list(result.problems),
            **extra,
        }
        if pending:
            body["valid_at"] = self.distributor.pending.valid_at
        for attempt in range(3):
            try:
                response = self.http.post(self.webhook, json=body)
                if response.status_code < 300:
                    self.log.info("alert_sent", kind=kind, status=response.status_code)
                    return
                error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                error = str(exc) or type(exc).__name__
            if attempt < 2:
                time.sleep(0.5 * 2**attempt)
        self.log.error("alert_failed", kind=kind, webhook=self.webhook, error=error)

    # -- modes ---------------------------------------------------------------------------------

    def check_pending(self) -> tuple[int, RootCheck | None]:
        """``--once``: audit the root pending now; (exit code, verdict or None)."""
        pending = self.distributor.pending
        if not pending.exists:
            self.log.info("no_root_pending")
            return EXIT_OK, None
        history = self.distributor.root_events(self.history_from)
        event = next(
            (
                e
                for e in reversed(history)
                if e.kind == "RootProposed" and e.root == pending.root and e.epoch == pending.epoch
            ),
            None,
        )
        if event is None:  # proposed before --from-block: the pending root says enough
            event = RootEvent(
                kind="RootProposed",
                epoch=pending.epoch,
                root=pending.root,
                total=pending.total,
                data_hash=pending.data_hash,
                block=self.distributor.height(),
                tx_hash="",
            )
        result = self.check(event, history)
        self.act(result, event, history)
        code = {OK: EXIT_OK, FAILED: EXIT_FAILED, UNFETCHED: EXIT_UNFETCHED}[result.status]
        return code, result

    def poll(self) -> list[RootCheck]:
        """One round: every proposal since the last round (and every one whose data could
        not be fetched yet) is audited and acted upon; the state is saved."""
        height = self.distributor.height()
        events = self.distributor.root_events(self.state.next_block)
        todo: dict[str, RootEvent] = {}
        for key, entry in self.state.roots.items():
            if entry["status"] == UNFETCHED:
                todo[key] = _event_from(entry["event"])
        for e in events:
            key = _key_of(e.block, e.tx_hash, _hex(e.root))
            if e.kind == "RootProposed" and key not in self.state.roots:
                todo[key] = e
        results = []
        history = self.distributor.root_events(self.history_from) if todo else []
        for key, event in sorted(todo.items(), key=lambda kv: kv[1].block):
            was = self.state.roots.get(key, {}).get("status")
            result = self.check(event, history)
            pending = self._is_pending(event)
            if result.status == UNFETCHED and was == UNFETCHED and pending:
                self.log.info("still_unfetched", epoch=event.epoch, root=result.root)
                done, status = "retry", UNFETCHED
            elif result.status == UNFETCHED and was == UNFETCHED:
                # Its window is over and its data never came: alert once more, then stop.
                self.log.error("root_never_published", epoch=event.epoch, root=result.root)
                self._alert("root_never_published", result, pending=False)
                done, status = "alerted", "unfetched-final"
            else:
                done = self.act(result, event, history)
                status = (
                    result.status if pending or result.status != UNFETCHED else "unfetched-final"
                )
            self.state.roots[key] = {
                "status": status,
                "action": done,
                "epoch": event.epoch,
                "root": result.root,
                "problems": list(result.problems),
                "checked_at": int(time.time()),
                "event": _event_to(event),
            }
            self.state.save(self.state_path)
            results.append(result)
        self.state.next_block = max(self.state.next_block, height + 1)
        self.state.save(self.state_path)
        return results

    def run(self, stop: threading.Event, interval: float) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set; a failing poll (node
        down) is logged and retried with backoff, never fatal."""
        self.log.info(
            "watch_started",
            distributor=self.distributor.address,
            source=str(self.source),
            guardian=str(getattr(self.guardian, "address", self.guardian)),
            from_block=self.state.next_block,
        )
        failures = 0
        while not stop.is_set():
            try:
                self.poll()
                failures = 0
                delay = interval
            except Exception as exc:  # keep watching whatever happens
                failures += 1
                delay = min(interval * 2**failures, 300.0)
                self.log.error(
                    "poll_failed",
                    error=str(exc) or type(exc).__name__,
                    error_type=type(exc).__name__,
                    retry_in=delay,
                )
            stop.wait(delay)
        self.log.info("watch_stopped")


def _event_to(e: RootEvent) -> dict[str, Any]:
    return {
        "kind": e.kind,
        "epoch": e.epoch,
        "root": _hex(e.root),
        "total": None if e.total is None else str(e.total),
        "data_hash": None if e.data_hash is None else _hex(e.data_hash),
        "block": e.block,
        "tx_hash": e.tx_hash,
    }


def _event_from(d: Mapping[str, Any]) -> RootEvent:
    return RootEvent(
        kind=d["kind"],
        epoch=int(d["epoch"]),
        root=bytes.fromhex(d["root"][2:]),
        total=None if d["total"] is None else int(d["total"]),
        data_hash=None if d["data_hash"] is None else bytes.fromhex(d["data_hash"][2:]),
        block=int(d["block"]),
        tx_hash=d["tx_hash"],
    )
