import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mountMiner } from "../src/pages/miner";
import { mountPool } from "../src/pages/pool";
import { MINER, NOW, config, miner, payments, pool } from "./fixtures";

type Route = Record<string, () => Promise<Response> | Response>;

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

function serve(routes: Route) {
  const fetch = vi.fn(async (input: RequestInfo | URL) => {
    const url = String(input).replace(/^https?:\/\/[^/]+/, "");
    const path = url.split("?")[0];
    const hit = routes[path] ?? routes[url];
    if (!hit) return json({ detail: `no route ${url}` }, 404);
    return hit();
  });
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

const ctx = { now: () => NOW };
let root: HTMLElement;

beforeEach(() => {
  root = document.createElement("main");
  document.body.replaceChildren(root);
});
afterEach(() => vi.unstubAllGlobals());

const states = () => Array.from(root.querySelectorAll<HTMLElement>("section.panel")).map((s) => s.dataset.state);
const panelText = (title: string) =>
  Array.from(root.querySelectorAll("section.panel")).find((s) => s.querySelector("h2")?.textContent === title)?.textContent ?? "";

describe("pool page", () => {
  it("shows a loading state on every panel while the API answers", async () => {
    serve({ "/v1/pool": () => new Promise<Response>(() => {}) });
    void mountPool(root, ctx);
    await Promise.resolve();
    expect(states().length).toBe(6);
    expect(states().every((s) => s === "loading")).toBe(true);
    expect(root.querySelectorAll('[role="status"]').length).toBe(6);
    expect(root.querySelector("section.panel")?.getAttribute("aria-busy")).toBe("true");
  });

  it("renders every panel from the API's JSON", async () => {
    serve({ "/v1/pool": () => json(pool) });
    await mountPool(root, ctx);
    expect(states().every((s) => s === "ready")).toBe(true);
    expect(panelText("Pool")).toContain("5% (→ 3% from epoch 12)");
    expect(panelText("Pool")).toContain("42 of 50");
    expect(panelText("Pool")).toContain("1.20 Gpx/s");
    expect(panelText("Epoch")).toContain("Epoch 11");
    expect(panelText("Epoch")).toContain("Epoch 10's root becomes claimable in 13 h 53 min");
    expect(panelText("Roots")).toContain("Active: epoch 9");
    expect(root.querySelector('a[href="/v1/epochs/10"]')?.textContent).toBe("Statement 10");
    expect(root.querySelector('a[href="/v1/epochs/9/tree"]')).not.toBeNull();
    expect(panelText("Funds")).toContain("Solvent");
    expect(panelText("Funds")).toContain("7 ETH");
    expect(root.querySelector('a[href="https://arbiscan.io/address/' + pool.contract + '"]')).not.toBeNull();
    const top = panelText("Top rigs");
    expect(top).toContain("Score");
    expect(top).toContain("0.970");
    expect(root.querySelector(`a[href="#/miner/${MINER}"]`)).not.toBeNull();
  });

  it("shows the service's error sentence and a retry button on every panel", async () => {
    const fetch = serve({ "/v1/pool": () => json({ detail: "The ledger cannot be read." }, 503) });
    await mountPool(root, ctx);
    expect(states().every((s) => s === "error")).toBe(true);
    expect(root.querySelector('[role="alert"]')?.textContent).toContain("The ledger cannot be read.");
    serve({ "/v1/pool": () => json(pool) });
    (root.querySelector('[role="alert"] button') as HTMLButtonElement).click();
    await vi.waitFor(() => expect(states().every((s) => s === "ready")).toBe(true));
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it("warns when chain data is stale", async () => {
    serve({ "/v1/pool": () => json({ ...pool, chain: { updated_at: null, stale: true } }) });
    await mountPool(root, ctx);
    expect(panelText("Funds")).toContain("Chain data may be out of date (last refreshed never)");
  });
});

describe("miner page", () => {
  const routes = (): Route => ({
    "/v1/config": () => json(config),
    [`/v1/miners/${MINER}`]: () => json(miner),
    [`/v1/miners/${MINER}/payments`]: () => json(payments),
  });

  it("shows loading states first", async () => {
    serve({ "/v1/config": () => new Promise<Response>(() => {}), [`/v1/miners/${MINER}/payments`]: () => new Promise<Response>(() => {}) });
    void mountMiner(root, MINER, ctx);
    await Promise.resolve();
    expect(states().length).toBe(7);
    expect(states().every((s) => s === "loading")).toBe(true);
  });

  it("renders balances, next payout, claim, rigs, earnings, payments and settings", async () => {
    serve(routes());
    await mountMiner(root, MINER, ctx);
    expect(states().every((s) => s === "ready")).toBe(true);
    expect(panelText("Balances")).toContain("Claimable now 0.1 ETH");
    expect(panelText("Balances")).toContain("0.123456 ETH"); // cumulative, rounded down
    expect(root.querySelector('[data-wei="123456789012345678"]')?.getAttribute("title")).toBe("0.123456789012345678 ETH");
    expect(panelText("Next payout")).toContain("0.1 ETH · Claimable now");
    const claim = root.querySelector<HTMLButtonElement>("#claim")!;
    expect(claim.textContent).toBe("Claim 0.1 ETH");
    expect(claim.dataset.wei).toBe("100000000000000000");
    expect(claim.disabled).toBe(false);
    const rigs = panelText("Rigs");
    for (const col of ["Status", "Last seen", "Pixels/s", "Failed", "p95 latency", "Real-time ratio", "Score"]) expect(rigs).toContain(col);
    expect(rigs).toContain("900 ms");
    expect(rigs).toContain("0.950");
    expect(rigs).toContain("offline");
    // The per-epoch lines are built when opened: statement and tree links for each epoch.
    const details = root.querySelector("details")!;
    expect(details.querySelector("table")).toBeNull();
    details.open = true;
    details.dispatchEvent(new Event("toggle"));
    expect(root.querySelectorAll('a[href^="/v1/epochs/"]').length).toBe(6);
    expect(root.querySelector('a[href="/v1/epochs/9/tree"]')).not.toBeNull();
    expect(panelText("Earnings per epoch")).toContain("Verify it yourself");
    const pay = panelText("Payments");
    expect(pay).toContain("1–50 of 120");
    expect(root.querySelector(`a[href="https://arbiscan.io/tx/${payments.payments[0].tx_hash}"]`)).not.toBeNull();
    expect(panelText("Payout settings")).toContain("Mode: you claim yourself; threshold 0.01 ETH; no gas cap.");
    for (const id of ["threshold", "gascap"]) expect(root.querySelector(`label[for="${id}"]`)).not.toBeNull();
  });

  it("pages through payments", async () => {
    const fetch = serve(routes());
    await mountMiner(root, MINER, ctx);
    const older = Array.from(root.querySelectorAll("button")).find((b) => b.textContent === "Older")!;
    older.click();
    await vi.waitFor(() => expect(fetch.mock.calls.some(([u]) => String(u).includes("offset=50"))).toBe(true));
  });

  it("shows the 404 sentence for an unknown miner", async () => {
    const detail = `miner ${MINER} has not been seen by this pool (it has existed since 2025-11-24T00:00:00Z)`;
    serve({ ...routes(), [`/v1/miners/${MINER}`]: () => json({ detail }, 404) });
    await mountMiner(root, MINER, ctx);
    expect(panelText("Balances")).toContain(detail);
    expect(states().filter((s) => s === "error").length).toBe(7);
  });

  it("shows payment errors in their own panel", async () => {
    serve({ ...routes(), [`/v1/miners/${MINER}/payments`]: () => json({ detail: "Payments are unavailable." }, 500) });
    await mountMiner(root, MINER, ctx);
    expect(panelText("Payments")).toContain("Payments are unavailable.");
    expect(panelText("Balances")).toContain("Claimable now");
  });

  it("disables Claim when nothing is claimable", async () => {
    serve({ ...routes(), [`/v1/miners/${MINER}`]: () => json({ ...miner, balances: { ...miner.balances, claimable: "0" } }) });
    await mountMiner(root, MINER, ctx);
    const claim = root.querySelector<HTMLButtonElement>("#claim")!;
    expect(claim.disabled).toBe(true);
    expect(claim.textContent).toBe("Nothing to claim now");
  });

  it("reports a network failure in plain words", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await mountMiner(root, MINER, ctx);
    expect(panelText("Balances")).toContain("could not be reached");
  });
});
