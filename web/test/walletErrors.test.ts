import { describe, expect, it } from "vitest";
import { InsufficientFundsError, TransactionExecutionError, UserRejectedRequestError, BaseError } from "viem";
import { WalletFlowError, describeWalletError } from "../src/walletErrors";

const kind = (e: unknown) => describeWalletError(e, 42161).kind;

describe("wallet error messages", () => {
  it("maps a raw EIP-1193 rejection (4001)", () => {
    const info = describeWalletError({ code: 4001, message: "User rejected the request." }, 42161);
    expect(info.kind).toBe("rejected");
    expect(info.message).toBe("You rejected the request in your wallet. Nothing was sent.");
  });
  it("maps a viem-wrapped rejection", () => {
    const inner = new UserRejectedRequestError(new Error("denied"));
    const wrapped = new TransactionExecutionError(inner as unknown as BaseError, { account: undefined, chain: undefined } as never);
    expect(kind(wrapped)).toBe("rejected");
  });
  it("maps an unknown chain (4902) and names the pool's chain", () => {
    const info = describeWalletError({ code: 4902, message: "Unrecognized chain ID" }, 42161);
    expect(info.kind).toBe("unknown_chain");
    expect(info.message).toContain("Arbitrum One (chain 42161)");
  });
  it("keeps our own wrong-chain message", () => {
    const e = new WalletFlowError("wrong_chain", "Wrong network: your wallet is on Ethereum (chain 1).");
    expect(describeWalletError(e, 42161)).toEqual({ kind: "wrong_chain", message: e.message });
  });
  it("maps insufficient funds from node text and from viem", () => {
    expect(kind({ code: -32000, message: "insufficient funds for gas * price + value" })).toBe("insufficient_funds");
    expect(kind(new InsufficientFundsError())).toBe("insufficient_funds");
  });
  it("recognises a stale proof and nothing to claim from the contract's revert reasons", () => {
    expect(kind({ code: -32603, message: "execution reverted: distributor: invalid proof" })).toBe("stale_proof");
    expect(kind({ message: "x", cause: { data: "execution reverted: distributor: nothing to claim" } })).toBe("nothing_to_claim");
  });
  it("maps pending, unauthorised, other reverts, and unknown errors", () => {
    expect(kind({ code: -32002, message: "Request of type 'wallet_requestPermissions' already pending" })).toBe("pending_request");
    expect(kind({ code: 4100, message: "Unauthorized" })).toBe("unauthorized");
    expect(describeWalletError({ message: "execution reverted: distributor: paused" }, 1).message).toBe(
      "The contract refused the transaction: distributor: paused.",
    );
    expect(describeWalletError(new Error("boom"), 1)).toEqual({ kind: "other", message: "Your wallet returned an error: boom" });
  });
});
