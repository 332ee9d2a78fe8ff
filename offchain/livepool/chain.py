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
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import ape
from ape.exceptions import ApeException, ContractLogicError, ProviderNotConnectedError

from livepool.audit import RootEvent
from livepool.errors import ChainError
from livepool.hashing import keccak256
from livepool.humantime import human_time

__all__ = [
    "ClaimItem",
    "Deployment",
    "Distributor",
    "PendingRoot",
    "PushOutcome",
    "RootEvent",
    "Sent",
    "calldata_gas",
    "code_hash",
    "retrying",
]

CONTRACT_NAME = "LivepoolDistributor"
#: `claim_many`'s bound in the contract (MAX_BATCH).
MAX_BATCH = 100
#: The contract's ROOT_EXPIRY and MAX_EPOCH_STEP.
ROOT_EXPIRY = 7 * 86_400
MAX_EPOCH_STEP = 1_000_000
ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20

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


def calldata_gas(item: ClaimItem) -> int:
    """Calldata gas one item adds to a `claim_many` transaction (16 per non-zero byte,
    4 per zero byte): its account and cumulative words, its proof's offset and length
    words, and its proof."""
    words = [
        int(item.account, 16).to_bytes(32, "big"),
        int(item.cumulative).to_bytes(32, "big"),
        b"\x00" * 31 + b"\x01",  # the offset word: small, one non-zero byte
        len(item.proof).to_bytes(32, "big"),
        *(bytes(p) for p in item.proof),
    ]
    return sum(16 if byte else 4 for word in words for byte in word)


@dataclass(frozen=True)
class PushOutcome:
    """What one `claim_many` batch did. ``failed_gas``: for each account whose transfer
    failed, the gas its item used inside the contract (from `PayoutFailed`)."""

    sent: Sent
    paid: dict[str, int]
    failed: dict[str, int]
    failed_gas: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Deployment:
    """Where the distributor lives, bound to its chain: the address, the chain id, the
    block of its creation and the keccak256 of its runtime code. Records are keyed by
    chain id and network name, so two chains behind one network name (ape's in-process
    chain and anvil are both ``ethereum:local``) never overwrite each other."""

    address: str
    chain_id: int
    block: int
    network: str
    code_hash: str = ""

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
    def path_for(data_dir: Path, network: str, chain_id: int) -> Path:
        """``DATA_DIR/deployments/<chain id>-<network>.json``."""
        safe = network.replace(":", "-").replace("/", "-")
        return data_dir / "deployments" / f"{chain_id}-{safe}.json"

    @classmethod
    def find(cls, data_dir: Path, network: str, chain_id: int) -> Deployment:
        """The record for ``network`` on ``chain_id``; when there is none, a
        :class:`ChainError` that says whether a record exists for another chain (the
        wrong node, or the wrong ``--network``) and what to do."""
        path = cls.path_for(data_dir, network, chain_id)
        if path.exists():
            return cls.load(path)
        elsewhere = []
        for other in sorted((data_dir / "deployments").glob("*.json")):
            try:
                record = cls.load(other)
            except ChainError:
                continue
            elsewhere.append(f"{record.network} chain {record.chain_id} ({record.address})")
        hint = (
            f"; deployments are recorded for: {', '.join(elsewhere)}. Connect to that chain "
            "(--network, --provider-settings), or deploy here"
            if elsewhere
            else ""
        )
        raise ChainError(
            f"wrong chain or no deployment: connected to {network} chain {chain_id}, and no "
            f"distributor is recorded for it in {path.parent}{hint}: run `ape run deploy` "
            "on this network, or pass --address"
        )


def code_hash(code: bytes) -> str:
    """``0x`` + keccak256 of a contract's runtime code (what a record binds to)."""
    return "0x" + keccak256(code).hex()


def _is_distributor(code: bytes) -> bool:
    """Whether ``code`` is this project's distributor: its runtime code starts with the
    compiled runtime bytecode (Vyper appends the immutables after it)."""
    container = getattr(ape.project, CONTRACT_NAME)
    runtime = container.contract_type.runtime_bytecode
    expected = bytes.fromhex(str(runtime.bytecode or "").removeprefix("0x")) if runtime else b""
    return bool(expected) and code[: len(expected)] == expected


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


