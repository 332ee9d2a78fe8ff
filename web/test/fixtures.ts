import type { Config, Miner, Payments, Pool, Proof } from "../src/api";

export const NOW = 1_764_050_000;
export const MINER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
export const CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

export const config: Config = {
  chain_id: 42161,
  contract: CONTRACT,
  explorer_url: "https://arbiscan.io",
  eip712: { name: "Livepool", version: "1" },
};

export const pool: Pool = {
  chain_id: 42161,
  contract: CONTRACT,
  explorer_url: "https://arbiscan.io",
  fee_address: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  commission_bps: 500,
  commission_next: { commission_bps: 300, effective_epoch: 12 },
  penalty_multiplier: 1,
  decode_weight: 0,
  price: { price_per_unit: "1200", pixels_per_unit: "1" },
  epoch: { number: 11, start: 1_764_000_000, end: 1_764_086_400, settle_at: 1_764_090_000, seconds: 86_400, settle_seconds: 3600 },
  roots: {
    active: { epoch: 9, root: "0x" + "ab".repeat(32), total: "5000000000000000000", data_hash: "0x" + "cd".repeat(32) },
    pending: { epoch: 10, root: "0x" + "12".repeat(32), total: "6000000000000000000", data_hash: "0x" + "34".repeat(32), valid_at: 1_764_100_000 },
  },
  funds: { balance: "7000000000000000000", total_claimed: "1000000000000000000", liabilities: "4000000000000000000", surplus: "3000000000000000000", solvent: true },
  stats: {
    miners: 50, miners_online: 42, rigs: 80, rigs_online: 70,
    pixels_per_second: { now: 1.2e9, day: 1.1e9, week: 1.0e9 },
    segments_24h: 123_456, failed_rate_24h: 0.004, gross_unsettled: "250000000000000000",
    latency_ratio_p50: 0.31, latency_ratio_p95: 0.72, paid_total: "1000000000000000000",
  },
  series: { t: Array.from({ length: 168 }, (_, i) => 1_763_445_200 + i * 3600), pixels_per_second: Array.from({ length: 168 }, (_, i) => 1e9 + i * 1e6) },
  top_rigs: [
    { address: MINER, node: "rig-1", score: 0.97, pixels_per_second: 1.0e8, success_rate: 0.999, latency_p95_ratio: 0.4, realtime_ratio: 2.5 },
    { address: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", node: "gpu-b", score: 0.91, pixels_per_second: 8.0e7, success_rate: 0.99, latency_p95_ratio: 0.5, realtime_ratio: 2.0 },
  ],
  chain: { updated_at: 1_764_049_990, stale: false },
};

export const miner: Miner = {
  address: MINER,
  first_seen: 1_763_000_000,
  last_seen: 1_764_049_900,
  balances: {
    unsettled: "1000000000000", in_pending_root: "20000000000000000", claimable_at: 1_764_100_000,
    cumulative: "123456789012345678", claimed: "23456789012345678", claimable: "100000000000000000",
    debt: "0", pushed: "0",
  },
  settings: { mode: "claim", threshold: "10000000000000000", gas_cap_bps: null, nonce: 3, updated_at: null },
  next_payout: { reason: "claimable", eta: null, amount: "100000000000000000", detail: "Your balance in the active root can be claimed now." },
  stats: { pixels_per_second_24h: 1.0e8, segments_24h: 1000, failed_24h: 2, flagged_24h: 0, latency_ratio_p95: 0.6 },
  rigs: [
    { node: "rig-1", online: true, last_seen: 1_764_049_900, region: "eu", pixels_per_second: 5.0e7, segments: 500, failed: 1, latency_p95_ms: 900, realtime_ratio: 2.2, score: 0.95 },
    { node: "rig-2", online: false, last_seen: 1_764_000_000, region: null, pixels_per_second: 0, segments: 20, failed: 1, latency_p95_ms: null, realtime_ratio: null, score: null },
  ],
  epochs: Array.from({ length: 3 }, (_, i) => ({
    epoch: 9 - i, segments: 1000, failed_segments: 2, pixels: "1000000000", gross: "1000000000000000", commission: "50000000000000",
    penalty: "0", overhead: "0", delta: "950000000000000", cumulative: String(123456789012345678n - BigInt(i) * 950000000000000n), debt: "0",
  })),
  series: { t: [1_764_000_000, 1_764_003_600], pixels_per_second: [1e8, 1.1e8] },
  chain: { updated_at: 1_764_049_990, stale: false },
};

export const payments: Payments = {
  payments: Array.from({ length: 50 }, (_, i) => ({
    kind: i % 2 ? "push" : "claim", tx_hash: "0x" + i.toString(16).padStart(64, "0"), block: 1000 - i,
    amount: "1000000000000000", gas_charged: "1000", time: 1_764_000_000 - i * 3600, recipient: MINER,
  })),
  total: 120,
};

export const proof: Proof = {
  account: MINER, cumulative: miner.balances.cumulative, claimed: miner.balances.claimed, claimable: miner.balances.claimable,
  proof: ["0x" + "99".repeat(32)], root: pool.roots.active!.root, epoch: 9, contract: CONTRACT, chain_id: 42161,
  tx: { to: CONTRACT, data: "0xdeadbeef", value: "0" },
};
