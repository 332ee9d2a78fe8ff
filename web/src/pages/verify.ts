/** A static page: how a miner checks the pool's numbers without trusting the pool. */

import { h } from "../dom";

export function mountVerify(root: HTMLElement): void {
  const step = (title: string, text: string) => h("li", null, h("strong", null, title), " ", text);
  root.replaceChildren(
    h("h1", null, "Verify it yourself"),
    h(
      "section",
      { class: "panel prose", "aria-labelledby": "verify-h" },
      h("h2", { id: "verify-h" }, "Don't trust the pool: check it"),
      h(
        "ol",
        null,
        step("Statement.", "Each closed epoch's statement (linked on every epoch row) is the exact JSON whose keccak-256 hash is stored on chain as the root's data hash. Hash the bytes you downloaded and compare."),
        step("Tree.", "The tree file is OpenZeppelin's StandardMerkleTree standard-v1 dump with leaves (address, cumulative wei). Load it with @openzeppelin/merkle-tree and the root must equal the contract's root."),
        step("Your line.", "Find your address in the statement: gross, commission, penalty, gas overhead, and the cumulative amount in your leaf. The cumulative never decreases."),
        step("Solvency.", "The contract's balance plus what was already claimed must cover the root's total; the pool page shows this and the contract refuses an insolvent root."),
        step("Claim.", "Anyone may send claim(account, cumulative, proof); the contract pays the account itself, so the pool cannot redirect your money."),
      ),
      h("p", null, "The pool's watchtower does these checks for every pending root during the challenge window, and anyone can run it: ", h("code", null, "livepool watch"), "."),
      h("p", null, h("a", { href: "#/" }, "Back to the pool")),
    ),
  );
}
