/**
 * Turn what wallets and viem throw into one sentence a miner can act on. Wallets signal
 * by EIP-1193 / EIP-1474 codes (4001 rejected, 4902 unknown chain, -32002 already
 * pending …) and, for node errors, only by message text; viem wraps both in `cause`
 * chains. We walk the chain and look at codes first, then messages.
 */

import { chainName } from "./format";

export type WalletErrorKind =
  | "rejected"
  | "wrong_chain"
  | "unknown_chain"
  | "stale_proof"
  | "nothing_to_claim"
  | "insufficient_funds"
  | "pending_request"
  | "unauthorized"
  | "no_wallet"
  | "reverted"
  | "other";

export interface WalletErrorInfo {
  kind: WalletErrorKind;
  message: string;
}

/** Thrown by our own checks (wrong chain, no wallet) with a kind already decided. */
export class WalletFlowError extends Error {
  constructor(
    readonly kind: WalletErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "WalletFlowError";
  }
}

interface Errorish {
  code?: unknown;
  message?: unknown;
  shortMessage?: unknown;
  details?: unknown;
  cause?: unknown;
  data?: unknown;
  name?: unknown;
}

function chainOf(err: unknown): Errorish[] {
  const out: Errorish[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 10 && cur && typeof cur === "object"; i++) {
    out.push(cur as Errorish);
    cur = (cur as Errorish).cause;
  }
  return out;
}

export function describeWalletError(err: unknown, poolChainId: number): WalletErrorInfo {
  const links = chainOf(err);
  const pool = `${chainName(poolChainId)} (chain ${poolChainId})`;
  for (const e of links) {
    if (e instanceof WalletFlowError) return { kind: e.kind, message: e.message };
  }
  const codes = links.map((e) => Number(e.code)).filter((c) => Number.isFinite(c));
  const text = links
    .flatMap((e) => [e.message, e.shortMessage, e.details, typeof e.data === "string" ? e.data : ""])
    .filter((m): m is string => typeof m === "string")
    .join(" | ");

  if (codes.includes(4001) || /user (rejected|denied)|rejected by user|user cancel/i.test(text)) {
    return { kind: "rejected", message: "You rejected the request in your wallet. Nothing was sent." };
  }
  if (codes.includes(4902) || /unrecognized chain|unknown chain|chain .* not (added|supported)/i.test(text)) {
    return {
      kind: "unknown_chain",
      message: `Your wallet does not know ${pool}. Add that network to your wallet, switch to it, and try again.`,
    };
  }
  if (/chain ?mismatch|does not match the target chain|wrong (chain|network)/i.test(text)) {
    return {
      kind: "wrong_chain",
      message: `Your wallet is on another network. Switch it to ${pool} and try again.`,
    };
  }
  if (codes.includes(-32002) || /already pending|request already/i.test(text)) {
    return { kind: "pending_request", message: "Your wallet already has a request open. Finish or close it there, then try again." };
  }
  if (codes.includes(4100) || /unauthori[sz]ed/i.test(text)) {
    return { kind: "unauthorized", message: "This site is not connected to that account in your wallet. Connect again." };
  }
  if (/invalid proof/i.test(text)) {
    return {
      kind: "stale_proof",
      message: "The proof no longer matches the contract: a new root was accepted meanwhile. Fetch a fresh proof and claim again.",
    };
  }
  if (/nothing to claim/i.test(text)) {
    return { kind: "nothing_to_claim", message: "There is nothing to claim: this balance was already paid out." };
  }
  if (codes.includes(-32003) || /insufficient funds|exceeds (the )?balance|gas required exceeds/i.test(text)) {
    return {
      kind: "insufficient_funds",
      message: `Your wallet does not have enough ETH on ${pool} to pay the gas for this transaction. Add a little ETH for gas and try again.`,
    };
  }
  if (/execution reverted|reverted/i.test(text)) {
    const reason = /reverted:?\s*([^|]+)/i.exec(text)?.[1]?.trim();
    return { kind: "reverted", message: `The contract refused the transaction${reason ? `: ${reason}` : ""}.` };
  }
  const first = links.find((e) => typeof e.shortMessage === "string" || typeof e.message === "string");
  const msg = first ? String(first.shortMessage ?? first.message).split("\n")[0] : String(err);
  return { kind: "other", message: `Your wallet returned an error: ${msg}` };
}
