/** Words for the miner's "next payout": what, why, and when. */

import type { NextPayout } from "./api";
import { ethText, formatRelative, formatTime } from "./format";

const REASONS: Record<NextPayout["reason"], string> = {
  claimable: "Claimable now",
  challenge_window: "In the challenge window",
  epoch_open: "Epoch still open",
  below_threshold: "Below your threshold",
  queued_push: "Queued for the pool's push",
};

export function reasonLabel(reason: string): string {
  return (REASONS as Record<string, string>)[reason] ?? reason.replace(/_/g, " ");
}

export interface NextPayoutText {
  headline: string;
  when: string;
  detail: string;
}

export function nextPayoutText(np: NextPayout, now: number): NextPayoutText {
  const amount = ethText(np.amount);
  let when: string;
  if (np.reason === "claimable") when = "now — claim it from your wallet";
  else if (np.eta == null) when = "no estimate yet";
  else if (np.eta <= now) when = "any moment now";
  else when = `${formatRelative(np.eta, now)} (${formatTime(np.eta)})`;
  return { headline: `${amount} · ${reasonLabel(np.reason)}`, when, detail: np.detail };
}
