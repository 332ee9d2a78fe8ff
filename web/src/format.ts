/**
 * Display formatting. Amounts stay `bigint` wei from the API's decimal strings to the
 * screen — never floats, so 10⁶ ETH and 2⁵³+1 wei print exactly. Rates (pixels/s,
 * ratios) are plain numbers, as the API sends them.
 */

const WEI_PER_ETH = 10n ** 18n;

/** Parse a decimal wei string from the API. Throws on anything else. */
export function wei(value: string | bigint): bigint {
  if (typeof value === "bigint") return value;
  if (!/^[0-9]+$/.test(value)) throw new Error(`not a wei amount: ${JSON.stringify(value)}`);
  return BigInt(value);
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Exact ETH: every significant decimal kept, trailing zeros trimmed.
 * formatEthExact(1n) === "0.000000000000000001".
 */
export function formatEthExact(amount: bigint | string, grouping = true): string {
  const v = wei(amount);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const whole = (abs / WEI_PER_ETH).toString();
  const frac = (abs % WEI_PER_ETH).toString().padStart(18, "0").replace(/0+$/, "");
  const w = grouping ? groupThousands(whole) : whole;
  return (neg ? "-" : "") + (frac ? `${w}.${frac}` : w);
}

/**
 * ETH for tables and headlines: rounded *down* to `decimals` places (a payout is never
 * shown larger than it is), thousands grouped; a non-zero amount below the last place
 * shows as "< 0.000001" rather than a misleading 0.
 */
export function formatEth(amount: bigint | string, decimals = 6): string {
  const v = wei(amount);
  if (v < 0n) return "-" + formatEth(-v, decimals);
  const step = 10n ** BigInt(18 - decimals);
  if (v !== 0n && v < step) return `< 0.${"0".repeat(decimals - 1)}1`;
  const truncated = (v / step) * step;
  return formatEthExact(truncated);
}

/** "1.5 ETH" with the unit; the exact amount belongs in a title attribute. */
export function ethText(amount: bigint | string, decimals = 6): string {
  return `${formatEth(amount, decimals)} ETH`;
}

/**
 * Parse what a person typed ("0.01", "1,000.5", "1e-3" is rejected) into wei.
 * Throws an Error with a sentence fit for a form.
 */
export function parseEth(text: string): bigint {
  const s = text.trim().replace(/,/g, "").replace(/\s*eth$/i, "");
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!s || !m || (m[1] === "" && (m[2] ?? "") === "")) {
    throw new Error("Enter an amount in ETH, like 0.01.");
  }
  const frac = m[2] ?? "";
  if (frac.length > 18) throw new Error("ETH has at most 18 decimals.");
  return BigInt(m[1] || "0") * WEI_PER_ETH + BigInt(frac.padEnd(18, "0") || "0");
}

/** Parse a percentage ("10", "2.5") into basis points, exactly. */
export function parsePercentToBps(text: string): number {
  const s = text.trim().replace(/%$/, "").trim();
  const m = /^(\d{1,3})(?:\.(\d{0,2}))?$/.exec(s);
  if (!m) throw new Error("Enter a percentage with at most 2 decimals, like 10 or 2.5.");
  const bps = Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
  if (bps > 10_000) throw new Error("The gas cap cannot exceed 100%.");
  return bps;
}

export function bpsToPercent(bps: number): string {
  const whole = Math.floor(bps / 100);
  const frac = (bps % 100).toString().padStart(2, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}

const RATE_UNITS = ["", "k", "M", "G", "T", "P"];

/** 1.2e9 → "1.20 Gpx/s". */
export function formatPixelRate(pps: number | null | undefined): string {
  if (pps == null || !Number.isFinite(pps)) return "—";
  let v = pps;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < RATE_UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  // Whole pixels/s need no decimals; a fraction below 100 px/s keeps its digits (an idle
  // pool's chart has ticks at 0.2, 0.4…, which must not all read "0 px/s").
  const digits = v >= 100 || (i === 0 && Number.isInteger(v)) ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${RATE_UNITS[i]}px/s`;
}

export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction == null || !Number.isFinite(fraction)) return "—";
  return `${(fraction * 100).toFixed(digits)}%`;
}

export function formatRatio(x: number | null | undefined, digits = 2): string {
  if (x == null || !Number.isFinite(x)) return "—";
  return `${x.toFixed(digits)}×`;
}

export function formatInt(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return "—";
  return groupThousands(Math.round(n).toString());
}

/** Unix seconds → "2025-11-24 14:05 UTC" (UTC: miners span time zones). */
export function formatTime(unix: number | null | undefined): string {
  if (unix == null) return "—";
  const d = new Date(unix * 1000);
  const p = (n: number) => n.toString().padStart(2, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} UTC`;
}

/** Seconds → "2 d 3 h", "3 h 20 min", "45 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}

/** "in 3 h 20 min" / "5 min ago" relative to `now` (unix seconds). */
export function formatRelative(unix: number | null | undefined, now: number): string {
  if (unix == null) return "—";
  const diff = unix - now;
  if (Math.abs(diff) < 5) return "now";
  return diff > 0 ? `in ${formatDuration(diff)}` : `${formatDuration(-diff)} ago`;
}

export function shortHex(hex: string, head = 6, tail = 4): string {
  return hex.length <= head + tail + 1 ? hex : `${hex.slice(0, head)}…${hex.slice(-tail)}`;
}

const CHAIN_NAMES: Record<number, string> = {
  1: "Ethereum",
  42161: "Arbitrum One",
  421614: "Arbitrum Sepolia",
  31337: "Anvil (local)",
};

export function chainName(id: number): string {
  return CHAIN_NAMES[id] ?? `chain ${id}`;
}

export function isAddress(text: string): boolean {
  return /^0x[0-9a-fA-F]{40}$/.test(text.trim());
}

/** Explorer links from the API's `explorer_url` (Arbiscan for Arbitrum One). */
export function txUrl(explorer: string, hash: string): string {
  return `${explorer.replace(/\/+$/, "")}/tx/${hash}`;
}

export function addressUrl(explorer: string, address: string): string {
  return `${explorer.replace(/\/+$/, "")}/address/${address}`;
}

/** Wei → ETH as a float, for chart axes only (never for displayed amounts). */
export function weiToChartNumber(amount: bigint | string): number {
  const v = wei(amount);
  return Number(v / 10n ** 9n) / 1e9;
}
