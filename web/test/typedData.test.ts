import { describe, expect, it } from "vitest";
import { hashTypedData, recoverTypedDataAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { settingsTypedData } from "../src/typedData";
import { config } from "./fixtures";

// anvil's dev account #1 — a public test key.
const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const signer = privateKeyToAccount(KEY);

const input = {
  account: signer.address,
  mode: "push" as const,
  threshold: 10n ** 16n,
  gasCapBps: 1000,
  nonce: 4,
  deadline: 1_764_003_600,
};

describe("settings typed data (docs/api.md)", () => {
  it("has exactly the domain and type the API contract states", () => {
    const td = settingsTypedData(config, input);
    expect(td.primaryType).toBe("PayoutSettings");
    expect(td.domain).toEqual({ name: "Livepool", version: "1", chainId: 42161, verifyingContract: config.contract });
    expect(td.types.EIP712Domain.map((f) => `${f.type} ${f.name}`)).toEqual([
      "string name", "string version", "uint256 chainId", "address verifyingContract",
    ]);
    const sig = `PayoutSettings(${td.types.PayoutSettings.map((f) => `${f.type} ${f.name}`).join(",")})`;
    expect(sig).toBe("PayoutSettings(address account,string mode,uint256 threshold,uint256 gasCapBps,uint256 nonce,uint256 deadline)");
    expect(td.message).toEqual({
      account: signer.address, mode: "push", threshold: "10000000000000000", gasCapBps: "1000", nonce: "4", deadline: "1764003600",
    });
  });

  it("serialises to JSON for eth_signTypedData_v4 without losing wei", () => {
    const td = settingsTypedData(config, { ...input, threshold: 2n ** 200n });
    const round = JSON.parse(JSON.stringify(td));
    expect(BigInt(round.message.threshold)).toBe(2n ** 200n);
  });

  it("signs and recovers to the miner (same digest as a standard EIP-712 signer)", async () => {
    const td = settingsTypedData(config, input);
    const typed = {
      domain: td.domain as { name: string; version: string; chainId: number; verifyingContract: `0x${string}` },
      types: { PayoutSettings: td.types.PayoutSettings },
      primaryType: "PayoutSettings" as const,
      message: {
        account: input.account,
        mode: input.mode,
        threshold: input.threshold,
        gasCapBps: BigInt(input.gasCapBps),
        nonce: BigInt(input.nonce),
        deadline: BigInt(input.deadline),
      },
    };
    const signature = await signer.signTypedData(typed);
    expect(await recoverTypedDataAddress({ ...typed, signature })).toBe(signer.address);
    // The digest does not depend on whether uint256 fields arrive as strings or bigints.
    expect(hashTypedData({ ...typed, message: { ...td.message } as never })).toBe(hashTypedData(typed));
  });
});
