"""Reusable pieces of the dashboard's browser test: an anvil node, the EIP-6963 test
wallet that forwards to it, Debian's Chromium, and page helpers that act like a miner.

Nothing here knows whether the API behind the page is the fixture (``fixture_api.py``)
or the real service: every helper takes a base URL (``test_dashboard.py`` runs on the
fixture, ``test_real_service.py`` on `livepool serve` and the real contract).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST = WEB / "dist"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MNEMONIC = "test test test test test test test test test test test junk"
ANVIL_CHAIN_ID = 31337
# anvil's dev accounts for MNEMONIC (public test keys; never use them anywhere else).
DEV_ACCOUNTS = [
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
    "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def anvil_binary() -> str:
    for candidate in (
        shutil.which("anvil"),
        str(ROOT / "node_modules" / ".bin" / "anvil"),
        "/work/main/node_modules/.bin/anvil",
    ):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("anvil is missing: run `make setup` (npm @foundry-rs/anvil)")


@dataclass
class Anvil:
    """A running anvil node; ``rpc`` is a tiny JSON-RPC client for assertions."""

    url: str
    process: subprocess.Popen[bytes] | None = None  # None: a node someone else runs

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
        req = urllib.request.Request(
            self.url, data=body.encode(), headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as res:
            reply = json.loads(res.read())
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def balance(self, address: str) -> int:
        return int(self.rpc("eth_getBalance", [address, "latest"]), 16)

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return self.rpc("eth_getTransactionReceipt", [tx_hash])


@contextmanager
def run_anvil(*extra_args: str) -> Iterator[Anvil]:
    """Start anvil on a free loopback port with the shared test mnemonic; stop it after."""
    port = free_port()
    process = subprocess.Popen(
        [
            anvil_binary(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--mnemonic",
            MNEMONIC,
            "--accounts",
            "10",
            "--balance",
            "1000000",
            "--silent",
            *extra_args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    node = Anvil(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 30
    while True:
        try:
            node.rpc("eth_chainId")
            break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"anvil exited: {process.stderr.read().decode()}") from None
            if time.monotonic() > deadline:
                raise RuntimeError("anvil did not answer within 30 s") from None
            time.sleep(0.1)
    try:
        yield node
    finally:
        process.terminate()
        process.wait(timeout=10)


def ensure_built() -> Path:
    """Build web/dist if it is missing or older than its sources (``npm run build``)."""
    index = DIST / "index.html"
    sources = [p for d in ("src",) for p in (WEB / d).rglob("*") if p.is_file()]
    sources += [WEB / "index.html", WEB / "package.json", WEB / "vite.config.ts"]
    newest = max(p.stat().st_mtime for p in sources)
    if not index.exists() or index.stat().st_mtime < newest:
        if not (WEB / "node_modules").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
        subprocess.run(["npm", "run", "build"], cwd=WEB, check=True, capture_output=True)
    return DIST


# The test wallet: an EIP-1193 provider announced through EIP-6963 that forwards every
# request to anvil (which signs eth_sendTransaction and eth_signTypedData_v4 for its dev
# accounts). window.__LIVEPOOL_WALLET__ configures it, and tests may change it at run time:
#   account      the account it exposes
#   chainId      a chain id to report instead of anvil's (null = anvil's)
#   switchError  an EIP-1193 code to fail wallet_switchEthereumChain with (null = succeed)
#   reject       methods the "user" rejects with code 4001
# Every request lands in window.__walletCalls for assertions.
WALLET_SHIM = r"""
(() => {
  const cfg = window.__LIVEPOOL_WALLET__;
  const calls = (window.__walletCalls = []);
  let id = 0;
  const fail = (code, message, data) => Object.assign(new Error(message), { code, data });
  async function forward(method, params) {
    const res = await fetch(cfg.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params ?? [] }),
    });
    const reply = await res.json();
    if (reply.error) throw fail(reply.error.code, reply.error.message, reply.error.data);
    return reply.result;
  }
  const listeners = {};
  const provider = {
    isLivepoolTestWallet: true,
    async request({ method, params }) {
      calls.push({ method, params });
      if ((cfg.reject || []).includes(method)) throw fail(4001, "User rejected the request.");
      switch (method) {
        case "eth_requestAccounts":
        case "eth_accounts":
          return [cfg.account];
        case "eth_chainId":
          return cfg.chainId != null ? "0x" + cfg.chainId.toString(16) : forward(method, params);
        case "wallet_switchEthereumChain": {
          if (cfg.switchError != null) throw fail(cfg.switchError, "The user declined the switch.");
          const anvilChain = await forward("eth_chainId", []);
          if (params[0].chainId.toLowerCase() !== anvilChain.toLowerCase()) {
            throw fail(4902, "Unrecognized chain ID");
          }
          cfg.chainId = null;
          (listeners.chainChanged || []).forEach((f) => f(anvilChain));
          return null;
        }
        case "eth_sendTransaction":
          return forward(method, [{ ...params[0], from: cfg.account }]);
        default:
          return forward(method, params);
      }
    },
    on(event, f) { (listeners[event] ||= []).push(f); },
    removeListener(event, f) {
      listeners[event] = (listeners[event] || []).filter((g) => g !== f);
    },
  };
  const detail = Object.freeze({
    info: {
      uuid: "0b6f5a3e-6d2b-4d0f-9c55-7a1f5f2b9e01",
      name: "Anvil test wallet",
      icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 1 1'/%3E",
      rdns: "dev.livepool.testwallet",
    },
    provider,
  });
  const announce = () =>
    window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();
