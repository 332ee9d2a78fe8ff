"""The typed wrapper over the deployed ``LivepoolDistributor``: the only module importing ape.

Scripts, the CLI, the auditor and the tests all reach the contract through
:class:`Distributor`. It turns the contract's reverts into :class:`ChainError` with the
contract's own reason, checks preconditions *before* spending gas (solvency, roles,
windows), retries transient RPC failures with backoff, and reports every transaction as a
:class:`Sent` (hash, block, gas used, what it cost in wei).

Deployments are recorded as JSON (:class:`Deployment`) under the data directory, one file
per network, so later commands find the contract without being told its address.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import ape
from ape.exceptions import ApeException, ContractLogicError, ProviderNotConnectedError

from livepool.audit import RootEvent
from livepool.errors import ChainError

__all__ = [
    "ClaimItem",
    "Deployment",
    "Distributor",
    "PendingRoot",
    "PushOutcome",
    "RootEvent",
    "Sent",
    "retrying",
]

CONTRACT_NAME = "LivepoolDistributor"
#: `claim_many`'s bound in the contract (MAX_BATCH).
MAX_BATCH = 100
ZERO32 = b"\x00" * 32

T = TypeVar("T")


@dataclass(frozen=True)
class PendingRoot:
    """A proposed root waiting out its challenge window (``root`` zero: none)."""

    root: bytes
    epoch: int
    total: int
    data_hash: bytes
    valid_at: int

    @property
    def exists(self) -> bool:
        return self.root != ZERO32


@dataclass(frozen=True)
class Sent:
    """A mined transaction: what it was, where it landed, what it cost."""

    tx_hash: str
    block: int
    gas_used: int
    gas_price: int

    @property
    def cost(self) -> int:
        """Wei the sender paid for gas (gas used × effective gas price)."""
        return self.gas_used * self.gas_price


@dataclass(frozen=True)
class ClaimItem:
    """One leaf to pay: the account, its cumulative amount, its proof."""

    account: str
    cumulative: int
    proof: Sequence[bytes]


@dataclass(frozen=True)
class PushOutcome:
    """What one `claim_many` batch did."""

    sent: Sent
    paid: dict[str, int]
    failed: dict[str, int]


@dataclass(frozen=True)
class Deployment:
    """Where the distributor lives on one network."""

    address: str
    chain_id: int
    block: int
    network: str

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            data = json.loads(path.read_text())
            return cls(**data)
        except FileNotFoundError:
            raise ChainError(
                f"no deployment recorded at {path}: run `ape run deploy` (or pass --address)"
            ) from None
        except (TypeError, ValueError) as exc:
            raise ChainError(f"{path}: not a deployment record: {exc}") from None

    @staticmethod
    def path_for(data_dir: Path, network: str) -> Path:
        safe = network.replace(":", "-").replace("/", "-")
        return data_dir / "deployments" / f"{safe}.json"


def retrying(
    action: Callable[[], T],
    *,
    what: str,
    attempts: int = 4,
    base_delay: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``action``, retrying transient RPC failures with exponential backoff.

    A contract revert is final: it is raised at once as :class:`ChainError` with the
    contract's reason, and so is any other error that is not about reaching the node.
    Connection errors, time-outs and rate limits are retried ``attempts`` times (waiting
    ``base_delay``, then twice as long each time), then reported as :class:`ChainError`
    naming what failed and why.
    """
    delay = base_delay
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except ContractLogicError as exc:
            raise ChainError(f"{what}: reverted: {exc.message}") from exc
        except (ConnectionError, TimeoutError, OSError, ApeException) as exc:
            if not _transient(exc):
                raise ChainError(f"{what}: {exc}") from exc
            if attempt == attempts:
                raise ChainError(
                    f"{what}: the node did not answer after {attempts} attempts: {exc}"
                ) from exc
            sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _transient(exc: BaseException) -> bool:
    """Whether ``exc`` is about reaching the node (worth retrying) rather than the call."""
    if isinstance(exc, ConnectionError | TimeoutError | ProviderNotConnectedError):
        return True
    text = str(exc).lower()
    return any(
        word in text
        for word in ("timeout", "timed out", "connection", "temporarily", "429", "rate limit")
    )


def _sent(receipt: Any) -> Sent:
    return Sent(
        tx_hash=_hex(receipt.txn_hash),
        block=int(receipt.block_number),
        gas_used=int(receipt.gas_used),
        gas_price=int(receipt.gas_price or 0),
    )


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text


