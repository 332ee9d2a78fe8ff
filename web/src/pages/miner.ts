/**
 * The miner page: balances, next payout, Claim, rigs, earnings per epoch, payments,
 * payout settings, and how to verify it all. Everything is read for one address; the
 * wallet only matters for Claim and Save.
 */

import { api, ApiError, type Config, type Miner, type Payments } from "../api";
import { chart } from "../chart";
import { connectWallet } from "../connect";
import { afterPaint, errorMessage, extLink, facts, h, panel, table, type Panel } from "../dom";
import {
  addressUrl,
  bpsToPercent,
  ethText,
  formatEthExact,
  formatInt,
  formatPixelRate,
  formatRatio,
  formatRelative,
  formatTime,
  parseEth,
  parsePercentToBps,
  shortHex,
  txUrl,
  weiToChartNumber,
} from "../format";
import { nextPayoutText } from "../nextPayout";
import { loadWallet } from "../session";
import { SETTINGS_DEADLINE_SECONDS } from "../typedData";
import { describeWalletError, WalletFlowError } from "../walletErrors";
import type { PageCtx } from "./pool";

const PAGE_SIZE = 50;

/** Render under a User Timing measure ("render:<name>"), visible in the browser's profiler. */
function timed(name: string, fn: () => void): void {
  const t0 = performance.now();
  fn();
  performance.measure(`render:${name}`, { start: t0, end: performance.now() });
}

function eth(amount: string | bigint, decimals = 6) {
  const s = amount.toString();
  return h("span", { title: `${formatEthExact(s)} ETH`, "data-wei": s }, ethText(s, decimals));
}

function status(el: HTMLElement, kind: "info" | "ok" | "error", ...content: (Node | string)[]) {
  el.className = `status ${kind}`;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
  el.replaceChildren(...content);
}

export function balancesPanel(p: Panel, m: Miner, now: number): void {
  const b = m.balances;
  p.show(
    h("p", { class: "big" }, h("span", { class: "label" }, "Claimable now "), eth(b.claimable, 18)),
    facts([
      [
        "In the pending root",
        [eth(b.in_pending_root), b.claimable_at ? ` — claimable ${formatRelative(b.claimable_at, now)}` : ""],
      ],
      ["Unsettled (open epoch, estimated)", eth(b.unsettled)],
      ["Earned in the active root", eth(b.cumulative)],
      ["Claimed on chain", eth(b.claimed)],
      ["  of which pushed by the pool", eth(b.pushed)],
      ["Debt carried to next epoch", eth(b.debt)],
    ]),
    m.chain.stale
      ? h("p", { class: "warn", role: "note" }, "Chain data may be out of date; on-chain balances could lag.")
      : null,
  );
}

export function nextPayoutPanel(p: Panel, m: Miner, now: number): void {
  const t = nextPayoutText(m.next_payout, now);
  p.show(h("p", { class: "big" }, t.headline), h("p", null, h("strong", null, "When: "), t.when), h("p", { class: "muted" }, t.detail));
}

export function rigsPanel(p: Panel, m: Miner, now: number): void {
  p.show(
    h("p", { class: "muted" }, `${m.rigs.filter((r) => r.online).length} of ${m.rigs.length} online · ${formatPixelRate(m.stats.pixels_per_second_24h)} over 24 h · ${formatInt(m.stats.segments_24h)} segments, ${formatInt(m.stats.failed_24h)} failed, ${formatInt(m.stats.flagged_24h)} flagged`),
    table(
      "Rigs",
      [
        { label: "Rig", cell: (r) => r.node },
        { label: "Status", cell: (r) => h("span", { class: r.online ? "badge ok" : "badge off" }, r.online ? "online" : "offline") },
        { label: "Last seen", cell: (r) => h("span", { title: formatTime(r.last_seen) }, formatRelative(r.last_seen, now)) },
        { label: "Pixels/s", cell: (r) => formatPixelRate(r.pixels_per_second), num: true },
        { label: "Segments", cell: (r) => formatInt(r.segments), num: true },
        { label: "Failed", cell: (r) => formatInt(r.failed), num: true },
        { label: "p95 latency", cell: (r) => (r.latency_p95_ms == null ? "—" : `${formatInt(r.latency_p95_ms)} ms`), num: true },
        { label: "Real-time ratio", cell: (r) => formatRatio(r.realtime_ratio), num: true },
        { label: "Score", cell: (r) => (r.score == null ? "—" : r.score.toFixed(3)), num: true },
        { label: "Region", cell: (r) => r.region ?? "—" },
      ],
      m.rigs,
      "No rigs seen yet.",
    ),
  );
}

