"""Operator, miner and auditor flows: the accountant's numbers become money on a chain.

Every flow here is what a script (``scripts/*.py``) or the ``livepool`` CLI runs; they
only parse options and call these functions. The contract is reached through
:class:`livepool.chain.Distributor` (this module never imports ape itself).

Crash safety: proposing, accepting and pushing are state machines recorded in the ledger
(``chain_actions``): *prepared* (written before the transaction is sent) → *confirmed*
(written with the mined transaction). A run that finds an action still *prepared* — the
process died between sending and recording — looks at the chain for the effect (the
pending or active epoch; the accounts' ``claimed`` amounts and ``Claimed`` logs) and
records what it finds instead of sending again. The contract itself refuses a second
proposal of an epoch and pays nothing twice, so a lost record can never double an effect;
the ledger makes sure push gas is charged exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from livepool import epochs
from livepool.chain import (
    MAX_BATCH,
    ZERO32,
    ClaimItem,
    Distributor,
    PushOutcome,
    Sent,
    calldata_gas,
)
from livepool.errors import ChainError, EpochError
from livepool.hashing import keccak256
from livepool.humantime import human_time
from livepool.ledger import Ledger
from livepool.merkle import MerkleTree
from livepool.statement import data_hash as statement_hash
from livepool.statement import load_statement

__all__ = [
    "ProposeOutcome",
    "PushReport",
    "accept",
    "claim",
    "next_proposal",
    "propose_latest",
    "push",
    "reconcile",
]

#: Called right after a transaction is mined and before it is recorded. Tests set it to
#: raise, to prove a crash at that point is recovered without double effects.
after_send: Callable[[str, Sent], None] | None = None


def _after_send(kind: str, sent: Sent) -> None:
    if after_send is not None:
        after_send(kind, sent)


@dataclass(frozen=True)
class ProposeOutcome:
    epoch: int
    root: str
    total: int
    data_hash: str
    sent: Sent | None  # None: found already on-chain (recovered), nothing sent
    note: str


def propose_latest(ledger: Ledger, distributor: Distributor, sender: Any) -> ProposeOutcome:
    """Propose the latest closed epoch's root, total and data hash (once, ever).

    Every action a crash left *prepared* is reconciled first (:func:`reconcile`).
    Solvency and every other precondition are checked against the chain before sending;
    when a root is already pending, the refusal says whether it is this pool's own
    proposal (recovered from a crash just now, or recorded before) or not.
    """
    closed = [e for e in epochs.list_epochs(ledger) if e["state"] == "closed"]
    if not closed:
        raise EpochError("propose: no closed epoch yet: run `livepool epoch close` first")
    recovered = reconcile(ledger, distributor)
    number = int(closed[-1]["number"])
    raw = epochs.epoch_statement(ledger, number)
    statement = load_statement(raw)
    root = bytes.fromhex(statement.root.removeprefix("0x"))
    digest = statement_hash(statement)
    key = f"epoch:{number}"

    def outcome(sent: Sent | None, note: str) -> ProposeOutcome:
        return ProposeOutcome(
            number, statement.root, statement.total, "0x" + digest.hex(), sent, note
        )

    action = ledger.chain_action("propose", key)
    if action and action["state"] == "confirmed":
        if any(line.startswith(f"propose epoch {number}: found") for line in recovered):
            return outcome(
                None,
                f"epoch {number} is already on-chain: our own proposal, left unrecorded by a "
                f"crash, recovered now (tx {action['tx_hash']}, block {action['block']}); "
                "nothing sent",
            )
        return outcome(None, f"epoch {number} was proposed before (tx {action['tx_hash']})")
    if _on_chain(distributor, number, root):
        event = distributor.find_root_event("RootProposed", number, _since(action))
        ledger.set_chain_action(
            "propose",
            key,
            "confirmed",
            tx_hash=event.tx_hash if event else None,
            block=event.block if event else None,
            note="found on-chain",
        )
        return outcome(None, f"epoch {number} is already on-chain: recorded, nothing sent")
    problems = distributor.propose_problems(
        sender=str(sender.address), epoch=number, total=statement.total
    )
    if problems:
        explained = [
            _explain_pending(ledger, distributor, recovered) if "already pending" in p else p
            for p in problems
        ]
        raise ChainError(f"propose epoch {number}: " + "; ".join(explained))
    ledger.set_chain_action(
        "propose", key, "prepared", payload={"root": statement.root}, block=distributor.height()
    )
    sent = distributor.propose(
        sender, root=root, epoch=number, total=statement.total, data_hash=digest, checked=True
    )
    _after_send("propose", sent)
    ledger.set_chain_action("propose", key, "confirmed", tx_hash=sent.tx_hash, block=sent.block)
    valid_at = distributor.pending.valid_at
    return outcome(sent, f"epoch {number} proposed; valid from {human_time(valid_at)}")


def next_proposal(ledger: Ledger) -> dict[str, Any]:
    """What :func:`propose_latest` would send: the latest closed epoch's number, root,
    total and data hash (for ``--dry-run`` and the confirmation)."""
    closed = [e for e in epochs.list_epochs(ledger) if e["state"] == "closed"]
    if not closed:
        raise EpochError("propose: no closed epoch yet: run `livepool epoch close` first")
    number = int(closed[-1]["number"])
    statement = load_statement(epochs.epoch_statement(ledger, number))
    return {
        "epoch": number,
        "root": statement.root,
        "total": statement.total,
        "data_hash": "0x" + statement_hash(statement).hex(),
    }


def _since(action: Mapping[str, Any] | None) -> int:
    """Where to look for an action's effect: the block recorded when it was prepared."""
    return int(action["block"] or 0) if action else 0


