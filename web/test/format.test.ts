import { describe, expect, it } from "vitest";
import {
  bpsToPercent, ethText, formatDuration, formatEth, formatEthExact, formatPixelRate, formatRelative,
  formatTime, isAddress, parseEth, parsePercentToBps, txUrl, wei,
} from "../src/format";

describe("formatEthExact", () => {
  it("shows 1 wei with every digit", () => {
    expect(formatEthExact(1n)).toBe("0.000000000000000001");
    expect(formatEthExact("1")).toBe("0.000000000000000001");
  });
  it("shows 10^-6 ETH", () => {
    expect(formatEthExact(10n ** 12n)).toBe("0.000001");
  });
  it("shows 10^6 ETH grouped, exactly", () => {
    expect(formatEthExact(10n ** 24n)).toBe("1,000,000");
    expect(formatEthExact(10n ** 24n + 1n)).toBe("1,000,000.000000000000000001");
    expect(formatEthExact(10n ** 24n, false)).toBe("1000000");
  });
  it("keeps amounts above 2^53 wei exact where a float would not", () => {
    const big = 2n ** 53n + 1n; // 9007199254740993 — Number() would round it to ...992
    expect(formatEthExact(big)).toBe("0.009007199254740993");
    expect(formatEthExact((2n ** 64n).toString())).toBe("18.446744073709551616");
  });
  it("shows zero as 0", () => {
    expect(formatEthExact(0n)).toBe("0");
  });
});

describe("formatEth (rounded down for tables)", () => {
  it("never shows a tiny non-zero amount as 0", () => {
    expect(formatEth(1n)).toBe("< 0.000001");
  });
  it("shows 10^-6 ETH", () => {
    expect(formatEth(10n ** 12n)).toBe("0.000001");
    expect(ethText(10n ** 12n)).toBe("0.000001 ETH");
  });
  it("shows 10^6 ETH", () => {
    expect(ethText(10n ** 24n)).toBe("1,000,000 ETH");
  });
  it("rounds down, never up", () => {
    expect(formatEth(999_999_999_999_999_999n)).toBe("0.999999");
    expect(formatEth(2n ** 53n + 1n)).toBe("0.009007");
  });
  it("rejects non-wei strings", () => {
    expect(() => wei("1.5")).toThrow();
    expect(() => wei("-1")).toThrow();
    expect(() => wei("1e18")).toThrow();
  });
});

describe("parseEth", () => {
  it("parses exactly", () => {
    expect(parseEth("0.01")).toBe(10n ** 16n);
    expect(parseEth("1,000,000")).toBe(10n ** 24n);
    expect(parseEth("0.000000000000000001")).toBe(1n);
    expect(parseEth(".5 ETH")).toBe(5n * 10n ** 17n);
    expect(parseEth("9007199254.740993")).toBe(9007199254740993n * 10n ** 12n);
  });
  it("round-trips with formatEthExact", () => {
    for (const v of [1n, 10n ** 12n, 10n ** 24n, 2n ** 53n + 1n]) expect(parseEth(formatEthExact(v))).toBe(v);
  });
  it("refuses garbage with a sentence", () => {
    expect(() => parseEth("")).toThrow(/amount/);
    expect(() => parseEth("abc")).toThrow(/amount/);
    expect(() => parseEth("-1")).toThrow();
    expect(() => parseEth("1e-3")).toThrow();
    expect(() => parseEth("0.0000000000000000001")).toThrow(/18 decimals/);
  });
});

describe("percent and bps", () => {
  it("parses percent to bps exactly", () => {
    expect(parsePercentToBps("10")).toBe(1000);
    expect(parsePercentToBps("2.5")).toBe(250);
    expect(parsePercentToBps("0.01%")).toBe(1);
    expect(parsePercentToBps("0")).toBe(0);
    expect(() => parsePercentToBps("101")).toThrow(/100%/);
    expect(() => parsePercentToBps("1.234")).toThrow();
  });
  it("formats bps", () => {
    expect(bpsToPercent(500)).toBe("5");
    expect(bpsToPercent(250)).toBe("2.5");
    expect(bpsToPercent(1)).toBe("0.01");
  });
});

describe("rates, times, links", () => {
  it("formats pixel rates", () => {
    expect(formatPixelRate(1.2e9)).toBe("1.20 Gpx/s");
    expect(formatPixelRate(5e7)).toBe("50.0 Mpx/s");
    expect(formatPixelRate(999)).toBe("999 px/s");
    expect(formatPixelRate(0)).toBe("0 px/s");
    expect(formatPixelRate(0.2)).toBe("0.20 px/s");
    expect(formatPixelRate(null)).toBe("—");
  });
  it("formats times in UTC and durations", () => {
    expect(formatTime(1_764_000_000)).toBe("2025-11-24 16:00 UTC");
    expect(formatDuration(3 * 3600 + 20 * 60)).toBe("3 h 20 min");
    expect(formatRelative(1_000 + 90_000, 1_000)).toBe("in 1 d 1 h");
    expect(formatRelative(1_000 - 300, 1_000)).toBe("5 min ago");
  });
  it("builds explorer links from the configured explorer", () => {
    expect(txUrl("https://arbiscan.io/", "0xab")).toBe("https://arbiscan.io/tx/0xab");
  });
  it("recognises addresses", () => {
    expect(isAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")).toBe(true);
    expect(isAddress("0x123")).toBe(false);
  });
});