/** A <details> whose content is built the first time it is opened (100 epoch rows cost time). */
function lazyDetails(summary: string, build: () => HTMLElement): HTMLDetailsElement {
  const d = h("details", null, h("summary", null, summary));
  d.addEventListener("toggle", () => {
    if (d.open && d.childElementCount === 1) d.append(build());
  });
  return d;
}

export function earningsPanel(p: Panel, m: Miner): void {
  const asc = [...m.epochs].reverse();
  const links = (n: number) => [h("a", { href: api.statementUrl(n) }, "statement"), " · ", h("a", { href: api.treeUrl(n) }, "tree")];
  p.show(
    chart({
      label: `Earnings per epoch (ETH), epochs ${asc[0]?.epoch ?? ""}–${asc[asc.length - 1]?.epoch ?? ""}`,
      x: asc.map((e) => e.epoch),
      y: asc.map((e) => weiToChartNumber(e.delta)),
      yFormat: (v) => `${+v.toPrecision(3)}`,
      bars: true,
      timeAxis: false,
    }),
    lazyDetails(`Per-epoch statement lines (${m.epochs.length})`, () =>
      table(
        "Earnings per epoch",
        [
          { label: "Epoch", cell: (e) => String(e.epoch), num: true },
          { label: "Segments", cell: (e) => `${formatInt(e.segments)} (${formatInt(e.failed_segments)} failed)`, num: true },
          { label: "Gross", cell: (e) => eth(e.gross), num: true },
          { label: "Commission", cell: (e) => eth(e.commission), num: true },
          { label: "Penalty", cell: (e) => eth(e.penalty), num: true },
          { label: "Gas overhead", cell: (e) => eth(e.overhead), num: true },
          { label: "Earned", cell: (e) => eth(e.delta), num: true },
          { label: "Cumulative", cell: (e) => eth(e.cumulative), num: true },
          { label: "Debt", cell: (e) => eth(e.debt), num: true },
          { label: "Published", cell: (e) => links(e.epoch) },
        ],
        m.epochs,
        "No closed epochs yet.",
      )),
    h(
      "p",
      { class: "verify" },
      h("strong", null, "Verify it yourself: "),
      "each epoch's statement is the exact JSON hashed on chain (its data hash), and the tree is OpenZeppelin's standard-v1 dump. Recompute the root from the tree and compare it with the contract's root. ",
      h("a", { href: "#/verify" }, "How to check"),
      ".",
    ),
  );
}

export async function loadPayments(
  p: Panel,
  address: string,
  explorer: string,
  offset = 0,
): Promise<void> {
  p.loading();
  let data: Payments;
  try {
    data = await api.payments(address, PAGE_SIZE, offset);
  } catch (e) {
    p.error(errorMessage(e), () => void loadPayments(p, address, explorer, offset));
    return;
  }
  paymentsPanel(p, address, explorer, offset, data);
}

