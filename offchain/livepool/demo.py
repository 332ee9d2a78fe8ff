"""`livepool demo`: a whole pool, live, on this machine.

It starts a real anvil node, deploys and funds the distributor (v2: owner, poster,
guardian and keeper roles; a challenge window of seconds), configures the pool on an
accelerated clock, starts the service (`livepool serve`), the keeper (`ape run keeper
--intervals demo`) and the watchtower (`ape run watch`, with the guardian key), creates an
orchestrator token and plays the orchestrator: the simulator's receipts are posted to
``POST /v1/receipts`` with that token, as segments finish, in real time. One line is
printed per event (epoch closed, root proposed / checked / accepted / revoked, pushes,
claims). Ctrl-C (or, with ``--exit``, the N-th accepted epoch) stops every process it
started, and only those.

**Clocks.** The ledger puts a receipt in the epoch of its ``finished_at``; anvil stamps
blocks with the wall clock; the keeper closes epochs and accepts roots by the wall clock.
So the demo runs everything on the real clock and makes the *epochs* short (60 s by
default) instead of making time fast. Anvil automines (a block per transaction, stamped
with the wall time), which keeps every step as quick as the node answers.

**Roles** (anvil's well-known dev accounts of the ``test … junk`` mnemonic): 0 owner,
1 poster (the keeper signs with it; it is also the contract's keeper), 2 guardian (the
watchtower), 3 the pool's fee address, 4 the orchestrator, 5–9 miners: 5–7 chose push
payouts, 8 claims (the demo claims for it after each accepted root), 9 claims too and is
the key printed for a wallet.

``--tamper-epoch K``: once, at epoch K, the operator proposes a root of its own making
(the statement with one leaf raised by 1 ETH, and its tree — written to
``DATA_DIR/tampered/``), not the published one. The watchtower must revoke it within the
window; the keeper then proposes the honest root.

This module holds no pool logic: processes are the real commands, and the few direct
chain calls (funding, the tampered proposal, claims) are plain JSON-RPC transactions
from anvil's unlocked accounts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import click
import httpx
from eth_account import Account
from web3 import Web3

from livepool import epochs
from livepool.hashing import keccak256
from livepool.ledger import Ledger
from livepool.ledger import service as servicedb
from livepool.merkle import MerkleTree
from livepool.simulate import simulate
from livepool.statement import canonical_bytes, load_statement

__all__ = ["DemoOptions", "Summary", "run_demo"]

ROOT: Final = Path(__file__).resolve().parents[2]
MNEMONIC: Final = "test test test test test test test test test test test junk"
ETH: Final = 10**18
NETWORK: Final = "ethereum:local:foundry"
OWNER, POSTER, GUARDIAN, FEE, ORCHESTRATOR = range(5)
PUSH_MINERS: Final = (5, 6, 7)
CLAIMER: Final = 8
WALLET_MINER: Final = 9
RAISE: Final = ETH  # what the tampered leaf is raised by


def dev_key(index: int) -> str:
    """Anvil's dev key ``index`` (public knowledge: never use it on a real network)."""
    Account.enable_unaudited_hdwallet_features()
    account = Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return "0x" + bytes(account.key).hex()


def dev_address(index: int) -> str:
    return str(Account.from_key(dev_key(index)).address)


@dataclass
class DemoOptions:
    """What ``livepool demo`` was asked to do."""

    data_dir: Path
    port: int = 8000
    anvil_port: int = 0
    epochs: int | None = None  # bounded: stop after this many accepted epochs
    tamper_epoch: int | None = None
    epoch_seconds: int = 60
    settle_seconds: int = 5
    challenge_seconds: int = 20
    rate: float = 3.0  # receipts per second
    fund_eth: int = 10