"""


def install_wallet(page: Any, rpc_url: str, account: str, **options: Any) -> None:
    """Give ``page`` the EIP-6963 test wallet (before ``goto``); options as in WALLET_SHIM."""
    cfg = {
        "rpcUrl": rpc_url,
        "account": account,
        "chainId": None,
        "switchError": None,
        "reject": [],
        **options,
    }
    page.add_init_script(script=f"window.__LIVEPOOL_WALLET__ = {json.dumps(cfg)};\n{WALLET_SHIM}")


def set_wallet(page: Any, **options: Any) -> None:
    """Change the test wallet's behaviour on a loaded page (e.g. reject=["eth_sendTransaction"])."""
    page.evaluate("(o) => Object.assign(window.__LIVEPOOL_WALLET__, o)", options)


# ---------------------------------------------------------------- page helpers


def wait_ready(page: Any, timeout: float = 15_000) -> float:
    """Wait until every panel has settled and is painted; return the time (ms since
    navigation) at which the page became interactive (``window.__livepoolReadyAt``: the
    panels a visitor acts on painted; charts and tables follow a frame later)."""
    page.wait_for_function(
        "() => window.__livepoolReadyAt !== undefined && window.__livepoolCompleteAt !== undefined",
        timeout=timeout,
    )
    return float(page.evaluate("window.__livepoolReadyAt"))


def complete_time(page: Any) -> float:
    """When every panel, charts and tables included, was painted (after ``wait_ready``)."""
    return float(page.evaluate("window.__livepoolCompleteAt"))


def open_pool(page: Any, base_url: str) -> float:
    page.goto(f"{base_url}/#/")
    return wait_ready(page)


def open_miner(page: Any, base_url: str, address: str) -> float:
    page.goto(f"{base_url}/#/miner/{address}")
    return wait_ready(page)


def panel(page: Any, title: str) -> Any:
    """The panel <section> whose heading is ``title``."""
    return page.locator("section.panel", has=page.get_by_role("heading", name=title, exact=True))


def connect(page: Any) -> str:
    """Click Connect in the header; return the account the page shows as connected."""
    page.get_by_role("button", name="Connect wallet").click()
    page.wait_for_function("() => document.querySelector('#connect').dataset.account")
    return str(page.eval_on_selector("#connect", "b => b.dataset.account"))


def watch_claim_status(page: Any) -> None:
    """Record every text the claim status shows, so a test can see pending → result."""
    page.evaluate(
        """() => {
        const el = document.querySelector('#claim-status');
        window.__claimLog = [];
        new MutationObserver(() => window.__claimLog.push({text: el.textContent,
          links: [...el.querySelectorAll('a')].map(a => a.href),
          result: el.dataset.result || null}))
          .observe(el, {childList: true, subtree: true, characterData: true, attributes: true});
    }"""
    )


def claim(page: Any, timeout: float = 30_000) -> dict[str, Any]:
    """Click Claim and wait for the outcome. Returns the wei the button showed, the status
    log (pending → result) and the final result kind ("success" or an error kind)."""
    button = page.locator("#claim")
    shown_wei = int(button.get_attribute("data-wei") or "0")
    watch_claim_status(page)
    button.click()
    page.wait_for_function(
        "() => { const s = document.querySelector('#claim-status'); return s && s.dataset.result"
        " && !/Refreshing/.test(s.textContent); }",
        timeout=timeout,
    )
    status = page.locator("#claim-status")
    return {
        "shown_wei": shown_wei,
        "result": status.get_attribute("data-result"),
        "text": status.inner_text(),
        "log": page.evaluate("window.__claimLog"),
    }


def save_settings(
    page: Any, *, mode: str, threshold_eth: str, gas_cap_percent: str, timeout: float = 15_000
) -> dict[str, Any]:
    """Fill the payout settings form, sign and save; return the status text and result."""
    form = panel(page, "Payout settings")
    form.locator(f"input[name=mode][value={mode}]").check()
    form.get_by_label("Threshold (ETH)", exact=False).fill(threshold_eth)
    form.get_by_label("Gas cap", exact=False).fill(gas_cap_percent)
    form.get_by_role("button", name="Sign and save").click()
    status = form.locator(".status")
    page.wait_for_function(
        "(el) => el.dataset.result", arg=status.element_handle(), timeout=timeout
    )
    return {
        "result": status.get_attribute("data-result"),
        "text": status.inner_text(),
        "saved": form.locator(".saved").inner_text(),
    }


def screenshot(page: Any, name: str, width: int) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    # Off-screen panels use content-visibility: auto, which a full-page capture would
    # leave blank; render them all for the picture.
    page.evaluate(
        "document.querySelectorAll('.panel').forEach(p => p.style.contentVisibility = 'visible')"
    )
    page.wait_for_timeout(150)  # let charts follow the new width
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