#: Seconds to wait for a sent transaction to be mined (a node with a block time, a busy
#: sequencer) before giving up; the action stays *prepared* and the next run reconciles it.
MINE_TIMEOUT = 300


def _mined(receipt: Any) -> Any:
    """``receipt`` once its transaction is in a block (and the network's confirmations
    have passed). A node that does not mine at once (anvil ``--block-time``, a real
    chain) hands back a receipt with no block yet (ape says block -1): nothing may be
    recorded from it, so it is fetched again once mined."""
    if _block_of(receipt) is not None:
        return receipt
    return _wait_mined(_hex(receipt.txn_hash))


def _wait_mined(tx_hash: str) -> Any:
    """The receipt of ``tx_hash`` once it has a block and the network's
    ``required_confirmations`` on top; :class:`ChainError` after :data:`MINE_TIMEOUT`."""
    provider = ape.chain.provider
    deadline = time.monotonic() + MINE_TIMEOUT
    confirmations = int(getattr(provider.network, "required_confirmations", 0) or 0)
    while True:
        try:
            raw = provider.web3.eth.get_transaction_receipt(tx_hash)
        except Exception:  # not found yet: web3 raises TransactionNotFound
            raw = None
        found = None if raw is None else raw.get("blockNumber")
        block = -1 if found is None else int(found)
        if block >= 0 and Distributor.height() >= block + confirmations:
            return retrying(lambda: provider.get_receipt(tx_hash), what="read a receipt")
        if time.monotonic() > deadline:
            raise ChainError(
                f"{tx_hash} has no block after {MINE_TIMEOUT} s: not recorded as done; "
                "run the command again to reconcile it with the chain"
            )
        time.sleep(0.5)


def _block_of(receipt: Any) -> int | None:
    block = getattr(receipt, "block_number", None)
    return None if block is None or int(block) < 0 else int(block)


