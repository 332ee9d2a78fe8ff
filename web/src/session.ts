/**
 * The connected wallet, shared by the pages. The wallet code itself (viem, mipd) is a
 * separate chunk, imported only when someone clicks Connect or Claim.
 */

export type WalletModule = typeof import("./wallet");

let loading: Promise<WalletModule> | null = null;

export function loadWallet(): Promise<WalletModule> {
  loading ??= import("./wallet");
  return loading;
}

type Listener = (account: string | null) => void;
const listeners = new Set<Listener>();

export const session = {
  account: null as string | null,
  set(account: string | null) {
    session.account = account;
    for (const l of listeners) l(account);
  },
  subscribe(l: Listener): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};