def _explain_pending(ledger: Ledger, distributor: Distributor, recovered: list[str]) -> str:
    """Why a root is pending: this pool's own proposal (recovered now, or recorded), or not."""
    pending = distributor.pending
    n = pending.epoch
    when = f"it becomes valid {human_time(pending.valid_at)}: run `ape run accept` then"
    action = ledger.chain_action("propose", f"epoch:{n}")
    if action is not None and action["state"] == "confirmed":
        tx = f"tx {action['tx_hash']}, block {action['block']}"
        if any(line.startswith(f"propose epoch {n}: found") for line in recovered):
            return (
                f"epoch {n} is already pending: it is our own proposal, which a crash left "
                f"unrecorded, recovered now ({tx}); {when}"
            )
        return f"epoch {n} is already pending: our own proposal ({tx}); {when}"
    return (
        f"epoch {n} is already pending, and this ledger has no record of proposing it: "
        "investigate (`ape run verify`); the guardian can revoke it"
    )


def _record_found(
    ledger: Ledger,
    distributor: Distributor,
    kind: str,
    event_name: str,
    action: dict[str, Any],
    epoch: int,
) -> str:
    """Record a prepared ``kind`` action found on-chain as confirmed, with the tx hash and
    block of its ``event_name`` event; return the line that says so."""
    event = distributor.find_root_event(event_name, epoch, _since(action))
    tx, block = (event.tx_hash, event.block) if event else (None, None)
    ledger.set_chain_action(
        kind,
        action["key"],
        "confirmed",
        tx_hash=tx,
        block=block,
        note="found on-chain after a crash",
    )
    return f"{kind} epoch {epoch}: found on-chain in {tx} (block {block}), recorded"


def reconcile(ledger: Ledger, distributor: Distributor) -> list[str]:
    """Settle every chain action a crash left *prepared*, for every epoch, before
    anything new: what is on-chain is recorded as confirmed with the tx hash and block
    of the event that shows it; a proposal overtaken by a later epoch is abandoned; what
    is not on-chain stays prepared (the next step re-sends it). Push batches are settled
    from the `Claimed` logs. Sends nothing; returns a line per action."""
    done: list[str] = []
    d = distributor
    prepared = {k: ledger.chain_actions(k, state="prepared") for k in ("propose", "accept")}
    pushes = ledger.chain_actions("push", state="prepared")
    if not (prepared["propose"] or prepared["accept"] or pushes):
        return done
    roots = {int(e["number"]): e["root"] for e in epochs.list_epochs(ledger)}
    pending, active = d.pending, (d.epoch if d.root != ZERO32 else -1)
    for action in prepared["propose"]:
        epoch = int(action["key"].split(":")[1])
        if pending.exists and pending.epoch == epoch:
            if roots.get(epoch) != "0x" + pending.root.hex():
                raise ChainError(
                    f"reconcile: epoch {epoch} is pending on-chain with root "
                    f"0x{pending.root.hex()}, the ledger's is {roots.get(epoch)}: "
                    "revoke it or investigate"
                )
            found = True
        else:
            found = active >= epoch
        if found:
            done.append(_record_found(ledger, d, "propose", "RootProposed", action, epoch))
        elif pending.exists and pending.epoch > epoch:
            ledger.set_chain_action(
                "propose", action["key"], "abandoned", note=f"epoch {pending.epoch} pending"
            )
            done.append(f"propose epoch {epoch}: never mined, epoch {pending.epoch} is pending")
        else:
            done.append(f"propose epoch {epoch}: not on-chain, proposing sends it again")
    for action in prepared["accept"]:
        epoch = int(action["key"].split(":")[1])
        accepted = active >= epoch and not (pending.exists and pending.epoch == epoch)
        if accepted:
            done.append(_record_found(ledger, d, "accept", "RootAccepted", action, epoch))
        else:
            done.append(f"accept epoch {epoch}: not on-chain, accepting sends it again")
    if pushes and d.root != ZERO32:
        tree = epochs.epoch_tree(ledger, d.epoch)
        report = PushReport(epoch=d.epoch)
        _recover_pushes(ledger, d, tree, report)
        done += [f"push {line}" for line in report.recovered]
    return done


