"""The auditor: recompute every root from the published statements and check the chain.

Pure: it takes what was read from the chain (root events, `funded()` at each proposal's
block) and the published statement bytes, and returns an :class:`AuditReport`; the
`verify` script and ``livepool verify`` do the reading. Nothing here trusts the operator's database.

For every statement published (consecutive epochs are checked against each other):
the statement is canonical; every derived figure follows from its aggregates and the
settings in force (:func:`check_statement`: commission, penalty,
clawback, debt, delta, cumulative = previous + delta, the totals, the Merkle root rebuilt
from the leaves). For every root proposed on-chain (accepted or still pending):
keccak256 of the published bytes = the on-chain ``data_hash``; the statement's root and
total = the on-chain root and total; no account's cumulative is below what an earlier
on-chain root gave it; and the total was covered by what the contract had been funded
with: its own ``funded()`` read at the proposal's block (not a sum of events, which
would miss nothing the contract counts and count nothing it does not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from livepool.accounting import PoolSettings, miner_line
from livepool.errors import LivepoolError
from livepool.hashing import keccak256
from livepool.merkle import MerkleTree
from livepool.statement import MinerEntry, Statement, canonical_bytes, load_statement

__all__ = ["AuditReport", "RootEvent", "audit", "check_statement", "check_tree"]


@dataclass(frozen=True)
class RootEvent:
    """A `RootProposed`, `RootAccepted` or `RootRevoked` log, as read from the chain."""

    kind: str
    epoch: int
    root: bytes
    total: int | None
    data_hash: bytes | None
    block: int
    tx_hash: str


@dataclass
class AuditReport:
    """The outcome: which epochs were checked, and every discrepancy found."""

    statements_checked: list[int] = field(default_factory=list)
    roots_checked: list[int] = field(default_factory=list)
    trees_checked: list[int] = field(default_factory=list)
    archives_checked: list[int] | None = None  # livepool check --archive
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines = [
            f"statements checked: {_epochs(self.statements_checked)}",
            f"on-chain roots checked: {_epochs(self.roots_checked)}",
            f"tree dumps checked: {_epochs(self.trees_checked)}",
        ]
        if self.archives_checked is not None:
            lines.append(f"archives checked: {_epochs(self.archives_checked)}")
        lines += [f"note: {n}" for n in self.notes]
        if self.problems:
            lines.append(f"FAILED: {len(self.problems)} discrepancies")
            lines += [f"  - {p}" for p in self.problems]
        else:
            lines.append("OK: every check holds")
        return "\n".join(lines)


def _epochs(numbers: Sequence[int]) -> str:
    return ", ".join(str(n) for n in numbers) if numbers else "none"


def _hex(b: bytes | None) -> str:
    return "0x" + (b or b"").hex()


def audit(
    *,
    statements: Mapping[int, bytes],
    root_events: Sequence[RootEvent],
    funded: Mapping[int, int],
    trees: Mapping[int, bytes] | None = None,
) -> AuditReport:
    """Check published statements (epoch → raw bytes) against the chain's history.

    ``funded`` maps the block of each ``RootProposed`` to the contract's ``funded()`` read
    at that block (:meth:`livepool.chain.Distributor.funded_at_proposals`). ``trees``
    (epoch → the published tree dump, what miners claim with): each must load and
    validate, have the statement's root and exactly its leaves, and the on-chain root
    (:func:`check_tree`); a statement published without its tree is a problem. None: the
    trees are not checked (the caller checks them itself, as the watchtower does).
    """
    report = AuditReport()
    loaded: dict[int, Statement] = {}
    for epoch in sorted(statements):
        raw = statements[epoch]
        try:
            statement = load_statement(raw)
        except LivepoolError as exc:
            report.problems.append(f"epoch {epoch}: statement does not parse: {exc}")
            continue
        if statement.epoch != epoch:
            report.problems.append(
                f"epoch {epoch}: the statement published for it says epoch {statement.epoch}"
            )
            continue
        if canonical_bytes(statement) != raw:
            report.problems.append(f"epoch {epoch}: statement is not in canonical form")
        loaded[epoch] = statement

    for epoch, statement in loaded.items():
        previous = loaded.get(epoch - 1)
        # A predecessor that failed to parse is reported already; one never published is
        # noted (the first statement has none to follow).
        if previous is None and epoch - 1 not in statements and epoch > min(loaded):
            report.notes.append(
                f"epoch {epoch}: epoch {epoch - 1} not published, continuity unchecked"
            )
        for problem in check_statement(statement, previous):
            report.problems.append(f"epoch {epoch}: {problem}")
        report.statements_checked.append(epoch)

    if trees is not None:
        onchain = {
            e.epoch: e.root
            for e in sorted(root_events, key=lambda e: e.block)
            if e.kind == "RootProposed"
        }
        for epoch in sorted(set(statements) | set(trees)):
            if epoch not in trees:
                report.problems.append(
                    f"epoch {epoch}: no tree dump published (epoch-{epoch}.tree.json): "
                    "miners cannot claim"
                )
                continue
            report.problems += check_tree(
                epoch, statements.get(epoch), trees[epoch], onchain.get(epoch)
            )
            report.trees_checked.append(epoch)

    _check_roots(report, loaded, statements, root_events, funded)
    return report


def check_tree(epoch: int, raw: bytes | None, dump: bytes, root: bytes | None) -> list[str]:
    """The problems of one published tree dump: it must load (OZ ``standard-v1``, every
    node the hash of its children), its root must be the on-chain ``root`` (None: not
    proposed, not compared) and the statement's, and its leaves exactly the statement's
    cumulatives (``raw``: the statement's bytes; None: none published)."""
    n = epoch
    try:
        tree = MerkleTree.load(dump)
    except LivepoolError as exc:
        return [f"epoch {n}: tree dump does not load: {exc}"]
    problems = []
    if root is not None and tree.root != root:
        problems.append(
            f"epoch {n}: tree dump root {tree.root_hex} differs from the on-chain root {_hex(root)}"
        )
    if raw is None:
        if root is None:
            problems.append(f"epoch {n}: a tree dump is published without its statement")
        return problems
    try:
        statement = load_statement(raw)
    except LivepoolError:
        return problems  # reported with the statement
    if tree.root_hex != statement.root:
        problems.append(
            f"epoch {n}: tree dump root {tree.root_hex} differs from the statement's "
            f"{statement.root}"
        )
    want = {m.address.lower(): m.cumulative for m in statement.miners if m.cumulative > 0}
    want[statement.pool.address.lower()] = statement.pool.cumulative
    got: dict[str, int] = {}
    for account, amount in tree.values:
        got[account.lower()] = got.get(account.lower(), 0) + amount
    for account in sorted(set(want) | set(got)):
        if want.get(account) != got.get(account):
            problems.append(
                f"epoch {n}: tree leaf of {account} is {got.get(account)}, "
                f"the statement says {want.get(account)}"
            )
    return problems


def _check_roots(
    report: AuditReport,
    loaded: Mapping[int, Statement],
    raw: Mapping[int, bytes],
    root_events: Sequence[RootEvent],
    funded_at: Mapping[int, int],
) -> None:
    revoked = {(e.epoch, e.root) for e in root_events if e.kind == "RootRevoked"}
    accepted = {(e.epoch, e.root) for e in root_events if e.kind == "RootAccepted"}
    best: dict[str, tuple[int, int]] = {}  # account -> (cumulative, epoch) on-chain so far
    for event in sorted(root_events, key=lambda e: (e.block, e.kind != "RootProposed")):
        if event.kind != "RootProposed":
            continue
        key = (event.epoch, event.root)
        if key in revoked and key not in accepted:
            report.notes.append(f"epoch {event.epoch}: root {_hex(event.root)} was revoked")
            continue
        state = "accepted" if key in accepted else "pending"
        where = f"epoch {event.epoch} ({state} root {_hex(event.root)[:12]}…)"
        report.roots_checked.append(event.epoch)
        statement = loaded.get(event.epoch)
        if statement is None:
            if event.epoch not in raw:
                report.problems.append(f"{where}: no statement published")
            continue
        digest = keccak256(raw[event.epoch])
        if digest != event.data_hash:
            report.problems.append(
                f"{where}: keccak256 of the statement is {_hex(digest)}, "
                f"on-chain data_hash is {_hex(event.data_hash)}"
            )
        if statement.root != _hex(event.root):
            report.problems.append(
                f"{where}: statement root {statement.root} differs from the on-chain root"
            )
        if statement.total != event.total:
            report.problems.append(
                f"{where}: statement total {statement.total} differs from on-chain {event.total}"
            )
        funded = funded_at.get(event.block)
        if funded is None:
            report.problems.append(f"{where}: funded() at block {event.block} was not read")
        elif (event.total or 0) > funded:
            report.problems.append(
                f"{where}: total {event.total} exceeds the {funded} wei funded by block "
                f"{event.block}"
            )
        leaves = {m.address: m.cumulative for m in statement.miners}
        leaves[statement.pool.address] = statement.pool.cumulative
        for account, (cumulative, epoch) in best.items():
            now = leaves.get(account, 0)
            if now < cumulative:
                report.problems.append(
                    f"{where}: {account}'s cumulative {now} is below the {cumulative} "
                    f"of on-chain epoch {epoch}"
                )
        for account, cumulative in leaves.items():
            if cumulative >= best.get(account, (0, 0))[0]:
                best[account] = (cumulative, event.epoch)


# --- one statement ---------------------------------------------------------------------------


def check_statement(statement: Statement, previous: Statement | None = None) -> list[str]:
    """Recompute every derived figure; return the discrepancies (empty: consistent).

    Checked: the window follows from the settings; per miner, commission, penalty,
    clawback, delta and debt follow from gross, the bases, overhead and debt_in; the
    pool's levied sums and collected delta; the totals; ``total`` = Σ cumulative; the
    Merkle root. With ``previous`` (the statement of the epoch before) also continuity:
    consecutive epochs, the same fee address, ``debt_in`` = previous ``debt_out``,
    cumulative = previous cumulative + delta (so it never decreases), and no miner with a
    balance or debt dropped. Gross itself follows from the receipts, which the
    ``receipts`` digest pins; checking it needs the receipts.

    The per-miner figures are checked with the accountant's formula
    (:func:`livepool.accounting.miner_line`), not a second copy of it: the audit asks
    whether the published figures follow from the published inputs and settings.
    """
    try:
        settings = statement.settings.to_settings()
    except LivepoolError as exc:
        return [f"settings: {exc}"]
    problems = _check_window(statement, settings)
    problems += _check_continuity(statement, previous)
    problems += _check_miners(statement, previous, settings)
    problems += _check_totals(statement, previous)
    problems += _check_root(statement)
    return problems


def _check_window(s: Statement, settings: PoolSettings) -> list[str]:
    problems = []
    start, end = settings.window(s.epoch)
    if (s.window.start, s.window.end) != (start, end):
        problems.append(
            f"window: [{s.window.start}, {s.window.end}) but epoch {s.epoch} is [{start}, {end})"
        )
    if s.pool.address != settings.fee_address:
        problems.append(f"pool.address {s.pool.address} is not the fee address")
    return problems


def _check_continuity(s: Statement, previous: Statement | None) -> list[str]:
    if previous is None:
        return []
    problems = []
    if s.epoch != previous.epoch + 1:
        problems.append(f"epoch: {s.epoch} does not follow {previous.epoch}")
    if previous.pool.address != s.pool.address:
        problems.append(f"pool.address: changed from {previous.pool.address} to {s.pool.address}")
    present = {m.address for m in s.miners}
    for m in previous.miners:
        if (m.cumulative or m.debt_out) and m.address not in present:
            problems.append(f"miner {m.address}: dropped with cumulative {m.cumulative}")
    return problems


def _check_miners(s: Statement, previous: Statement | None, settings: PoolSettings) -> list[str]:
    problems = []
    before_of: dict[str, MinerEntry] = {m.address: m for m in previous.miners} if previous else {}
    for m in s.miners:
        where = f"miner {m.address}"
        if m.address == settings.fee_address:
            problems.append(f"{where}: is the fee address")
        if m.clawback_base > m.penalty_base:
            problems.append(f"{where}: clawback_base exceeds penalty_base")
        line = miner_line(settings, m.gross, m.penalty_base, m.clawback_base, m.overhead, m.debt_in)
        expect = {
            "commission": line.commission,
            "penalty": line.penalty,
            "clawback": line.clawback,
            "delta": line.delta,
            "debt_out": line.debt_out,
        }
        if previous is not None:
            before = before_of.get(m.address)
            expect["debt_in"] = before.debt_out if before else 0
            expect["cumulative"] = (before.cumulative if before else 0) + line.delta
        elif m.cumulative < m.delta:
            problems.append(f"{where}: cumulative {m.cumulative} < delta {m.delta}")
        for name, value in expect.items():
            if getattr(m, name) != value:
                problems.append(f"{where}: {name} is {getattr(m, name)}, expected {value}")
    return problems


_SUMMED: Final = ("clawback", "commission", "debt_in", "debt_out", "gross", "overhead", "penalty")


def _check_totals(s: Statement, previous: Statement | None) -> list[str]:
    problems = []
    collected = sum(m.gross - m.delta for m in s.miners)
    sums = {name: sum(getattr(m, name) for m in s.miners) for name in _SUMMED}
    sums["miner_delta"] = sum(m.delta for m in s.miners)
    sums["pool_delta"] = collected
    for name, value in sums.items():
        if getattr(s.totals, name) != value:
            problems.append(f"totals.{name} is {getattr(s.totals, name)}, expected {value}")
    for name in ("clawback", "commission", "overhead", "penalty"):
        if getattr(s.pool, name) != sums[name]:
            problems.append(f"pool.{name} is {getattr(s.pool, name)}, expected {sums[name]}")
    if s.pool.delta != collected:
        problems.append(f"pool.delta is {s.pool.delta}, expected {collected} (collected)")
    if previous is not None:
        expected = previous.pool.cumulative + collected
        if s.pool.cumulative != expected:
            problems.append(f"pool.cumulative is {s.pool.cumulative}, expected {expected}")
    elif s.pool.cumulative < s.pool.delta:
        problems.append(f"pool.cumulative {s.pool.cumulative} < delta {s.pool.delta}")
    total = sum(m.cumulative for m in s.miners) + s.pool.cumulative
    if s.total != total:
        problems.append(f"total is {s.total}, expected {total} (Σ cumulative)")
    return problems


def _check_root(s: Statement) -> list[str]:
    leaves = [(m.address, m.cumulative) for m in s.miners if m.cumulative > 0]
    leaves.append((s.pool.address, s.pool.cumulative))
    try:
        root = "0x" + MerkleTree.build(leaves).root.hex()
    except LivepoolError as exc:
        return [f"root: cannot rebuild the tree: {exc}"]
    return [] if root == s.root else [f"root is {s.root}, expected {root}"]
