import { describe, expect, it, vi } from "vitest";
import { claimWithRetry } from "../src/claimFlow";
import { proof } from "./fixtures";

const base = () => ({ chainId: 42161, onStatus: vi.fn(), onPending: vi.fn() });

describe("claim flow", () => {
  it("sends the proof's ready-made transaction and reports pending then success", async () => {
    const send = vi.fn().mockResolvedValue("0xhash");
    const deps = { ...base(), fetchProof: vi.fn().mockResolvedValue(proof), send, wait: vi.fn().mockResolvedValue({ status: "success" }) };
    const r = await claimWithRetry(deps);
    expect(send).toHaveBeenCalledWith(proof.tx);
    expect(deps.onPending).toHaveBeenCalledWith("0xhash", BigInt(proof.claimable));
    expect(r).toEqual({ hash: "0xhash", amount: BigInt(proof.claimable), retried: false });
  });

  it("re-fetches the proof and retries once when the root moved (gas estimation says invalid proof)", async () => {
    const fresh = { ...proof, root: "0x" + "77".repeat(32), claimable: "200", tx: { ...proof.tx, data: "0xfeed" } };
    const fetchProof = vi.fn().mockResolvedValueOnce(proof).mockResolvedValueOnce(fresh);
    const send = vi.fn().mockRejectedValueOnce({ code: -32603, message: "execution reverted: distributor: invalid proof" }).mockResolvedValueOnce("0xh2");
    const r = await claimWithRetry({ ...base(), fetchProof, send, wait: vi.fn().mockResolvedValue({ status: "success" }) });
    expect(send).toHaveBeenLastCalledWith(fresh.tx);
    expect(r).toEqual({ hash: "0xh2", amount: 200n, retried: true });
  });

  it("retries once when the transaction reverted and the root has since changed", async () => {
    const fresh = { ...proof, root: "0x" + "77".repeat(32) };
    const fetchProof = vi.fn().mockResolvedValueOnce(proof).mockResolvedValue(fresh);
    const wait = vi.fn().mockResolvedValueOnce({ status: "reverted" }).mockResolvedValueOnce({ status: "success" });
    const r = await claimWithRetry({ ...base(), fetchProof, send: vi.fn().mockResolvedValueOnce("0xa").mockResolvedValueOnce("0xb"), wait });
    expect(r.hash).toBe("0xb");
    expect(r.retried).toBe(true);
  });

  it("does not send when nothing is claimable, and passes rejections through", async () => {
    const send = vi.fn();
    await expect(claimWithRetry({ ...base(), fetchProof: vi.fn().mockResolvedValue({ ...proof, claimable: "0" }), send, wait: vi.fn() })).rejects.toMatchObject({ kind: "nothing_to_claim" });
    expect(send).not.toHaveBeenCalled();
    await expect(
      claimWithRetry({ ...base(), fetchProof: vi.fn().mockResolvedValue(proof), send: vi.fn().mockRejectedValue({ code: 4001 }), wait: vi.fn() }),
    ).rejects.toMatchObject({ code: 4001 });
  });

  it("reports a revert that is not a stale proof", async () => {
    const fetchProof = vi.fn().mockResolvedValue(proof);
    await expect(
      claimWithRetry({ ...base(), fetchProof, send: vi.fn().mockResolvedValue("0xa"), wait: vi.fn().mockResolvedValue({ status: "reverted" }) }),
    ).rejects.toMatchObject({ kind: "reverted" });
  });
});