@dataclass
class Summary:
    """What a bounded run reports."""

    epochs: list[int] = field(default_factory=list)
    receipts: int = 0
    proposed: int = 0
    accepted: int = 0
    revoked: list[int] = field(default_factory=list)
    claimed_wei: int = 0
    pushed_wei: int = 0
    watch_ok: int = 0
    watch_failed: list[int] = field(default_factory=list)
    verify_ok: bool = False
    verify_report: str = ""
    tampered: int | None = None

    @property
    def ok(self) -> bool:
        tamper_caught = self.tampered is None or self.revoked == [self.tampered]
        honest = sorted(set(self.watch_failed)) == (
            [] if self.tampered is None else [self.tampered]
        )
        return self.verify_ok and tamper_caught and honest

    def render(self) -> str:
        lines = [
            "── demo summary ──",
            f"epochs accepted   {', '.join(map(str, self.epochs)) or 'none'}",
            f"receipts posted   {self.receipts}",
            f"roots             {self.proposed} proposed, {self.accepted} accepted, "
            f"{len(self.revoked)} revoked{_epochs_note(self.revoked)}",
            f"paid              {_eth(self.claimed_wei)} claimed, {_eth(self.pushed_wei)} pushed",
            f"watchtower        {self.watch_ok} root(s) ok, {len(self.watch_failed)} failed"
            + _epochs_note(self.watch_failed),
        ]
        if self.tampered is not None:
            caught = self.revoked == [self.tampered]
            lines.append(
                f"tampered root     epoch {self.tampered}: "
                + ("revoked by the watchtower" if caught else "NOT revoked")
            )
        lines.append(f"verify            {'PASS' if self.verify_ok else 'FAIL'}")
        lines.append(f"result            {'OK' if self.ok else 'FAILED'}")
        return "\n".join(lines)


def _epochs_note(numbers: list[int]) -> str:
    return f" (epoch {', '.join(map(str, numbers))})" if numbers else ""


def _eth(wei: int) -> str:
    return f"{wei / ETH:.9f} ETH ({wei} wei)"


def _say(message: str) -> None:
    click.echo(f"{time.strftime('%H:%M:%S')}  {message}", nl=True)
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bin(name: str) -> str:
    for candidate in (Path(sys.executable).parent / name, ROOT / "node_modules" / ".bin" / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise click.ClickException(f"{name} is missing: run `make setup`")
    return found


class Processes:
    """The processes this demo started — and only those — stopped in reverse order."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        handle = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops its children
        )
        self.started.append((name, process))
        return process

    def check(self) -> None:
        for name, process in self.started:
            if process.poll() is not None:
                tail = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
                raise click.ClickException(f"{name} exited ({process.returncode}):\n{tail}")

    def stop(self) -> None:
        """SIGTERM to each started process's own group (it and any child it spawned, such
        as the native anvil behind its npm shim); SIGKILL after 20 s."""
        for _name, process in reversed(self.started):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGCONT)  # if it was paused
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _name, process in reversed(self.started):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


class LogTail:
    """New JSON lines of a process's log, as they are written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def new(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        for raw in data[:end].decode(errors="replace").splitlines():
            raw = raw.strip()
            if raw.startswith("{"):
                with contextlib.suppress(ValueError):
                    yield json.loads(raw)


class Orchestrator(threading.Thread):
    """The simulator as a live orchestrator: each receipt is posted once its segment has
    finished (``finished_at`` ≤ now), with the orchestrator's token."""

    def __init__(
        self, base: str, token: str, wallets: list[str], start: int, rate: float, scale: int
    ) -> None:
        super().__init__(daemon=True, name="orchestrator")
        self.base, self.token, self.scale = base, token, scale
        self.wallets, self.start_at, self.rate = wallets, start, rate
        self.stop_event = threading.Event()
        self.accepted = 0
        self.errors: list[str] = []

    def run(self) -> None:
        per_day = int(self.rate * 86_400)
        items = simulate(
            len(self.wallets), per_day, seed=7, start=self.start_at, addresses=self.wallets
        )
        orchestrator = dev_address(ORCHESTRATOR)
        headers = {"Authorization": f"Bearer {self.token}"}
        batch: list[dict[str, Any]] = []
        verdicts: list[dict[str, Any]] = []
        with httpx.Client(base_url=self.base, headers=headers, timeout=30) as client:
            for item in items:
                if "verdict" in item:
                    verdicts.append(item["verdict"])
                    continue
                item["orchestrator"] = orchestrator
                item["price_per_unit"] *= self.scale
                item["finished_at"] = max(item["finished_at"], self.start_at)
                while item["finished_at"] > time.time():
                    self._send(client, batch, verdicts)
                    if self.stop_event.wait(0.5):
                        return
                batch.append(item)
                if len(batch) >= 200:
                    self._send(client, batch, verdicts)

    def _send(self, client: httpx.Client, batch: list[Any], verdicts: list[Any]) -> None:
        try:
            if batch:
                response = client.post("/v1/receipts", json={"receipts": batch})
                response.raise_for_status()
                self.accepted += int(response.json()["accepted"])
                batch.clear()
            if verdicts:
                client.post("/v1/verdicts", json={"verdicts": verdicts}).raise_for_status()
                verdicts.clear()
        except httpx.HTTPError as exc:  # the service restarting: keep the batch, retry
            self.errors.append(str(exc))


