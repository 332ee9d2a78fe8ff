import { describe, expect, it } from "vitest";
import { nextPayoutText, reasonLabel } from "../src/nextPayout";

const now = 1_764_000_000;

describe("next payout text", () => {
  it("says claimable now", () => {
    const t = nextPayoutText({ reason: "claimable", eta: null, amount: "1000000000000000000", detail: "d" }, now);
    expect(t.headline).toBe("1 ETH · Claimable now");
    expect(t.when).toMatch(/^now/);
    expect(t.detail).toBe("d");
  });
  it("gives the ETA of the challenge window", () => {
    const t = nextPayoutText({ reason: "challenge_window", eta: now + 3 * 3600 + 20 * 60, amount: "1000000000000", detail: "Root pending." }, now);
    expect(t.headline).toBe("0.000001 ETH · In the challenge window");
    expect(t.when).toBe("in 3 h 20 min (2025-11-24 19:20 UTC)");
  });
  it("handles unknown and past ETAs", () => {
    expect(nextPayoutText({ reason: "below_threshold", eta: null, amount: "1", detail: "" }, now).when).toBe("no estimate yet");
    expect(nextPayoutText({ reason: "queued_push", eta: now - 10, amount: "1", detail: "" }, now).when).toBe("any moment now");
    expect(nextPayoutText({ reason: "epoch_open", eta: now + 60, amount: "1", detail: "" }, now).headline).toBe("< 0.000001 ETH · Epoch still open");
  });
  it("labels every reason and survives a new one", () => {
    for (const r of ["below_threshold", "epoch_open", "challenge_window", "claimable", "queued_push"]) {
      expect(reasonLabel(r)).not.toContain("_");
    }
    expect(reasonLabel("some_new_reason")).toBe("some new reason");
  });
});
