/**
 * The EIP-712 typed data a miner signs to change payout settings, built exactly as
 * docs/api.md states it: domain {name, version, chainId, verifyingContract} and primary
 * type PayoutSettings(address account,string mode,uint256 threshold,uint256 gasCapBps,
 * uint256 nonce,uint256 deadline). uint256 values are decimal strings, so the JSON sent
 * to `eth_signTypedData_v4` carries them exactly (no float rounding of wei).
 */

import type { Config } from "./api";

export interface SettingsInput {
  account: string;
  mode: "claim" | "push";
  threshold: bigint;
  gasCapBps: number; // 0 = no cap
  nonce: number;
  deadline: number;
}

export const SETTINGS_TYPES = {
  EIP712Domain: [
    { name: "name", type: "string" },
    { name: "version", type: "string" },
    { name: "chainId", type: "uint256" },
    { name: "verifyingContract", type: "address" },
  ],
  PayoutSettings: [
    { name: "account", type: "address" },
    { name: "mode", type: "string" },
    { name: "threshold", type: "uint256" },
    { name: "gasCapBps", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export function settingsTypedData(config: Config, s: SettingsInput) {
  return {
    types: SETTINGS_TYPES,
    primaryType: "PayoutSettings" as const,
    domain: {
      name: config.eip712.name,
      version: config.eip712.version,
      chainId: config.chain_id,
      verifyingContract: config.contract,
    },
    message: {
      account: s.account,
      mode: s.mode,
      threshold: s.threshold.toString(),
      gasCapBps: s.gasCapBps.toString(),
      nonce: s.nonce.toString(),
      deadline: s.deadline.toString(),
    },
  };
}

/** The signature lives this long; the service accepts at most now + 3600. */
export const SETTINGS_DEADLINE_SECONDS = 600;