def _on_chain(distributor: Distributor, epoch: int, root: bytes) -> bool:
    """Whether ``epoch`` is already pending or active on-chain (with the ledger's root)."""
    pending = distributor.pending
    if pending.exists and pending.epoch == epoch:
        if pending.root != root:
            raise ChainError(
                f"epoch {epoch} is pending on-chain with root 0x{pending.root.hex()}, "
                f"but the ledger's root is 0x{root.hex()}: revoke it or investigate"
            )
        return True
    return distributor.root != ZERO32 and distributor.epoch >= epoch


def accept(ledger: Ledger, distributor: Distributor, sender: Any) -> tuple[int, Sent | None]:
    """Accept the pending root once its window has passed; returns (epoch, tx or None)."""
    pending = distributor.pending
    if not pending.exists:
        # A crash after the acceptance was mined but before it was recorded.
        key = f"epoch:{distributor.epoch}"
        action = ledger.chain_action("accept", key)
        recovered = action is not None and (
            action["state"] == "prepared"
            or str(action.get("note") or "").startswith("found on-chain")
        )
        if recovered and action is not None and distributor.root != ZERO32:
            if action["state"] == "prepared":
                event = distributor.find_root_event(
                    "RootAccepted", distributor.epoch, _since(action)
                )
                ledger.set_chain_action(
                    "accept",
                    key,
                    "confirmed",
                    tx_hash=event.tx_hash if event else None,
                    block=event.block if event else None,
                    note="found on-chain",
                )
            return distributor.epoch, None
        raise ChainError("accept: no root is pending")
    key = f"epoch:{pending.epoch}"
    ledger.set_chain_action("accept", key, "prepared", block=distributor.height())
    sent = distributor.accept(sender)
    _after_send("accept", sent)
    ledger.set_chain_action("accept", key, "confirmed", tx_hash=sent.tx_hash, block=sent.block)
    return pending.epoch, sent