export function paymentsPanel(p: Panel, address: string, explorer: string, offset: number, data: Payments): void {
  const last = Math.min(offset + data.payments.length, data.total);
  const nav = h(
    "nav",
    { class: "pager", "aria-label": "Payments pages" },
    h("button", { type: "button", disabled: offset === 0, onclick: () => void loadPayments(p, address, explorer, Math.max(0, offset - PAGE_SIZE)) }, "Newer"),
    h("span", null, data.total ? `${offset + 1}–${last} of ${formatInt(data.total)}` : ""),
    h("button", { type: "button", disabled: last >= data.total, onclick: () => void loadPayments(p, address, explorer, offset + PAGE_SIZE) }, "Older"),
  );
  const t0 = performance.now();
  p.show(
    table(
      "Payments",
      [
        { label: "Time", cell: (x) => formatTime(x.time) },
        { label: "Kind", cell: (x) => x.kind },
        { label: "Amount", cell: (x) => eth(x.amount), num: true },
        { label: "Gas charged", cell: (x) => eth(x.gas_charged), num: true },
        { label: "Recipient", cell: (x) => extLink(addressUrl(explorer, x.recipient), shortHex(x.recipient), `Recipient ${x.recipient}`) },
        { label: "Transaction", cell: (x) => extLink(txUrl(explorer, x.tx_hash), shortHex(x.tx_hash, 10, 6), `Transaction ${x.tx_hash} on the explorer`) },
      ],
      data.payments,
      "No payments yet.",
    ),
    data.total > PAGE_SIZE ? nav : null,
  );
  performance.measure("render:payments", { start: t0, end: performance.now() });
}

interface MinerState {
  address: string;
  config: Config;
  miner: Miner;
}

/** After a claim, how many times (and how often) the balance is fetched again while the
 * service has not yet read the claim's block (it reads the chain every few seconds). */
const CLAIM_REFRESH_TRIES = 30;
const CLAIM_REFRESH_MS = 1000;

export function claimPanel(p: Panel, st: MinerState, refresh: () => Promise<void>, statusEl: HTMLElement): void {
  const amount = st.miner.balances.claimable;
  const has = BigInt(amount) > 0n;
  const button = h(
    "button",
    { type: "button", class: "primary", id: "claim", disabled: !has, "data-wei": amount },
    has ? `Claim ${ethText(amount, 18)}` : "Nothing to claim now",
  );
  const chooser = h("div");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const claimedBefore = BigInt(st.miner.balances.claimed);
    try {
      status(statusEl, "info", "Connecting to your wallet…");
      await connectWallet(chooser);
      const w = await loadWallet();
      const result = await w.claim(st.address, st.config, {
        onStatus: (msg) => status(statusEl, "info", msg),
        onPending: (hash, wei) =>
          status(
            statusEl,
            "info",
            `Pending: claiming ${ethText(wei, 18)} — `,
            extLink(txUrl(st.config.explorer_url, hash), shortHex(hash, 10, 6), `Transaction ${hash} on the explorer`),
            " (waiting for the block…)",
          ),
      });
      const link = extLink(txUrl(st.config.explorer_url, result.hash), shortHex(result.hash, 10, 6), `Transaction ${result.hash} on the explorer`);
      status(
        statusEl,
        "ok",
        `Claimed ${ethText(result.amount, 18)} to ${shortHex(st.address)}${result.retried ? " (with a fresh proof)" : ""}. `,
        link,
        ". Refreshing your balance…",
      );
      statusEl.dataset.result = "success";
      statusEl.dataset.wei = result.amount.toString();
      // The service reads Claimed logs every few seconds: refresh until it has seen this
      // claim, so the balance shown is the one after it (or say that it is late).
      const seen = () => BigInt(st.miner.balances.claimed) >= claimedBefore + result.amount;
      for (let i = 0; i < CLAIM_REFRESH_TRIES; i++) {
        await refresh();
        if (seen()) break;
        await new Promise((r) => setTimeout(r, CLAIM_REFRESH_MS));
      }
      status(
        statusEl,
        "ok",
        `Claimed ${ethText(result.amount, 18)}. `,
        link,
        seen()
          ? `. Claimable now: ${ethText(st.miner.balances.claimable, 18)}.`
          : ". The pool's service has not seen the block yet; your balance here will catch up shortly.",
      );
      statusEl.dataset.result = "success";
    } catch (e) {
      const info = describeWalletError(e, st.config.chain_id);
      status(statusEl, "error", info.message);
      statusEl.dataset.result = info.kind;
      button.disabled = !has;
    }
  });
  p.show(
    h("p", null, "Claiming sends the pool's contract a Merkle proof of your earnings; the contract pays this address directly. Any wallet can send it; you pay the gas."),
    button,
    chooser,
    statusEl,
    h("p", { class: "muted" }, `Contract `, extLink(addressUrl(st.config.explorer_url, st.config.contract), shortHex(st.config.contract), `Contract ${st.config.contract} on the explorer`), ` on chain ${st.config.chain_id}.`),
  );
}