def _b32(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return bytes.fromhex(str(value).removeprefix("0x"))


class Distributor:
    """One deployed LivepoolDistributor, seen through typed methods."""

    def __init__(self, contract: Any, *, confirmations: int | None = None) -> None:
        """``confirmations``: blocks to wait after each transaction is mined (None: the
        network's ``required_confirmations`` from ape's config)."""
        if confirmations is not None and confirmations < 0:
            raise ChainError(f"confirmations must be ≥ 0, got {confirmations}")
        self.contract = contract
        self.confirmations = confirmations

    @property
    def _wait(self) -> dict[str, int]:
        """Keyword arguments every transaction of this wrapper is sent with."""
        if self.confirmations is None:
            return {}
        return {"required_confirmations": self.confirmations}

    # -- construction --

    @classmethod
    def deploy(
        cls, sender: Any, *, poster: str, guardian: str, challenge_period: int
    ) -> Distributor:
        """Deploy a new distributor; ``sender`` becomes its owner."""
        container = getattr(ape.project, CONTRACT_NAME)
        contract = retrying(
            lambda: container.deploy(poster, guardian, challenge_period, sender=sender),
            what="deploy",
        )
        return cls(contract)

    @classmethod
    def at(cls, address: str, *, confirmations: int | None = None) -> Distributor:
        """The distributor at ``address`` (its ABI from the compiled project)."""
        container = getattr(ape.project, CONTRACT_NAME)
        return cls(container.at(address), confirmations=confirmations)

    def deployment(self, network: str) -> Deployment:
        """This contract's deployment record (block of its creation, chain id)."""
        receipt = (
            self.contract.creation_metadata.receipt if self.contract.creation_metadata else None
        )
        block = int(receipt.block_number) if receipt is not None else ape.chain.blocks.height
        return Deployment(
            address=str(self.contract.address),
            chain_id=int(ape.chain.chain_id),
            block=block,
            network=network,
        )

    # -- views --

    @property
    def address(self) -> str:
        return str(self.contract.address)

    @property
    def root(self) -> bytes:
        return _b32(self.contract.root())

    @property
    def epoch(self) -> int:
        return int(self.contract.epoch())

    @property
    def total(self) -> int:
        return int(self.contract.total())

    @property
    def data_hash(self) -> bytes:
        return _b32(self.contract.data_hash())

    @property
    def pending(self) -> PendingRoot:
        p = self.contract.pending_root()
        return PendingRoot(
            root=_b32(p.root),
            epoch=int(p.epoch),
            total=int(p.total),
            data_hash=_b32(p.data_hash),
            valid_at=int(p.valid_at),
        )

    @property
    def total_claimed(self) -> int:
        return int(self.contract.total_claimed())

    @property
    def funded(self) -> int:
        return int(self.contract.funded())

    @property
    def surplus(self) -> int:
        return int(self.contract.surplus())

    @property
    def balance(self) -> int:
        return int(self.contract.balance)

    @property
    def paused(self) -> bool:
        return bool(self.contract.paused())

    @property
    def poster(self) -> str:
        return str(self.contract.poster())

    @property
    def guardian(self) -> str:
        return str(self.contract.guardian())

    @property
    def challenge_period(self) -> int:
        return int(self.contract.challenge_period())

    def claimed(self, account: str) -> int:
        return int(self.contract.claimed(account))

    @staticmethod
    def now() -> int:
        """Timestamp the next block will carry (what `accept_root` compares against)."""
        return int(ape.chain.pending_timestamp)

    # -- transactions --

    def fund(self, sender: Any, amount: int) -> Sent:
        """Send ``amount`` wei to the pool."""
        if amount <= 0:
            raise ChainError(f"fund: amount must be positive, got {amount}")
        return _sent(retrying(lambda: sender.transfer(self.contract, amount), what="fund"))

    def propose(
        self,
        sender: Any,
        *,
        root: bytes,
        epoch: int,
        total: int,
        data_hash: bytes,
        checked: bool = False,
    ) -> Sent:
        """Propose a root, after checking on-chain that the contract would accept it
        (``checked=True``: the caller just ran :meth:`check_propose`)."""
        if not checked:
            self.check_propose(sender=str(sender.address), epoch=epoch, total=total)
        return _sent(
            retrying(
                lambda: self.contract.propose_root(
                    root, epoch, total, data_hash, sender=sender, **self._wait
                ),
                what=f"propose epoch {epoch}",
            )
        )

    def check_propose(self, *, sender: str, epoch: int, total: int) -> None:
        """Raise :class:`ChainError` listing every reason a proposal would revert."""
        problems = self.propose_problems(sender=sender, epoch=epoch, total=total)
        if problems:
            raise ChainError(f"propose epoch {epoch}: " + "; ".join(problems))

    def propose_problems(self, *, sender: str, epoch: int, total: int) -> list[str]:
        """Why a proposal would revert, read from the chain before sending (empty: none)."""
        problems = []
        if self.paused:
            problems.append("the contract is paused")
        if sender.lower() != self.poster.lower():
            problems.append(f"{sender} is not the poster ({self.poster})")
        if self.pending.exists:
            problems.append(f"epoch {self.pending.epoch} is already pending")
        if epoch <= self.epoch and self.root != ZERO32:
            problems.append(f"epoch {epoch} is not above the active epoch {self.epoch}")
        if total < self.total:
            problems.append(f"total {total} is below the active total {self.total}")
        funded = self.funded
        if total > funded:
            problems.append(
                f"insolvent: total {total} wei exceeds funded {funded} wei "
                f"(short by {total - funded} wei; fund the pool first)"
            )
        return problems

    def accept(self, sender: Any) -> Sent:
        """Accept the pending root once its window has passed."""
        pending = self.pending
        if not pending.exists:
            raise ChainError("accept: no root is pending")
        now = self.now()
        if now < pending.valid_at:
            raise ChainError(
                f"accept: epoch {pending.epoch}'s challenge window is open for another "
                f"{pending.valid_at - now} s (until {pending.valid_at})"
            )
        return _sent(
            retrying(lambda: self.contract.accept_root(sender=sender, **self._wait), what="accept")
        )

    def revoke(self, sender: Any) -> Sent:
        """Revoke the pending root (guardian or owner)."""
        return _sent(
            retrying(
                lambda: self.contract.revoke_pending_root(sender=sender, **self._wait),
                what="revoke",
            )
        )

    def pause(self, sender: Any) -> Sent:
        return _sent(
            retrying(lambda: self.contract.pause(sender=sender, **self._wait), what="pause")
        )

    def claim(self, sender: Any, item: ClaimItem) -> tuple[Sent, int]:
        """Claim one leaf; returns the transaction and the wei paid."""
        receipt = retrying(
            lambda: self.contract.claim(
                item.account, item.cumulative, list(item.proof), sender=sender, **self._wait
            ),
            what=f"claim for {item.account}",
        )
        paid = sum(int(e.amount) for e in receipt.events.filter(self.contract.Claimed))
        return _sent(receipt), paid

    def claim_many(self, sender: Any, items: Sequence[ClaimItem]) -> PushOutcome:
        """Push one batch (at most 100 leaves); returns who was paid and who failed."""
        if not items:
            raise ChainError("claim_many: empty batch")
        if len(items) > MAX_BATCH:
            raise ChainError(f"claim_many: {len(items)} leaves, the contract takes {MAX_BATCH}")
        receipt = retrying(
            lambda: self.contract.claim_many(
                [i.account for i in items],
                [i.cumulative for i in items],
                [list(i.proof) for i in items],
                sender=sender,
                **self._wait,
            ),
            what=f"claim_many of {len(items)}",
        )
        paid = {str(e.account): int(e.amount) for e in receipt.events.filter(self.contract.Claimed)}
        failed = {
            str(e.account): int(e.amount) for e in receipt.events.filter(self.contract.PayoutFailed)
        }
        return PushOutcome(sent=_sent(receipt), paid=paid, failed=failed)

    def set_recipient(self, sender: Any, recipient: str) -> Sent:
        return _sent(
            retrying(
                lambda: self.contract.set_recipient(recipient, sender=sender, **self._wait),
                what="set_recipient",
            )
        )

    # -- history --

    def root_events(self, start_block: int = 0) -> list[RootEvent]:
        """Every RootProposed / RootAccepted / RootRevoked since ``start_block``, in order."""
        stop = self.height() + 1
        events: list[RootEvent] = []
        for kind in ("RootProposed", "RootAccepted", "RootRevoked"):
            for log in self._logs(kind, start_block, stop):
                events.append(
                    RootEvent(
                        kind=kind,
                        epoch=int(log.epoch),
                        root=_b32(log.root),
                        total=int(log.total) if kind != "RootRevoked" else None,
                        data_hash=_b32(log.data_hash) if kind != "RootRevoked" else None,
                        block=int(log.block_number),
                        tx_hash=_hex(log.transaction_hash),
                    )
                )
        events.sort(
            key=lambda e: (e.block, ("RootProposed", "RootRevoked", "RootAccepted").index(e.kind))
        )
        return events

    def funding(self, start_block: int = 0) -> list[tuple[int, int]]:
        """(block, signed wei): every `Funded` (+) and `SurplusWithdrawn` (−) event."""
        stop = self.height() + 1
        funded = [
            (int(e.block_number), int(e.amount)) for e in self._logs("Funded", start_block, stop)
        ]
        withdrawn = [
            (int(e.block_number), -int(e.amount))
            for e in self._logs("SurplusWithdrawn", start_block, stop)
        ]
        return sorted(funded + withdrawn)

    @staticmethod
    def height() -> int:
        """The latest block number."""
        return int(retrying(lambda: ape.chain.blocks.height, what="read the block height"))

    def find_claims(
        self, wanted: dict[str, int], *, start_block: int
    ) -> tuple[Sent, dict[str, int]] | None:
        """The transaction that paid any of ``wanted`` (account → cumulative) since
        ``start_block``, and what it paid; None when no such `Claimed` log exists."""
        lowered = {a.lower(): c for a, c in wanted.items()}
        for log in self._logs("Claimed", start_block, self.height() + 1):
            if lowered.get(str(log.account).lower()) == int(log.cumulative):
                tx_hash = _hex(log.transaction_hash)
                receipt = retrying(
                    functools.partial(ape.chain.provider.get_receipt, tx_hash),
                    what="read a receipt",
                )
                paid = {
                    str(e.account): int(e.amount)
                    for e in receipt.events.filter(self.contract.Claimed)
                }
                return _sent(receipt), paid
        return None

    def _logs(self, name: str, start: int, stop: int) -> list[Any]:
        event = getattr(self.contract, name)
        return retrying(lambda: list(event.range(start, stop)), what=f"read {name} logs")