def _sent(receipt: Any) -> Sent:
    receipt = _mined(receipt)
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
        self._deployed_in: int | None = None  # the creation block, when deploy() knows it

    @property
    def _wait(self) -> dict[str, int]:
        """Keyword arguments every transaction of this wrapper is sent with."""
        if self.confirmations is None:
            return {}
        return {"required_confirmations": self.confirmations}

    # -- construction --

    @classmethod
    def deploy(
        cls,
        sender: Any,
        *,
        poster: str,
        guardian: str,
        challenge_period: int,
        min_challenge_period: int | None = None,
        keeper: str | None = None,
    ) -> Distributor:
        """Deploy a new distributor; ``sender`` becomes its owner. The immutable floor of
        the challenge period defaults to ``challenge_period``; ``keeper`` (optional) is
        named right after."""
        container = getattr(ape.project, CONTRACT_NAME)
        floor = challenge_period if min_challenge_period is None else min_challenge_period
        deployed_in: int | None = None
        try:
            contract = retrying(
                lambda: container.deploy(poster, guardian, challenge_period, floor, sender=sender),
                what="deploy",
            )
        except ChainError as exc:
            # ape gives up at once when the receipt has no block yet (a node with a block
            # time): wait for the transaction and take the address from the mined receipt.
            unmined = re.search(r"'?(0x[0-9a-fA-F]{64})'? did not create a contract", str(exc))
            if unmined is None:
                raise
            receipt = _wait_mined(unmined.group(1))
            if not receipt.contract_address:
                raise
            contract = container.at(receipt.contract_address)
            deployed_in = int(receipt.block_number)
        distributor = cls(contract)
        distributor._deployed_in = deployed_in
        if keeper is not None:
            distributor.set_keeper(sender, keeper)
        return distributor

    @classmethod
    def at(cls, address: str, *, confirmations: int | None = None) -> Distributor:
        """The distributor at ``address`` (its ABI from the compiled project), unchecked."""
        container = getattr(ape.project, CONTRACT_NAME)
        return cls(container.at(address), confirmations=confirmations)

    @classmethod
    def bound(
        cls,
        record: Deployment | None,
        *,
        address: str | None = None,
        network: str,
        confirmations: int | None = None,
    ) -> Distributor:
        """The distributor of ``record`` (or at ``address``), after checking that the node
        is on the record's chain and that the address holds the distributor's code.

        Raises :class:`ChainError` saying which of the two is wrong and what to do: a
        script must never send ETH or a root to an address without the contract."""
        chain_id = cls.chain_id()
        if record is not None and record.chain_id != chain_id:
            raise ChainError(
                f"wrong chain: the deployment of {record.address} is on chain "
                f"{record.chain_id} ({record.network}), but the node is chain {chain_id}: "
                "connect to the chain it was deployed on (--network, --provider-settings)"
            )
        target = address or (record.address if record else None)
        if not target:
            raise ChainError("no distributor address: run `ape run deploy` or pass --address")
        code = bytes(retrying(lambda: ape.chain.provider.get_code(target), what="read code"))
        where = f"{target} on {network} (chain {chain_id})"
        if not code:
            raise ChainError(
                f"no contract at {where}: nothing would receive what you send. The node may "
                "have been restarted or reset since the deployment: deploy again with `ape run "
                "deploy`, or pass the right --address"
            )
        if record is not None and record.address.lower() == target.lower() and record.code_hash:
            if code_hash(code) != record.code_hash:
                raise ChainError(
                    f"wrong code at {where}: keccak256 {code_hash(code)} is not the "
                    f"{record.code_hash} recorded at deployment: the chain was reset and "
                    "something else lives there now; deploy again with `ape run deploy`"
                )
        elif not _is_distributor(code):
            raise ChainError(
                f"wrong code at {where}: it is not a {CONTRACT_NAME} of this project: "
                "check --address, or deploy with `ape run deploy`"
            )
        return cls.at(target, confirmations=confirmations)

    def deployment(self, network: str) -> Deployment:
        """This contract's deployment record (chain id, block of its creation, code hash)."""
        receipt = (
            self.contract.creation_metadata.receipt if self.contract.creation_metadata else None
        )
        if receipt is not None and int(receipt.block_number) >= 0:
            block = int(receipt.block_number)
        elif self._deployed_in is not None:
            block = self._deployed_in
        else:
            block = self.height()
        code = bytes(ape.chain.provider.get_code(self.address))
        return Deployment(
            address=str(self.contract.address),
            chain_id=int(ape.chain.chain_id),
            block=block,
            network=network,
            code_hash=code_hash(code),
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
    def funded(self) -> int:
        """ETH paid in through calls minus surplus withdrawn (forced ETH not counted)."""
        return int(self.contract.funded())

    def funded_at(self, block: int) -> int:
        """`funded()` as it read at the end of ``block``."""
        return int(
            retrying(
                lambda: self.contract.funded(block_identifier=block),
                what=f"read funded() at block {block}",
            )
        )

    def funded_at_proposals(self, events: Sequence[RootEvent]) -> dict[int, int]:
        """block → `funded()` at that block, for every `RootProposed` in ``events`` (what
        the auditor compares each proposed total with)."""
        blocks = {e.block for e in events if e.kind == "RootProposed"}
        return {block: self.funded_at(block) for block in sorted(blocks)}

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
    def keeper(self) -> str:
        return str(self.contract.keeper())

    @property
    def challenge_period(self) -> int:
        return int(self.contract.challenge_period())

    @property
    def min_challenge_period(self) -> int:
        return int(self.contract.MIN_CHALLENGE_PERIOD())

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
        pending = self.pending
        if pending.exists and self.now() < pending.valid_at + ROOT_EXPIRY:
            problems.append(f"epoch {pending.epoch} is already pending")
        if epoch <= self.epoch and self.root != ZERO32:
            problems.append(f"epoch {epoch} is not above the active epoch {self.epoch}")
        if epoch > self.epoch + MAX_EPOCH_STEP:
            problems.append(
                f"epoch {epoch} is more than {MAX_EPOCH_STEP} above the active epoch {self.epoch}"
            )
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
                f"{pending.valid_at - now} s (until {human_time(pending.valid_at, now)})"
            )
        if now >= pending.valid_at + ROOT_EXPIRY:
            raise ChainError(
                f"accept: epoch {pending.epoch}'s root expired at "
                f"{human_time(pending.valid_at + ROOT_EXPIRY, now)}: propose it again"
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

    def ripe(self) -> bool:
        """Whether a pending root can be accepted now (window over, not expired, unpaused)."""
        pending = self.pending
        now = self.now()
        return (
            pending.exists
            and pending.valid_at <= now < pending.valid_at + ROOT_EXPIRY
            and not self.paused
        )

    def set_keeper(self, sender: Any, keeper: str) -> Sent:
        """Name the keeper (owner only): it may push balances to miners' recipients."""
        return _sent(
            retrying(
                lambda: self.contract.set_keeper(keeper, sender=sender, **self._wait),
                what="set_keeper",
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
        receipt = _mined(receipt)
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
        return self._push_outcome(receipt)

    def _push_outcome(self, receipt: Any) -> PushOutcome:
        receipt = _mined(receipt)  # its events only exist once it is in a block
        paid = {str(e.account): int(e.amount) for e in receipt.events.filter(self.contract.Claimed)}
        failures = list(receipt.events.filter(self.contract.PayoutFailed))
        return PushOutcome(
            sent=_sent(receipt),
            paid=paid,
            failed={str(e.account): int(e.amount) for e in failures},
            failed_gas={str(e.account): int(e.gas) for e in failures},
        )

    def recipient_of(self, account: str) -> str:
        """Where ``account``'s payouts go: the recipient it set, or itself."""
        recipient = str(self.contract.recipient(account))
        return account if int(recipient, 16) == 0 else recipient

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
                        total=int(log.total),
                        data_hash=_b32(log.data_hash),
                        block=int(log.block_number),
                        tx_hash=_hex(log.transaction_hash),
                    )
                )
        events.sort(
            key=lambda e: (e.block, ("RootProposed", "RootRevoked", "RootAccepted").index(e.kind))
        )
        return events

    def find_root_event(self, kind: str, epoch: int, start_block: int = 0) -> RootEvent | None:
        """The last ``kind`` event (`RootProposed`, `RootAccepted`) of ``epoch`` since
        ``start_block``: where a recovered action landed (its tx hash and block)."""
        found = [e for e in self.root_events(start_block) if e.kind == kind and e.epoch == epoch]
        return found[-1] if found else None

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
    def chain_id() -> int:
        """The connected node's chain id."""
        return int(retrying(lambda: ape.chain.chain_id, what="read the chain id"))

    @staticmethod
    def height() -> int:
        """The latest block number."""
        return int(retrying(lambda: ape.chain.blocks.height, what="read the block height"))

    def failed_pushes(self, start_block: int = 0) -> dict[str, int]:
        """account → block of its last `PayoutFailed` since ``start_block``, for accounts
        that have neither been paid (`Claimed`) nor changed their recipient
        (`RecipientSet`) since: the keeper does not push to them again."""
        stop = self.height() + 1
        last: dict[str, tuple[int, int, bool]] = {}  # account -> (block, log index, failed)
        for name in ("PayoutFailed", "Claimed", "RecipientSet"):
            for log in self._logs(name, start_block, stop):
                key = (int(log.block_number), int(log.log_index))
                account = str(log.account)
                if account not in last or key > last[account][:2]:
                    last[account] = (*key, name == "PayoutFailed")
        return {a: block for a, (block, _, failed) in last.items() if failed}

    def find_claims(self, wanted: dict[str, int], *, start_block: int) -> PushOutcome | None:
        """The transaction that paid any of ``wanted`` (account → cumulative) since
        ``start_block``, and what it did; None when no such `Claimed` log exists."""
        lowered = {a.lower(): c for a, c in wanted.items()}
        for log in self._logs("Claimed", start_block, self.height() + 1):
            if lowered.get(str(log.account).lower()) == int(log.cumulative):
                tx_hash = _hex(log.transaction_hash)
                receipt = retrying(
                    functools.partial(ape.chain.provider.get_receipt, tx_hash),
                    what="read a receipt",
                )
                return self._push_outcome(receipt)
        return None

    def _logs(self, name: str, start: int, stop: int) -> list[Any]:
        if start >= stop:  # no new block since the last read (an idle automining node)
            return []
        event = getattr(self.contract, name)
        return retrying(lambda: list(event.range(start, stop)), what=f"read {name} logs")
