/** Connect flow shared by the header button and the Claim / Save buttons. */

import { h } from "./dom";
import { loadWallet, session } from "./session";
import { WalletFlowError } from "./walletErrors";

/**
 * Load the wallet chunk, discover wallets and connect. With several wallets announced,
 * shows a chooser in `chooserHost` and waits for a pick.
 */
export async function connectWallet(chooserHost: HTMLElement): Promise<string> {
  const w = await loadWallet();
  if (session.account && w.connected()) return session.account;
  const choices = await w.discover();
  if (choices.length === 0) {
    throw new WalletFlowError(
      "no_wallet",
      "No wallet found in this browser. Install or unlock a wallet extension, or enter your address to view your balance.",
    );
  }
  let choice = choices[0];
  if (choices.length > 1) {
    choice = await new Promise((resolve) => {
      const box = h(
        "div",
        { class: "chooser", role: "group", "aria-label": "Choose a wallet" },
        h("p", null, "Choose a wallet:"),
        choices.map((c) =>
          h(
            "button",
            { type: "button", onclick: () => { box.remove(); resolve(c); } },
            c.icon ? h("img", { src: c.icon, alt: "", width: 20, height: 20 }) : null,
            c.name,
          ),
        ),
      );
      chooserHost.append(box);
      box.querySelector("button")?.focus();
    });
  }
  return w.connect(choice);
}
