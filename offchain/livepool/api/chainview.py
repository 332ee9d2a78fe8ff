"""What the service knows of the chain, refreshed in the background; requests never wait.

A daemon thread reads the distributor through web3.py's ``HTTPProvider`` every
``chain_refresh_seconds``: the active and pending roots, the balance, ``surplus()``,
and the ``Claimed``, ``PayoutFailed``, ``RootProposed``, ``RootAccepted`` and
``RootRevoked`` logs since the deploy block (incrementally). Logs are decoded with the
ABI of the compiled artifact, never by hard-coded topic layouts, so a field added to an
event changes nothing here. Each refresh builds a new immutable :class:`ChainState`
and swaps it in; an unreachable node leaves the last one in place, and
``updated_at`` says how old it is.

The same thread pre-serialises the proofs of the active epoch (:mod:`.proofs`) as soon
as it sees the epoch, so the proof endpoint only concatenates bytes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import structlog

from livepool.config import Settings

__all__ = ["ChainState", "ChainView", "Payment", "RootInfo", "load_abi"]

log = structlog.get_logger("livepool.api.chain")

#: Blocks per eth_getLogs call (public RPCs cap ranges at 10k).
LOG_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class RootInfo:
    """A Merkle root on chain (``valid_at`` only for the pending one)."""

    epoch: int
    root: str
    total: int
    data_hash: str
    valid_at: int | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    """One ``Claimed`` log: a payout to ``account`` (sent to ``recipient``)."""

    account: str
    recipient: str
    amount: int
    tx_hash: str
    block: int
    log_index: int
    time: int | None


@dataclass(frozen=True)
class ChainState:
    """One consistent snapshot of the chain (``updated_at`` None: never read)."""

    updated_at: int | None = None
    block: int = -1
    active: RootInfo | None = None
    pending: RootInfo | None = None
    balance: int | None = None
    #: Σ ``Claimed`` amounts (the v2 contract keeps no global counter; claims write none).
    total_claimed: int | None = None
    #: The contract's ``surplus()``: what the owner may withdraw.
    surplus: int | None = None
    claimed: dict[str, int] = field(default_factory=dict)
    payments: dict[str, list[Payment]] = field(default_factory=dict)  # newest first
    failed: dict[str, int] = field(default_factory=dict)  # PayoutFailed count per account
    proposed: frozenset[int] = frozenset()
    accepted: frozenset[int] = frozenset()
    revoked: frozenset[int] = frozenset()
    error: str | None = None

    def stale(self, now: float, interval: float) -> bool:
        """Never read, or older than three refresh intervals."""
        return self.updated_at is None or now - self.updated_at > 3 * interval


def load_abi(path: Path) -> list[dict[str, Any]]:
    """The distributor's ABI from ape's manifest or a ``{"abi": …}`` artifact."""
    data = json.loads(path.read_text())
    if "contractTypes" in data:
        return list(data["contractTypes"]["LivepoolDistributor"]["abi"])
    if "abi" in data:
        return list(data["abi"])
    raise ValueError(f"{path}: no LivepoolDistributor ABI in it")


def _hex32(value: Any) -> str:
    return "0x" + bytes(value).hex()


class ChainView:
    """The latest :class:`ChainState`, and the thread that refreshes it."""

    def __init__(
        self,
        settings: Settings,
        on_refresh: Callable[[ChainState], None] | None = None,
    ) -> None:
        self.settings = settings
        self.state = ChainState()
        self.on_refresh = on_refresh
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._contract: Any = None
        self._w3: Any = None
        self._events: dict[bytes, Any] = {}
        self._block_times: dict[int, int] = {}

    @property
    def enabled(self) -> bool:
        """``True`` when a contract and an RPC URL are configured."""
        return bool(self.settings.contract and self.settings.rpc_url)

    # ---- the thread --------------------------------------------------------------------

    def start(self) -> None:
        """Start refreshing in a daemon thread (a no-op when already started)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="livepool-chain", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop and wait a moment for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh_once()
            self._stop.wait(self.settings.chain_refresh_seconds)

    def refresh_once(self) -> ChainState:
        """One refresh (errors are kept in ``state.error``, never raised).

        The hook (which pre-serialises the active epoch's proofs) runs before the new
        state is published, so a reader who sees a root also finds its proofs ready.
        """
        state = self.state
        if self.enabled:
            try:
                state = self._read()
            except Exception as exc:
                message = (
                    f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                )
                log.warning("chain refresh failed", error=message, rpc=self.settings.rpc_url)
                state = replace(state, error=message)
        if self.on_refresh is not None:
            try:
                self.on_refresh(state)
            except Exception:
                log.exception("after-refresh hook failed")
        self.state = state
        return state

    # ---- reading the chain -------------------------------------------------------------

    def _connect(self) -> None:
        if self._contract is not None:
            return
        from web3 import Web3

        abi = load_abi(self.settings.abi_path)
        self._w3 = Web3(Web3.HTTPProvider(self.settings.rpc_url, request_kwargs={"timeout": 5}))
        address = Web3.to_checksum_address(str(self.settings.contract))
        self._contract = self._w3.eth.contract(address=address, abi=abi)
        for item in abi:
            if item.get("type") == "event":
                event = getattr(self._contract.events, item["name"])()
                signature = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
                self._events[bytes(Web3.keccak(text=signature))] = event

    def _read(self) -> ChainState:
        self._connect()
        w3, c = self._w3, self._contract
        chain_id = int(w3.eth.chain_id)
        if chain_id != self.settings.chain_id:
            raise ValueError(f"the node is on chain {chain_id}, not {self.settings.chain_id}")
        head = int(w3.eth.block_number)
        f = c.functions
        active_root = _hex32(f.root().call(block_identifier=head))
        active = None
        if int(active_root, 16):
            active = RootInfo(
                epoch=int(f.epoch().call(block_identifier=head)),
                root=active_root,
                total=int(f.total().call(block_identifier=head)),
                data_hash=_hex32(f.data_hash().call(block_identifier=head)),
            )
        p = f.pending_root().call(block_identifier=head)
        pending = None
        if int.from_bytes(bytes(p[0]), "big"):
            pending = RootInfo(
                epoch=int(p[1]),
                root=_hex32(p[0]),
                total=int(p[2]),
                data_hash=_hex32(p[3]),
                valid_at=int(p[4]),
            )
        balance = int(w3.eth.get_balance(c.address, block_identifier=head))
        surplus = int(f.surplus().call(block_identifier=head))

        old = self.state
        claimed = dict(old.claimed)
        payments = {k: list(v) for k, v in old.payments.items()}
        failed = dict(old.failed)
        proposed, accepted, revoked = set(old.proposed), set(old.accepted), set(old.revoked)
        start = max(old.block + 1, self.settings.deploy_block)
        while start <= head:
            stop = min(head, start + LOG_CHUNK - 1)
            logs = w3.eth.get_logs({"address": c.address, "fromBlock": start, "toBlock": stop})
            for raw in logs:
                topics = raw["topics"]
                event = self._events.get(bytes(topics[0])) if topics else None
                if event is None:
                    continue
                decoded = event.process_log(raw)
                name, args = decoded["event"], decoded["args"]
                if name == "Claimed":
                    account = str(args["account"])
                    block = int(decoded["blockNumber"])
                    payment = Payment(
                        account=account,
                        recipient=str(args.get("recipient", account)),
                        amount=int(args["amount"]),
                        tx_hash="0x" + bytes(decoded["transactionHash"]).hex(),
                        block=block,
                        log_index=int(decoded["logIndex"]),
                        time=self._block_time(block),
                    )
                    claimed[account] = claimed.get(account, 0) + payment.amount
                    payments.setdefault(account, []).insert(0, payment)
                elif name == "PayoutFailed":
                    account = str(args["account"])
                    failed[account] = failed.get(account, 0) + 1
                elif name == "RootProposed":
                    proposed.add(int(args["epoch"]))
                elif name == "RootAccepted":
                    accepted.add(int(args["epoch"]))
                elif name == "RootRevoked":
                    revoked.add(int(args["epoch"]))
            start = stop + 1
        return ChainState(
            updated_at=int(time.time()),
            block=head,
            active=active,
            pending=pending,
            balance=balance,
            total_claimed=sum(claimed.values()),
            surplus=surplus,
            claimed=claimed,
            payments=payments,
            failed=failed,
            proposed=frozenset(proposed),
            accepted=frozenset(accepted),
            revoked=frozenset(revoked),
            error=None,
        )

    def _block_time(self, block: int) -> int | None:
        if block not in self._block_times:
            try:
                self._block_times[block] = int(self._w3.eth.get_block(block)["timestamp"])
            except Exception:
                return None
        return self._block_times[block]
