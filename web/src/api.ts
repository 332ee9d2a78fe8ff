/**
 * Types and fetchers for the service's HTTP API, exactly as docs/api.md (v1) states it.
 * Paths are relative (`/v1/...`) so the dashboard works wherever the service serves it.
 * Amounts are decimal wei strings here; they become bigint only in format.ts.
 */

export type Wei = string;
export type Address = string;
export type Hex = string;

export interface ChainState {
  updated_at: number | null;
  stale: boolean;
}

export interface Root {
  epoch: number;
  root: Hex;
  total: Wei;
  data_hash: Hex;
}

export interface Series {
  t: number[];
  pixels_per_second: number[];
}

export interface TopRig {
  address: Address;
  node: string;
  score: number;
  pixels_per_second: number;
  success_rate: number;
  latency_p95_ratio: number;
  realtime_ratio: number;
}

export interface Pool {
  chain_id: number;
  contract: Address;
  explorer_url: string;
  fee_address: Address;
  commission_bps: number;
  commission_next: { commission_bps: number; effective_epoch: number } | null;
  penalty_multiplier: number;
  decode_weight: number;
  price: { price_per_unit: Wei; pixels_per_unit: Wei } | null;
  epoch: {
    number: number;
    start: number;
    end: number;
    settle_at: number;
    seconds: number;
    settle_seconds: number;
  };
  roots: { active: Root | null; pending: (Root & { valid_at: number }) | null };
  funds: { balance: Wei; total_claimed: Wei; liabilities: Wei; surplus: Wei; solvent: boolean };
  stats: {
    miners: number;
    miners_online: number;
    rigs: number;
    rigs_online: number;
    pixels_per_second: { now: number; day: number; week: number };
    segments_24h: number;
    failed_rate_24h: number;
    gross_unsettled: Wei;
    latency_ratio_p50: number;
    latency_ratio_p95: number;
    paid_total: Wei;
  };
  series: Series;
  top_rigs: TopRig[];
  chain: ChainState;
}

export type PayoutReason =
  | "below_threshold"
  | "epoch_open"
  | "challenge_window"
  | "claimable"
  | "queued_push";

export interface Settings {
  mode: "claim" | "push";
  threshold: Wei;
  gas_cap_bps: number | null;
  nonce: number;
  updated_at: number | null;
}

export interface NextPayout {
  reason: PayoutReason;
  eta: number | null;
  amount: Wei;
  detail: string;
}

export interface Rig {
  node: string;
  online: boolean;
  last_seen: number | null;
  region: string | null;
  pixels_per_second: number;
  segments: number;
  failed: number;
  latency_p95_ms: number | null;
  realtime_ratio: number | null;
  score: number | null;
}

export interface MinerEpoch {
  epoch: number;
  segments: number;
  failed_segments: number;
  pixels: string;
  gross: Wei;
  commission: Wei;
  penalty: Wei;
  overhead: Wei;
  delta: Wei;
  cumulative: Wei;
  debt: Wei;
}

export interface Miner {
  address: Address;
  first_seen: number | null;
  last_seen: number | null;
  balances: {
    unsettled: Wei;
    in_pending_root: Wei;
    claimable_at: number | null;
    cumulative: Wei;
    claimed: Wei;
    claimable: Wei;
    debt: Wei;
    pushed: Wei;
  };
  settings: Settings;
  next_payout: NextPayout;
  stats: {
    pixels_per_second_24h: number;
    segments_24h: number;
    failed_24h: number;
    flagged_24h: number;
    latency_ratio_p95: number | null;
  };
  rigs: Rig[];
  epochs: MinerEpoch[];
  series: Series;
  chain: ChainState;
}

export interface Payment {
  kind: "claim" | "push";
  tx_hash: Hex;
  block: number;
  amount: Wei;
  gas_charged: Wei;
  time: number;
  recipient: Address;
}

export interface Payments {
  payments: Payment[];
  total: number;
}

export interface Proof {
  account: Address;
  cumulative: Wei;
  claimed: Wei;
  claimable: Wei;
  proof: Hex[];
  root: Hex;
  epoch: number;
  contract: Address;
  chain_id: number;
  tx: { to: Address; data: Hex; value: Wei };
}

export interface Config {
  chain_id: number;
  contract: Address;
  explorer_url: string;
  eip712: { name: string; version: string };
}

export interface SettingsPut {
  mode: "claim" | "push";
  threshold: Wei;
  gas_cap_bps: number;
  nonce: number;
  deadline: number;
  signature: Hex;
}

/** An HTTP error carrying the service's `detail` sentence. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

declare global {
  interface Window {
    /** Requests index.html started before the app loaded, by URL; each is used once. */
    __lpPrefetch?: Record<string, Promise<Prefetched>>;
  }
}

/** A response index.html already read: its status and parsed body (null: not JSON). */
interface Prefetched {
  ok: boolean;
  status: number;
  body: unknown;
}

function prefetched(path: string): Promise<Prefetched> | undefined {
  const table = typeof window === "undefined" ? undefined : window.__lpPrefetch;
  const hit = table?.[path];
  if (hit) delete table[path];
  return hit;
}

const UNREACHABLE = "The pool's service could not be reached. Check your connection and try again.";

function refusal(status: number, body: unknown): ApiError {
  const detail = (body as { detail?: unknown } | null)?.detail;
  return new ApiError(status, typeof detail === "string" ? detail : `The service answered ${status}.`);
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  const early = init ? undefined : prefetched(path);
  if (early) {
    let got: Prefetched;
    try {
      got = await early;
    } catch {
      throw new ApiError(0, UNREACHABLE);
    }
    if (!got.ok) throw refusal(got.status, got.body);
    if (got.body === null) throw new ApiError(got.status, "The service's answer was not JSON.");
    return got.body as T;
  }
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: "application/json" }, ...init });
  } catch {
    throw new ApiError(0, UNREACHABLE);
  }
  if (!res.ok) {
    let body: unknown = null;
    try {
      body = await res.json();
    } catch {
      /* not JSON: keep the status sentence */
    }
    throw refusal(res.status, body);
  }
  return (await res.json()) as T;
}

export const api = {
  config: () => request<Config>("/v1/config"),
  pool: () => request<Pool>("/v1/pool"),
  miner: (a: Address) => request<Miner>(`/v1/miners/${a}`),
  payments: (a: Address, limit = 50, offset = 0) =>
    request<Payments>(`/v1/miners/${a}/payments?limit=${limit}&offset=${offset}`),
  proof: (a: Address) => request<Proof>(`/v1/miners/${a}/proof`),
  putSettings: (a: Address, body: SettingsPut) =>
    request<Settings>(`/v1/miners/${a}/settings`, {
      method: "PUT",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    }),
  statementUrl: (n: number) => `/v1/epochs/${n}`,
  treeUrl: (n: number) => `/v1/epochs/${n}/tree`,
};
