/**
 * Everything that talks to the miner's wallet. Loaded lazily (dynamic import) on the
 * first Connect / Claim / Save click, so visitors who only look download none of it.
 * Discovery is EIP-6963 (mipd) with a fallback to a legacy `window.ethereum`.
 */

import { createStore, type EIP6963ProviderDetail } from "mipd";
import {
  createPublicClient,
  createWalletClient,
  custom,
  getAddress,
  numberToHex,
  type EIP1193Provider,
  type Hex,
} from "viem";
import { api, type Address, type Config, type Proof } from "./api";
import { claimWithRetry, type ClaimResult } from "./claimFlow";
import { chainName } from "./format";
import { session } from "./session";
import { settingsTypedData, type SettingsInput } from "./typedData";
import { WalletFlowError } from "./walletErrors";

export interface WalletChoice {
  name: string;
  icon: string;
  rdns: string;
  provider: EIP1193Provider;
}

let store: ReturnType<typeof createStore> | null = null;
let current: WalletChoice | null = null;

/** Wallets announced through EIP-6963, or the legacy injected one; waits briefly for announcements. */
export async function discover(waitMs = 250): Promise<WalletChoice[]> {
  store ??= createStore();
  let found = store.getProviders();
  if (found.length === 0) {
    await new Promise((r) => setTimeout(r, waitMs));
    found = store.getProviders();
  }
  const list: WalletChoice[] = found.map((d: EIP6963ProviderDetail) => ({
    name: d.info.name,
    icon: d.info.icon,
    rdns: d.info.rdns,
    provider: d.provider as unknown as EIP1193Provider,
  }));
  const legacy = (window as unknown as { ethereum?: EIP1193Provider }).ethereum;
  if (list.length === 0 && legacy) list.push({ name: "Browser wallet", icon: "", rdns: "window.ethereum", provider: legacy });
  return list;
}

/** Ask the chosen wallet for an account; remembers it for the session. */
export async function connect(choice: WalletChoice): Promise<Address> {
  const accounts = (await choice.provider.request({ method: "eth_requestAccounts" })) as string[];
  if (!accounts?.length) throw new WalletFlowError("unauthorized", "The wallet returned no account. Unlock it and connect again.");
  current = choice;
  const account = getAddress(accounts[0]);
  choice.provider.on?.("accountsChanged", (accs: readonly string[]) => session.set(accs[0] ? getAddress(accs[0]) : null));
  session.set(account);
  return account;
}

export function connected(): WalletChoice | null {
  return current;
}

function need(): WalletChoice {
  if (!current) throw new WalletFlowError("no_wallet", "Connect a wallet first.");
  return current;
}

/** Make sure the wallet is on the pool's chain, asking it to switch if not. */
export async function ensureChain(chainId: number): Promise<void> {
  const { provider } = need();
  const read = async () => Number(await provider.request({ method: "eth_chainId" }));
  const now = await read();
  if (now === chainId) return;
  const want = `${chainName(chainId)} (chain ${chainId})`;
  const have = `${chainName(now)} (chain ${now})`;
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: numberToHex(chainId) }] });
  } catch (e) {
    const code = Number((e as { code?: unknown }).code);
    if (code === 4902) {
      throw new WalletFlowError("unknown_chain", `Your wallet is on ${have} and does not know ${want}. Add ${want} to your wallet, switch to it, and try again.`);
    }
    const declined = code === 4001 ? " You declined the switch." : "";
    throw new WalletFlowError("wrong_chain", `Wrong network: your wallet is on ${have}, and this pool pays on ${want}.${declined} Switch networks in your wallet and try again.`);
  }
  const after = await read();
  if (after !== chainId) {
    throw new WalletFlowError("wrong_chain", `Wrong network: your wallet is still on ${chainName(after)} (chain ${after}). Switch it to ${want} and try again.`);
  }
}

export interface ClaimCallbacks {
  onStatus(message: string): void;
  onPending(hash: string, amount: bigint): void;
}

/** Claim for `miner` (anyone may send the claim; the contract pays the miner). */
export async function claim(miner: Address, config: Config, cb: ClaimCallbacks): Promise<ClaimResult> {
  const { provider } = need();
  const account = session.account as Hex | null;
  if (!account) throw new WalletFlowError("no_wallet", "Connect a wallet first.");
  await ensureChain(config.chain_id);
  const wallet = createWalletClient({ transport: custom(provider) });
  const reader = createPublicClient({ transport: custom(provider) });
  return claimWithRetry({
    chainId: config.chain_id,
    fetchProof: (): Promise<Proof> => api.proof(miner),
    send: (tx) =>
      wallet.sendTransaction({
        account,
        chain: null,
        to: tx.to as Hex,
        data: tx.data as Hex,
        value: BigInt(tx.value),
      }),
    wait: async (hash) => {
      const r = await reader.waitForTransactionReceipt({ hash: hash as Hex, pollingInterval: 1000 });
      return { status: r.status, blockNumber: r.blockNumber };
    },
    ...cb,
  });
}

/** Sign the payout settings with eth_signTypedData_v4, exactly as docs/api.md defines them. */
export async function signSettings(config: Config, input: SettingsInput): Promise<Hex> {
  const { provider } = need();
  await ensureChain(config.chain_id);
  const typed = settingsTypedData(config, input);
  return (await provider.request({
    method: "eth_signTypedData_v4",
    params: [input.account as Hex, JSON.stringify(typed)],
  })) as Hex;
}
