/** The pool page: commission, epoch progress, roots, funds, activity, throughput, top rigs. */

import { api, type Pool } from "../api";
import { chart } from "../chart";
import { errorMessage, extLink, facts, h, panel, table, type Panel } from "../dom";
import {
  addressUrl,
  bpsToPercent,
  ethText,
  formatEthExact,
  formatInt,
  formatPercent,
  formatPixelRate,
  formatRatio,
  formatRelative,
  formatTime,
  shortHex,
} from "../format";

export interface PageCtx {
  now: () => number;
  /** Called once the panels a visitor acts on are rendered (the rest follows a frame later). */
  interactive?: () => void;
}

function staleNote(pool: Pool, now: number): HTMLElement | null {
  if (!pool.chain.stale) return null;
  const when = pool.chain.updated_at == null ? "never" : formatRelative(pool.chain.updated_at, now);
  return h("p", { class: "warn", role: "note" }, `Chain data may be out of date (last refreshed ${when}).`);
}

function eth(amount: string) {
  return h("span", { title: `${formatEthExact(amount)} ETH`, "data-wei": amount }, ethText(amount));
}

export function epochPanel(p: Panel, pool: Pool, now: number): void {
  const e = pool.epoch;
  const span = Math.max(1, e.end - e.start);
  const done = Math.min(1, Math.max(0, (now - e.start) / span));
  const pending = pool.roots.pending;
  const nextRoot = pending
    ? `Epoch ${pending.epoch}'s root becomes claimable ${formatRelative(pending.valid_at, now)} (${formatTime(pending.valid_at)}).`
    : `Epoch ${e.number} ends ${formatRelative(e.end, now)}; it closes at ${formatTime(e.settle_at)} and its root is proposed then, claimable after the challenge window.`;
  p.show(
    h("p", { class: "big" }, `Epoch ${e.number}`),
    h("progress", { max: 100, value: Math.round(done * 100), "aria-label": `Epoch ${e.number} progress` }),
    h("p", { class: "muted" }, `${Math.round(done * 100)}% · ${formatTime(e.start)} → ${formatTime(e.end)}`),
    h("p", { class: "next-root" }, h("strong", null, "Next root: "), nextRoot),
  );
}

export function rootsPanel(p: Panel, pool: Pool, now: number): void {
  const row = (label: string, r: Pool["roots"]["active"], extra?: string) =>
    r
      ? h(
          "div",
          { class: "root" },
          h("h3", null, `${label}: epoch ${r.epoch}`),
          facts([
            ["Root", h("code", null, shortHex(r.root, 10, 8)), r.root],
            ["Total", eth(r.total)],
            ["Data hash", h("code", null, shortHex(r.data_hash, 10, 8)), r.data_hash],
            ...(extra ? ([["Valid", extra]] as [string, string][]) : []),
          ]),
          h(
            "p",
            { class: "links" },
            h("a", { href: api.statementUrl(r.epoch) }, `Statement ${r.epoch}`),
            " · ",
            h("a", { href: api.treeUrl(r.epoch) }, `Tree ${r.epoch}`),
          ),
        )
      : h("p", { class: "muted" }, `No ${label.toLowerCase()} root.`);
  const pend = pool.roots.pending;
  p.show(
    row("Active", pool.roots.active),
    row("Pending", pend, pend ? `${formatRelative(pend.valid_at, now)} (${formatTime(pend.valid_at)})` : undefined),
  );
}

export function fundsPanel(p: Panel, pool: Pool, now: number): void {
  const f = pool.funds;
  p.show(
    h(
      "p",
      { class: f.solvent ? "badge ok" : "badge bad" },
      f.solvent ? "Solvent: the contract holds every wei it owes" : "Not solvent: the contract holds less than it owes",
    ),
    facts([
      ["Contract balance", eth(f.balance)],
      ["Liabilities (owed, unclaimed)", eth(f.liabilities)],
      ["Surplus", eth(f.surplus)],
      ["Claimed so far", eth(f.total_claimed)],
      ["ETH paid to miners", eth(pool.stats.paid_total)],
      ["Contract", extLink(addressUrl(pool.explorer_url, pool.contract), shortHex(pool.contract), `Contract ${pool.contract} on the explorer`)],
    ]),
    staleNote(pool, now),
  );
}

