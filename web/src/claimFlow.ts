/**
 * The claim sequence, free of wallet libraries so it can be tested with fakes:
 * fetch the proof → send its ready-made {to, data, value} → wait → report. A proof
 * goes stale when a new root is accepted between fetching and mining; then we fetch a
 * fresh proof and try once more.
 */

import type { Proof } from "./api";
import { WalletFlowError, describeWalletError } from "./walletErrors";

export interface ClaimDeps {
  fetchProof(): Promise<Proof>;
  send(tx: Proof["tx"]): Promise<string>;
  wait(hash: string): Promise<{ status: "success" | "reverted"; blockNumber?: bigint }>;
  onStatus(message: string): void;
  onPending(hash: string, amount: bigint): void;
  chainId: number;
}

export interface ClaimResult {
  hash: string;
  amount: bigint;
  retried: boolean;
}

export async function claimWithRetry(deps: ClaimDeps): Promise<ClaimResult> {
  let retried = false;
  for (let attempt = 0; attempt < 2; attempt++) {
    deps.onStatus(attempt === 0 ? "Fetching your proof…" : "A new root was accepted meanwhile. Fetching a fresh proof…");
    const proof = await deps.fetchProof();
    const amount = BigInt(proof.claimable);
    if (amount === 0n) throw new WalletFlowError("nothing_to_claim", "There is nothing to claim: this balance was already paid out.");
    deps.onStatus("Confirm the claim in your wallet…");
    let hash: string;
    try {
      hash = await deps.send(proof.tx);
    } catch (e) {
      if (attempt === 0 && describeWalletError(e, deps.chainId).kind === "stale_proof") {
        retried = true;
        continue;
      }
      throw e;
    }
    deps.onPending(hash, amount);
    const receipt = await deps.wait(hash);
    if (receipt.status === "success") return { hash, amount, retried };
    // Reverted on chain: if the root moved, the proof was stale — retry once with a new one.
    const fresh = attempt === 0 ? await deps.fetchProof() : null;
    if (fresh && fresh.root !== proof.root && BigInt(fresh.claimable) > 0n) {
      retried = true;
      continue;
    }
    throw new WalletFlowError("reverted", `The claim transaction ${hash} was reverted by the contract.`);
  }
  throw new WalletFlowError("stale_proof", "The proof went stale twice in a row. Wait a minute and claim again.");
}