@dataclass
class PushReport:
    epoch: int
    batches: list[PushOutcome] = field(default_factory=list)
    accepted: Sent | None = None  # the ripe root this run accepted before pushing
    recovered: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def paid(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for b in self.batches:
            out.update(b.paid)
        return out

    @property
    def gas_cost(self) -> int:
        return sum(b.sent.cost for b in self.batches)


def push(
    ledger: Ledger, distributor: Distributor, sender: Any, *, batch_size: int = MAX_BATCH
) -> PushReport:
    """Pay every push-mode miner whose claimable balance reaches their threshold.

    A ripe pending root is accepted first: accepting it later, while the batch is in
    flight, would make every proof in the batch stale and the batch revert.

    Batches of at most ``batch_size`` go through ``claim_many``. Push costs stay with whoever
    caused them: each batch's gas, minus the gas of its failed pushes (see
    :func:`failed_push_gas`), is recorded as push overhead, split among the miners it
    actually paid, and charged at the next epoch close. The gas of a failed push is the
    pool's. An account whose push failed is not pushed again until it claims or changes
    its recipient on-chain, so a recipient that rejects ETH or burns gas costs the pool
    one failed push, not one per epoch. Accounts that set a recipient are pushed only when
    ``sender`` is the contract's keeper (the contract refuses anyone else).
    """
    if not 1 <= batch_size <= MAX_BATCH:
        raise ChainError(f"push: batch size must be 1..{MAX_BATCH}, got {batch_size}")
    accepted = None
    if distributor.ripe():
        _, accepted = accept(ledger, distributor, sender)
    if distributor.root == ZERO32:
        raise ChainError("push: no root is active on-chain yet")
    epoch = distributor.epoch
    tree = epochs.epoch_tree(ledger, epoch)
    if tree.root != distributor.root:
        raise ChainError(
            f"push: the ledger's tree for epoch {epoch} does not match the on-chain root"
        )
    report = PushReport(epoch=epoch, accepted=accepted)
    _recover_pushes(ledger, distributor, tree, report)
    failed_before = distributor.failed_pushes(_first_push_block(ledger))
    is_keeper = str(sender.address).lower() == distributor.keeper.lower()

    due: list[ClaimItem] = []
    for setting in ledger.payout_settings():
        account = setting["address"]
        if setting["mode"] != "push":
            continue
        if account not in tree:
            report.skipped[account] = "not in the active root"
            continue
        if account in failed_before:
            report.skipped[account] = (
                f"its push failed in block {failed_before[account]}: not pushed again until "
                "it claims or changes its recipient"
            )
            continue
        cumulative = tree.amount(account)
        owed = cumulative - distributor.claimed(account)
        if owed <= 0:
            continue
        if not is_keeper and distributor.recipient_of(account).lower() != account.lower():
            report.skipped[account] = "it set a recipient: only it or the keeper may pay it"
            continue
        if owed < int(setting["threshold"]):
            report.skipped[account] = f"{owed} wei is below the threshold {setting['threshold']}"
            continue
        due.append(ClaimItem(account, cumulative, tree.proof(account)))

    for start in range(0, len(due), batch_size):
        batch = due[start : start + batch_size]
        # The key names the batch by its content, so a re-run after a crash finds it.
        members = ",".join(f"{i.account}:{i.cumulative}" for i in batch)
        key = f"epoch:{epoch}:batch:{keccak256(members.encode()).hex()[:32]}"
        payload = {"epoch": epoch, "accounts": [[i.account, str(i.cumulative)] for i in batch]}
        ledger.set_chain_action(
            "push", key, "prepared", payload=payload, block=distributor.height()
        )
        outcome = distributor.claim_many(sender, batch)
        _after_send("push", outcome.sent)
        _record_push(ledger, key, outcome, tree)
        report.batches.append(outcome)
    return report


def failed_push_gas(outcome: PushOutcome, tree: MerkleTree) -> int:
    """Gas of a batch's failed pushes: what each failed item used inside the contract
    (`PayoutFailed.gas`: its proof, its `claimed` write and undo, the bounded transfer)
    plus its calldata. Refunds of the undone write are not netted out, so the figure
    errs in the paid miners' favour."""
    return sum(
        gas
        + (
            calldata_gas(ClaimItem(account, tree.amount(account), tree.proof(account)))
            if account in tree
            else 0
        )
        for account, gas in outcome.failed_gas.items()
    )


def _record_push(ledger: Ledger, key: str, outcome: PushOutcome, tree: MerkleTree) -> None:
    # Overhead is charged only to the miners the batch paid, and never includes the gas
    # of its failed pushes (the pool's); a batch that paid nobody costs the pool alone.
    sent, paid = outcome.sent, sorted(outcome.paid)
    charged = max(0, sent.gas_used - failed_push_gas(outcome, tree))
    if paid:
        ledger.record_push(key, sent.tx_hash, charged, sent.gas_price, paid)
    ledger.set_chain_action("push", key, "confirmed", tx_hash=sent.tx_hash, block=sent.block)


def _first_push_block(ledger: Ledger) -> int:
    """The block of the pool's first push (where failed pushes can start): 0 if none."""
    blocks = [int(a["block"]) for a in ledger.chain_actions("push") if a["block"] is not None]
    return min(blocks, default=0)


def _recover_pushes(
    ledger: Ledger, distributor: Distributor, tree: MerkleTree, report: PushReport
) -> None:
    """Settle batches left *prepared* by a crash, from the chain's `Claimed` logs."""
    for action in ledger.chain_actions("push", state="prepared"):
        payload = json.loads(action["payload"])
        wanted = {a: int(c) for a, c in payload["accounts"]}
        found = distributor.find_claims(wanted, start_block=int(action["block"] or 0))
        if found is None:
            # Never mined: forget it; this run re-evaluates who is due.
            ledger.set_chain_action("push", action["key"], "abandoned")
            report.recovered.append(f"{action['key']}: not on-chain, will be re-evaluated")
            continue
        _record_push(ledger, action["key"], found, tree)
        report.recovered.append(f"{action['key']}: found on-chain in {found.sent.tx_hash}")


def claim(
    distributor: Distributor, sender: Any, tree: MerkleTree, account: str
) -> tuple[Sent, int]:
    """Claim ``account``'s balance with its proof from ``tree`` (a statement's tree)."""
    if account not in tree:
        raise ChainError(f"claim: {account} is not in the tree of root {tree.root_hex}")
    if tree.root != distributor.root:
        raise ChainError(
            f"claim: the tree's root {tree.root_hex} is not the active on-chain root "
            f"0x{distributor.root.hex()}: fetch the current epoch's tree"
        )
    cumulative = tree.amount(account)
    owed = cumulative - distributor.claimed(account)
    if owed <= 0:
        raise ChainError(f"claim: nothing to claim for {account} (claimed {cumulative} already)")
    return distributor.claim(sender, ClaimItem(account, cumulative, tree.proof(account)))