export function activityPanel(p: Panel, pool: Pool): void {
  const s = pool.stats;
  const next = pool.commission_next;
  p.show(
    facts([
      [
        "Commission",
        `${bpsToPercent(pool.commission_bps)}%` +
          (next ? ` (→ ${bpsToPercent(next.commission_bps)}% from epoch ${next.effective_epoch})` : ""),
      ],
      ["Miners online", `${formatInt(s.miners_online)} of ${formatInt(s.miners)}`],
      ["Rigs online", `${formatInt(s.rigs_online)} of ${formatInt(s.rigs)}`],
      ["Pixels/s now", formatPixelRate(s.pixels_per_second.now)],
      ["Pixels/s, 24 h avg", formatPixelRate(s.pixels_per_second.day)],
      ["Pixels/s, 7 d avg", formatPixelRate(s.pixels_per_second.week)],
      ["Segments, 24 h", formatInt(s.segments_24h)],
      ["Failed, 24 h", formatPercent(s.failed_rate_24h, 2)],
      ["Earned, epochs not yet closed", eth(s.gross_unsettled)],
      ["Latency ratio p50 / p95", `${formatRatio(s.latency_ratio_p50)} / ${formatRatio(s.latency_ratio_p95)}`],
    ]),
  );
}

export function throughputPanel(p: Panel, pool: Pool): void {
  const t = pool.series.t;
  const y = pool.series.pixels_per_second;
  const box = h("div");
  const buttons: HTMLButtonElement[] = [];
  const show = (hours: number) => {
    const from = Math.max(0, t.length - hours);
    box.replaceChildren(
      chart({
        label: `Pool pixels per second, last ${hours === 24 ? "24 hours" : "7 days"}`,
        x: t.slice(from),
        y: y.slice(from),
        yFormat: formatPixelRate,
      }),
    );
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.hours === String(hours))));
  };
  for (const [hours, label] of [[24, "24 h"], [168, "7 d"]] as const) {
    buttons.push(h("button", { type: "button", "data-hours": hours, onclick: () => show(hours) }, label));
  }
  p.show(h("div", { class: "toggle", role: "group", "aria-label": "Chart range" }, buttons), box);
  show(24);
}

export function topRigsPanel(p: Panel, pool: Pool): void {
  p.show(
    table(
      "Top rigs by quality score",
      [
        { label: "#", cell: (r) => String(pool.top_rigs.indexOf(r) + 1), num: true },
        { label: "Miner", cell: (r) => h("a", { href: `#/miner/${r.address}` }, shortHex(r.address)) },
        { label: "Rig", cell: (r) => r.node },
        { label: "Score", cell: (r) => r.score.toFixed(3), num: true },
        { label: "Pixels/s", cell: (r) => formatPixelRate(r.pixels_per_second), num: true },
        { label: "Success", cell: (r) => formatPercent(r.success_rate, 2), num: true },
        { label: "p95 latency ratio", cell: (r) => formatRatio(r.latency_p95_ratio), num: true },
        { label: "Real-time ratio", cell: (r) => formatRatio(r.realtime_ratio), num: true },
      ],
      pool.top_rigs,
      "No rigs online.",
    ),
  );
}

/** Mount the pool page; resolves when every panel has left its loading state. */
export async function mountPool(root: HTMLElement, ctx: PageCtx): Promise<void> {
  const panels = {
    activity: panel("Pool", "wide"),
    epoch: panel("Epoch"),
    roots: panel("Roots"),
    funds: panel("Funds"),
    throughput: panel("Pixels per second", "wide"),
    top: panel("Top rigs", "wide"),
  };
  root.replaceChildren(
    h("h1", null, "Pool"),
    h("div", { class: "grid" }, Object.values(panels).map((p) => p.el)),
  );
  const load = async () => {
    Object.values(panels).forEach((p) => p.loading());
    try {
      const pool = await api.pool();
      const now = ctx.now();
      activityPanel(panels.activity, pool);
      epochPanel(panels.epoch, pool, now);
      rootsPanel(panels.roots, pool, now);
      fundsPanel(panels.funds, pool, now);
      throughputPanel(panels.throughput, pool);
      topRigsPanel(panels.top, pool);
    } catch (e) {
      Object.values(panels).forEach((p) => p.error(errorMessage(e), () => void load()));
    }
  };
  await load();
}