function settingsText(s: Miner["settings"]): string {
  const cap = s.gas_cap_bps == null || s.gas_cap_bps === 0 ? "no gas cap" : `gas cap ${bpsToPercent(s.gas_cap_bps)}%`;
  const mode = s.mode === "push" ? "the pool pushes payouts" : "you claim yourself";
  return `Mode: ${mode}; threshold ${ethText(s.threshold, 18)}; ${cap}.`;
}

export function settingsPanel(p: Panel, st: MinerState, now: () => number): void {
  const s = st.miner.settings;
  const current = h("p", { class: "saved", "data-nonce": s.nonce }, settingsText(s), s.updated_at ? ` Saved ${formatTime(s.updated_at)}.` : " Defaults (never changed).");
  const statusEl = h("div", { class: "status", "aria-live": "polite" });
  const radio = (value: string, label: string) =>
    h("label", { class: "radio" }, h("input", { type: "radio", name: "mode", value, checked: s.mode === value }), ` ${label}`);
  const threshold = h("input", { id: "threshold", name: "threshold", inputmode: "decimal", autocomplete: "off", value: formatEthExact(s.threshold, false) });
  const gasCap = h("input", { id: "gascap", name: "gascap", inputmode: "decimal", autocomplete: "off", value: s.gas_cap_bps ? bpsToPercent(s.gas_cap_bps) : "0" });
  const chooser = h("div");
  const submit = h("button", { type: "submit", class: "primary" }, "Sign and save");
  const form = h(
    "form",
    { class: "settings", novalidate: true },
    h("fieldset", null, h("legend", null, "Payout mode"), radio("claim", "I claim myself"), radio("push", "The pool pushes to me")),
    h("label", { for: "threshold" }, "Threshold (ETH): pay out once at least this much is owed"),
    threshold,
    h("label", { for: "gascap" }, "Gas cap (% of a push the gas may cost; 0 = no cap)"),
    gasCap,
    submit,
    chooser,
    statusEl,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const mode = (form.querySelector("input[name=mode]:checked") as HTMLInputElement | null)?.value as "claim" | "push" | undefined;
    let thr: bigint;
    let bps: number;
    try {
      thr = parseEth(threshold.value);
      bps = parsePercentToBps(gasCap.value);
    } catch (e) {
      status(statusEl, "error", errorMessage(e));
      return;
    }
    submit.disabled = true;
    try {
      status(statusEl, "info", "Connecting to your wallet…");
      const account = await connectWallet(chooser);
      if (account.toLowerCase() !== st.address.toLowerCase()) {
        throw new WalletFlowError("unauthorized", `Your wallet is connected as ${account}. Only ${st.address} can change its own settings; switch accounts in your wallet.`);
      }
      const w = await loadWallet();
      const input = { account: st.address, mode: mode ?? "claim", threshold: thr, gasCapBps: bps, nonce: st.miner.settings.nonce + 1, deadline: now() + SETTINGS_DEADLINE_SECONDS };
      status(statusEl, "info", "Sign the settings in your wallet…");
      const signature = await w.signSettings(st.config, input);
      status(statusEl, "info", "Saving…");
      const saved = await api.putSettings(st.address, {
        mode: input.mode, threshold: thr.toString(), gas_cap_bps: bps, nonce: input.nonce, deadline: input.deadline, signature,
      });
      st.miner.settings = saved;
      current.replaceChildren(settingsText(saved), saved.updated_at ? ` Saved ${formatTime(saved.updated_at)}.` : "");
      current.dataset.nonce = String(saved.nonce);
      status(statusEl, "ok", `Saved. ${settingsText(saved)}`);
      statusEl.dataset.result = "saved";
    } catch (e) {
      const msg = e instanceof ApiError ? `The service refused the settings: ${e.message}` : describeWalletError(e, st.config.chain_id).message;
      status(statusEl, "error", msg);
      statusEl.dataset.result = "error";
    } finally {
      submit.disabled = false;
    }
  });
  p.show(h("p", null, h("strong", null, "Saved: "), current), form, h("p", { class: "muted" }, "Signing is free: it sends no transaction. Only this address's own wallet can sign its settings."));
}

