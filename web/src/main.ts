/**
 * Entry: header (address entry, Connect), hash routing (#/, #/miner/0x…, #/verify) so
 * the static files need no server rewrites. Wallet code is not imported here.
 */

import "./style.css";
import { connectWallet } from "./connect";
import { afterPaint, h } from "./dom";
import { isAddress, shortHex } from "./format";
import { mountMiner } from "./pages/miner";
import { mountPool, type PageCtx } from "./pages/pool";
import { mountVerify } from "./pages/verify";
import { session } from "./session";
import { describeWalletError } from "./walletErrors";

declare global {
  interface Window {
    __livepoolReadyAt?: number;
    __livepoolCompleteAt?: number;
  }
}

performance.mark("app:start");
const ctx: PageCtx = { now: () => Math.floor(Date.now() / 1000), interactive: () => markInteractive() };
const main = document.getElementById("main") as HTMLElement;
const headerStatus = document.getElementById("header-status") as HTMLElement;
const connectBtn = document.getElementById("connect") as HTMLButtonElement;
const form = document.getElementById("lookup") as HTMLFormElement;
const input = document.getElementById("address") as HTMLInputElement;

/**
 * Record when content is on screen: a requestAnimationFrame callback runs just before the
 * frame's layout and paint, and a message posted from it runs just after them (afterPaint).
 * window.__livepoolReadyAt: the page is interactive (every control and the panels a
 * visitor acts on are painted); window.__livepoolCompleteAt: every panel, charts and
 * tables included, is painted. The browser test reads both.
 */
let route_ = 0;
function markInteractive() {
  const r = route_;
  void afterPaint().then(() => {
    if (r === route_ && window.__livepoolReadyAt === undefined) window.__livepoolReadyAt = performance.now();
  });
}

function setReady(done: boolean) {
  document.documentElement.dataset.ready = String(done);
  if (!done) return;
  markInteractive();
  const r = route_;
  void afterPaint().then(() => {
    if (r === route_) window.__livepoolCompleteAt = performance.now();
  });
}

async function route() {
  route_++;
  setReady(false);
  window.__livepoolReadyAt = undefined;
  window.__livepoolCompleteAt = undefined;
  const hash = location.hash.replace(/^#/, "") || "/";
  const miner = /^\/miner\/(0x[0-9a-fA-F]{40})$/.exec(hash);
  document.querySelectorAll<HTMLAnchorElement>("header nav a").forEach((a) => {
    const active = a.getAttribute("href") === `#${hash}` || (miner && a.dataset.nav === "miner");
    if (active) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  if (miner) {
    input.value = miner[1];
    document.title = `Miner ${shortHex(miner[1])} · Livepool`;
    await mountMiner(main, miner[1], ctx);
  } else if (hash === "/verify") {
    document.title = "Verify · Livepool";
    mountVerify(main);
  } else if (hash.startsWith("/miner")) {
    document.title = "Miner · Livepool";
    main.replaceChildren(
      h("h1", null, "Miner"),
      h("section", { class: "panel" }, h("p", null, "Enter your payout address above, or connect your wallet, to see your balances, rigs and payments."),
        hash !== "/miner" ? h("p", { class: "error", role: "alert" }, "That is not an address: it should be 0x followed by 40 hex characters.") : null),
    );
    input.focus();
  } else {
    document.title = "Livepool";
    await mountPool(main, ctx);
  }
  setReady(true);
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const a = input.value.trim();
  if (!isAddress(a)) {
    headerStatus.className = "status error";
    headerStatus.textContent = "Enter an address: 0x followed by 40 hex characters.";
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  input.removeAttribute("aria-invalid");
  headerStatus.textContent = "";
  location.hash = `#/miner/${a}`;
});

connectBtn.addEventListener("click", async () => {
  connectBtn.disabled = true;
  headerStatus.className = "status info";
  headerStatus.textContent = "Looking for your wallet…";
  try {
    const account = await connectWallet(headerStatus.parentElement as HTMLElement);
    headerStatus.textContent = "";
    if (!/^#\/miner\/0x/.test(location.hash)) location.hash = `#/miner/${account}`;
  } catch (e) {
    headerStatus.className = "status error";
    headerStatus.textContent = describeWalletError(e, 0).message;
  } finally {
    connectBtn.disabled = false;
  }
});

session.subscribe((account) => {
  connectBtn.textContent = account ? `Connected ${shortHex(account)}` : "Connect wallet";
  connectBtn.title = account ?? "";
  connectBtn.dataset.account = account ?? "";
});

// The skip link must not change the hash: the hash is the route.
document.querySelector(".skip")?.addEventListener("click", (ev) => {
  ev.preventDefault();
  main.focus();
});

window.addEventListener("hashchange", () => void route());
void route();