class Demo:
    """One run: start everything, follow it, stop everything."""

    def __init__(self, options: DemoOptions) -> None:
        self.o = options
        self.data = options.data_dir
        self.logs = self.data / "logs"
        self.procs = Processes(self.logs)
        self.summary = Summary()
        self.base = f"http://127.0.0.1:{options.port}"
        rounds = (options.epochs or 0) + (options.tamper_epoch or 0) + 3
        self.deadline = (
            time.time() + 120 + rounds * (options.epoch_seconds + options.settle_seconds)
        )
        self.tamper_state = "waiting" if options.tamper_epoch is not None else "off"
        self.keeper: subprocess.Popen[bytes] | None = None
        self.accepted_seen: set[int] = set()
        self.claimed: dict[int, int] = {}
        self.watched: set[int] = set()
        self.pushed: set[int] = set()

    # -- setup ---------------------------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        path = os.pathsep.join(
            [
                str(Path(sys.executable).parent),
                str(ROOT / "node_modules" / ".bin"),
                os.environ.get("PATH", ""),
            ]
        )
        env = {**os.environ, "PATH": path, "LIVEPOOL_DATA_DIR": str(self.data), **extra}
        env.pop("LIVEPOOL_DATABASE_URL", None)
        env.pop("LIVEPOOL_KEEPER_KILL_AFTER", None)
        return env

    def net(self) -> list[str]:
        return ["--network", NETWORK, "--provider-settings", json.dumps({"host": self.rpc})]

    def start_anvil(self) -> None:
        port = self.o.anvil_port or free_port()
        self.rpc = f"http://127.0.0.1:{port}"
        argv = [
            _bin("anvil"), "--host", "127.0.0.1", "--port", str(port), "--mnemonic", MNEMONIC,
            "--accounts", "10", "--balance", "10000", "--silent",
        ]  # fmt: skip
        self.procs.start("anvil", argv, self.env())
        self.w3 = Web3(Web3.HTTPProvider(self.rpc, request_kwargs={"timeout": 30}))
        self._wait("anvil", self.w3.is_connected, 30)
        _say(f"anvil       {self.rpc} (chain {self.w3.eth.chain_id}, automine)")

    def ape(self, name: str, script: str, *args: str, wait: bool = True) -> subprocess.Popen[bytes]:
        argv = [_bin("ape"), "run", script, *args, "--data-dir", str(self.data), *self.net()]
        process = self.procs.start(name, argv, self.env())
        if wait:
            code = process.wait(timeout=300)
            self.procs.started.remove((name, process))
            if code != 0:
                tail = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
                raise click.ClickException(f"ape run {script} failed ({code}):\n{tail}")
        return process

    def deploy(self) -> None:
        poster = dev_address(POSTER)
        self.ape(
            "deploy", "deploy", "--account", "TEST::0", "--yes",
            "--poster", poster, "--guardian", dev_address(GUARDIAN), "--keeper", poster,
            "--challenge-period", str(self.o.challenge_seconds),
            "--min-challenge-period", str(self.o.challenge_seconds),
        )  # fmt: skip
        record = next((self.data / "deployments").glob("*.json"))
        deployment = json.loads(record.read_text())
        self.address = Web3.to_checksum_address(deployment["address"])
        self.deploy_block = int(deployment["block"])
        manifest = json.loads((ROOT / ".build" / "__local__.json").read_text())
        self.abi_path = ROOT / ".build" / "__local__.json"
        abi = manifest["contractTypes"]["LivepoolDistributor"]["abi"]
        self.contract = self.w3.eth.contract(address=self.address, abi=abi)
        self.send(OWNER, self.address, value=self.o.fund_eth * ETH)
        _say(
            f"distributor {self.address}: funded {self.o.fund_eth} ETH; challenge window "
            f"{self.o.challenge_seconds} s; poster+keeper {poster}, guardian "
            f"{dev_address(GUARDIAN)}"
        )

    def send(self, sender: int, to: str, *, value: int = 0, data: str | bytes = b"") -> Any:
        tx = {"from": dev_address(sender), "to": to, "value": value, "data": data}
        receipt = self.w3.eth.wait_for_transaction_receipt(self.w3.eth.send_transaction(tx))  # type: ignore[arg-type]
        if receipt["status"] != 1:
            raise click.ClickException(f"transaction to {to} from account {sender} reverted")
        return receipt

    def configure(self) -> None:
        self.ledger = Ledger(data_dir=self.data)
        self.genesis = int(time.time())
        epochs.configure(
            self.ledger,
            fee_address=dev_address(FEE),
            genesis=self.genesis,
            epoch_seconds=self.o.epoch_seconds,
            settle_seconds=self.o.settle_seconds,
            commission_bps=500,
            orchestrator=dev_address(ORCHESTRATOR),
        )
        for index in PUSH_MINERS:
            self.ledger.set_payout(dev_address(index), "push", 0)
        for index in (CLAIMER, WALLET_MINER):
            self.ledger.set_payout(dev_address(index), "claim")
        self.token, _ = servicedb.create_token(self.ledger, dev_address(ORCHESTRATOR), "demo")
        _say(
            f"pool        epochs of {self.o.epoch_seconds} s from now, closed "
            f"{self.o.settle_seconds} s after their end; commission 5 %; "
            f"ledger {self.ledger.url}"
        )

    def start_service(self) -> None:
        env = self.env(
            LIVEPOOL_CONTRACT=self.address,
            LIVEPOOL_RPC_URL=self.rpc,
            LIVEPOOL_CHAIN_ID=str(self.w3.eth.chain_id),
            LIVEPOOL_DEPLOY_BLOCK=str(self.deploy_block),
            LIVEPOOL_ABI_PATH=str(self.abi_path),
            LIVEPOOL_CHAIN_REFRESH_SECONDS="1",
            LIVEPOOL_VIEW_CACHE_SECONDS="1",
            LIVEPOOL_EXPLORER_URL="",
        )
        argv = [sys.executable, "-m", "livepool.cli", "--data-dir", str(self.data), "serve",
                "--port", str(self.o.port)]  # fmt: skip
        self.procs.start("service", argv, env)

        def ready() -> bool:
            try:
                return httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        self._wait("the service", ready, 60)
        _say(f"service     {self.base} (dashboard, API at {self.base}/docs)")

    def start_orchestrator(self) -> None:
        wallets = [dev_address(i) for i in (*PUSH_MINERS, CLAIMER, WALLET_MINER)]
        # A day compressed into an epoch: prices scaled so an epoch pays what a day would
        # (otherwise a push's gas on anvil would outweigh a minute's earnings).
        scale = max(1, 86_400 // self.o.epoch_seconds)
        self.orchestrator = Orchestrator(
            self.base, self.token, wallets, self.genesis, self.o.rate, scale
        )
        self.orchestrator.start()
        _say(
            f"orchestrator posting ~{self.o.rate:g} receipts/s to {self.base}/v1/receipts "
            f"(prices ×{scale}: an epoch pays what a day would)"
        )

    def start_keeper_and_watch(self) -> None:
        self.keeper = self.ape(
            "keeper", "keeper", "--account", "TEST::1", "--intervals", "demo",
            "--log-format", "json", "--confirmations", "0", wait=False,
        )  # fmt: skip
        self.ape(
            "watch", "watch", "--account", "TEST::2", "--source", self.base,
            "--interval", "1", "--log-format", "json", wait=False,
        )  # fmt: skip
        self.tails = {
            "keeper": LogTail(self.logs / "keeper.log"),
            "watch": LogTail(self.logs / "watch.log"),
        }
        _say("keeper      started (--intervals demo); watchtower started with the guardian key")

    def _wait(self, what: str, check: Any, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            self.procs.check()
            if time.monotonic() > deadline:
                raise click.ClickException(f"{what} did not start within {seconds:g} s")
            time.sleep(0.2)

    # -- following ---------------------------------------------------------------------

    def follow(self) -> None:
        """Print events until the bounded run is done (or forever, until Ctrl-C)."""
        while True:
            self.procs.check()
            for source, tail in self.tails.items():
                for event in tail.new():
                    self.report(source, event)
            self.tamper()
            self.claim()
            if self.done():
                time.sleep(2)  # the last lines of the push and the check
                for source, tail in self.tails.items():
                    for event in tail.new():
                        self.report(source, event)
                return
            time.sleep(0.5)

    def report(self, source: str, e: dict[str, Any]) -> None:
        name = e.get("event")
        s = self.summary
        if name == "epoch_closed":
            total = _eth(int(e["total_wei"]))
            _say(
                f"epoch {e['epoch']} closed: {e['miners']} miners, total {total}, root {e['root']}"
            )
        elif name == "root_proposed":
            s.proposed += 1
            window = self.o.challenge_seconds
            _say(f"epoch {e['epoch']} root proposed by the keeper (challenge window {window} s)")
        elif name == "root_accepted":
            s.accepted += 1
            s.epochs.append(int(e["epoch"]))
            _say(f"epoch {e['epoch']} root accepted: miners can claim")
        elif name == "pushed":
            s.pushed_wei += int(e["paid_wei"])
            self.pushed.add(int(e["epoch"]))
            _say(f"epoch {e['epoch']} pushed {_eth(int(e['paid_wei']))} to {e['miners']} miners")
        elif name == "root_ok":
            s.watch_ok += 1
            self.watched.add(int(e["epoch"]))
            _say(f"epoch {e.get('epoch')} root checked by the watchtower: audit passed")
        elif name == "root_audit_failed":
            s.watch_failed.append(int(e["epoch"]))
            problems = e.get("problems") or []
            first = problems[0] if problems else ""
            _say(f"epoch {e['epoch']} root FAILED the watchtower's audit: {first}")
        elif name == "root_revoked":
            s.revoked.append(int(e["epoch"]))
            _say(f"epoch {e['epoch']} root revoked by the watchtower (guardian)")
        elif name in ("step_retry", "revoke_failed", "payout_refused") and source == "keeper":
            pass  # expected while a tampered root blocks the keeper; in keeper.log

    def tamper(self) -> None:
        """At epoch K (or the first after it that can be intercepted): pause the keeper,
        close the epoch, propose a raised root as the poster, resume the keeper."""
        if self.tamper_state != "waiting" or self.keeper is None:
            return
        k = int(self.o.tamper_epoch or 0)
        config = epochs.pool_config(self.ledger)
        due = config.genesis + (k + 1) * config.epoch_seconds + config.settle_seconds
        now = time.time()
        if now < due - 3:
            return
        rows = {int(r["number"]): r["state"] for r in epochs.list_epochs(self.ledger)}
        pending = self.contract.functions.pending_root().call()
        if rows.get(k) == "closed" or pending[0] != b"\x00" * 32:
            self.o.tamper_epoch = k + 1  # too late for K (or a root pending): the next one
            return
        os.kill(self.keeper.pid, signal.SIGSTOP)
        try:
            while time.time() < due:
                time.sleep(0.2)
            for closed in epochs.close_due(self.ledger, now=int(time.time())):
                _say(f"epoch {closed.number} closed (by the operator, the keeper paused)")
            raw = epochs.epoch_statement(self.ledger, k)
            bad, tree = _tampered(raw)
            folder = self.data / "tampered"
            folder.mkdir(exist_ok=True)
            (folder / f"epoch-{k}.json").write_bytes(bad)
            (folder / f"epoch-{k}.tree.json").write_text(tree.dump_json())
            statement = load_statement(bad)
            data = self.contract.encode_abi(
                "propose_root", [tree.root, k, statement.total, keccak256(bad)]
            )
            self.send(POSTER, self.address, data=data)
        finally:
            os.kill(self.keeper.pid, signal.SIGCONT)
        self.tamper_state = "done"
        self.summary.tampered = k
        _say(
            f"epoch {k} TAMPERED root proposed by the operator: one leaf raised by "
            f"{_eth(RAISE)} (statement and tree in {folder})"
        )

    def claim(self) -> None:
        """After each accepted root, the claiming miner (account 8) claims with the
        service's ready-made ``claim`` transaction."""
        epoch = int(self.contract.functions.epoch().call())
        root = self.contract.functions.root().call()
        if root == b"\x00" * 32 or epoch in self.claimed:
            return
        account = dev_address(CLAIMER)
        try:
            response = httpx.get(f"{self.base}/v1/miners/{account}/proof", timeout=10)
        except httpx.HTTPError:
            return
        if response.status_code != 200 or int(response.json()["epoch"]) != epoch:
            return  # the service has not seen the new root yet
        body = response.json()
        before = int(self.contract.functions.claimed(account).call())
        if int(body["cumulative"]) <= before:
            self.claimed[epoch] = 0  # no new earnings in this epoch
            return
        self.send(CLAIMER, body["tx"]["to"], data=body["tx"]["data"])
        paid = int(self.contract.functions.claimed(account).call()) - before
        self.claimed[epoch] = paid
        self.summary.claimed_wei += paid
        _say(f"epoch {epoch} claimed {_eth(paid)} by miner {account} (from its wallet)")

    def done(self) -> bool:
        """Bounded runs: the last epoch is accepted, claimed and pushed (and a tampered
        root, if asked for, was proposed). Gives up after a generous deadline."""
        if self.o.epochs is None:
            return False
        if time.time() > self.deadline:
            _say("giving up: the epochs were not all accepted and paid in time")
            return True
        last = self.o.epochs - 1
        if int(self.contract.functions.epoch().call()) < last or self.tamper_state == "waiting":
            return False
        if not any(e >= last for e in self.claimed):
            return False
        tree = epochs.epoch_tree(self.ledger, last)
        owed = {a: tree.amount(a) for a in map(dev_address, PUSH_MINERS) if a in tree}
        return all(int(self.contract.functions.claimed(a).call()) >= v for a, v in owed.items())

    def verify(self) -> None:
        argv = [_bin("ape"), "run", "verify", "--statements", self.base,
                "--data-dir", str(self.data), *self.net()]  # fmt: skip
        result = subprocess.run(
            argv, cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=300
        )
        self.summary.verify_ok = result.returncode == 0
        self.summary.verify_report = (result.stdout + result.stderr).strip()

    def banner(self) -> None:
        click.echo("")
        click.echo(f"  Open the dashboard:  {self.base}")
        click.echo(f"  Demo miner (claims): {dev_address(WALLET_MINER)}")
        click.echo(
            f"  Its private key (anvil dev key, import it into a wallet): {dev_key(WALLET_MINER)}"
        )
        click.echo(f"  Wallet network:      RPC {self.rpc}, chain id {self.w3.eth.chain_id}")
        click.echo(
            f"  Logs:                {self.logs}/   Ctrl-C stops everything the demo started."
        )
        click.echo("")


def _tampered(raw: bytes) -> tuple[bytes, MerkleTree]:
    """The statement with its first miner's cumulative (and the total) raised by
    :data:`RAISE` and its root recomputed — self-consistent as a tree, false as accounts."""
    data = json.loads(raw)
    data["miners"][0]["cumulative"] = str(int(data["miners"][0]["cumulative"]) + RAISE)
    data["total"] = str(int(data["total"]) + RAISE)
    leaves = [(m["address"], int(m["cumulative"])) for m in data["miners"] if int(m["cumulative"])]
    leaves.append((data["pool"]["address"], int(data["pool"]["cumulative"])))
    tree = MerkleTree.build(leaves)
    data["root"] = tree.root_hex
    return canonical_bytes(load_statement(data)), tree


def run_demo(options: DemoOptions) -> int:
    """Run the demo; the exit code (bounded: 0 only when the audit passes)."""
    shutil.rmtree(options.data_dir, ignore_errors=True)
    (options.data_dir / "logs").mkdir(parents=True)
    demo = Demo(options)
    interrupted = False
    try:
        demo.start_anvil()
        demo.deploy()
        demo.configure()
        demo.start_service()
        demo.start_orchestrator()
        demo.start_keeper_and_watch()
        demo.banner()
        demo.follow()
        if options.epochs is not None:
            demo.orchestrator.stop_event.set()
            demo.summary.receipts = demo.orchestrator.accepted
            _say("running `ape run verify` against the service and the chain …")
            demo.verify()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if hasattr(demo, "orchestrator"):
            demo.orchestrator.stop_event.set()
        demo.procs.stop()
        if hasattr(demo, "ledger"):
            demo.ledger.close()
    if interrupted:
        _say("stopped: every process the demo started has exited")
        return 130
    if options.epochs is None:
        return 0
    click.echo(demo.summary.verify_report)
    click.echo(demo.summary.render())
    return 0 if demo.summary.ok else 1