/** Mount the miner page for `address`; resolves when every panel has left its loading state. */
export async function mountMiner(root: HTMLElement, address: string, ctx: PageCtx): Promise<void> {
  const panels = {
    balances: panel("Balances"),
    next: panel("Next payout"),
    claim: panel("Claim"),
    rigs: panel("Rigs", "wide"),
    earnings: panel("Earnings per epoch", "wide"),
    payments: panel("Payments", "wide lazy"),
    settings: panel("Payout settings"),
  };
  const head = h("p", { class: "muted addr" }, h("code", null, address));
  root.replaceChildren(h("h1", null, "Miner"), head, h("div", { class: "grid" }, Object.values(panels).map((p) => p.el)));
  const claimStatus = h("div", { class: "status", id: "claim-status", "aria-live": "polite" });
  let state: MinerState | null = null;

  // Above the fold and every control first; the chart and the tables a frame later.
  const render = (part: "top" | "rest" | "all" = "all") => {
    if (!state) return;
    const now = ctx.now();
    const m = state.miner;
    head.replaceChildren(
      extLink(addressUrl(state.config.explorer_url, m.address), m.address, `${m.address} on the explorer`),
      ` · first seen ${formatTime(m.first_seen)} · last seen ${formatRelative(m.last_seen, now)}`,
    );
    const st = state;
    if (part !== "rest") {
      timed("balances", () => balancesPanel(panels.balances, m, now));
      timed("next", () => nextPayoutPanel(panels.next, m, now));
      timed("claim", () => claimPanel(panels.claim, st, refresh, claimStatus));
      timed("rigs", () => rigsPanel(panels.rigs, m, now));
      timed("settings", () => settingsPanel(panels.settings, st, ctx.now));
    }
    if (part !== "top") timed("earnings", () => earningsPanel(panels.earnings, m));
  };
  const refresh = async () => {
    if (!state) return;
    state.miner = await api.miner(state.address);
    render(); // the claim status element is reused, so the result stays on screen
  };
  // All three requests start at once, and the page renders once all have answered: one
  // task, one layout. Payments failing on their own leaves the rest of the page intact.
  const settle = <T,>(p: Promise<T>) => p.then((d) => ({ ok: true as const, d }), (e: unknown) => ({ ok: false as const, e }));
  const load = async (): Promise<void> => {
    Object.values(panels).forEach((p) => p.loading());
    const [cfg, min, pay] = await Promise.all([settle(api.config()), settle(api.miner(address)), settle(api.payments(address, PAGE_SIZE, 0))]);
    performance.mark("miner:data");
    if (!cfg.ok || !min.ok) {
      const message = errorMessage(!min.ok ? min.e : (cfg as { e: unknown }).e);
      Object.values(panels).forEach((p) => p.error(message, () => void load()));
      return;
    }
    state = { address: min.d.address, config: cfg.d, miner: min.d };
    render("top");
    ctx.interactive?.();
    await afterPaint();
    render("rest");
    if (pay.ok) paymentsPanel(panels.payments, address, cfg.d.explorer_url, 0, pay.d);
    else panels.payments.error(errorMessage(pay.e), () => void loadPayments(panels.payments, address, cfg.d.explorer_url));
  };
  await load();
}

