"""The dashboard against the real thing: `livepool serve` serving web/dist at `/`, the
distributor deployed on anvil with an accepted root (``real_service.py``), and the
EIP-6963 test wallet forwarding to that anvil. A miner connects, claims, and is paid on
chain exactly what the page showed; another signs payout settings that the service
verifies (EIP-712) and stores; a rejected transaction and a wrong chain send nothing.
Screenshots of both pages at 1280 and 375 px go to tests/browser/screenshots/.

The tests share one pool (module scope); the claim comes last, as it empties the leaf.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .helpers import (
    claim,
    connect,
    install_wallet,
    open_miner,
    open_pool,
    panel,
    save_settings,
    screenshot,
)
from .real_service import FUNDING, Pool, run_pool


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory, dist: Any) -> Iterator[Pool]:
    with run_pool(tmp_path_factory.mktemp("pool")) as p:
        yield p


@pytest.fixture
def wallet_page(page_for: Callable[..., Any], pool: Pool) -> Callable[..., Any]:
    """``wallet_page(account, **wallet_options)``: a page whose wallet forwards to the
    pool's anvil."""

    def make(account: str | None, width: int = 1280, **options: Any) -> Any:
        page = page_for(wallet=None, width=width)
        if account:
            install_wallet(page, pool.anvil.url, account, **options)
        return page

    return make


def no_sideways_scroll(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_real_service__pool_page__shows_the_contract_and_the_root(wallet_page, pool: Pool):
    page = wallet_page(None)
    open_pool(page, pool.url)
    assert page.locator("section.panel[data-state=error]").count() == 0
    assert page.locator("section.panel[data-state=ready]").count() == 6
    view = pool.get("/v1/pool")
    assert view["roots"]["active"]["epoch"] == 0 and view["funds"]["balance"] == str(FUNDING)
    assert "Solvent" in panel(page, "Funds").inner_text()
    assert page.locator('a[href="/v1/epochs/0"]').count() >= 1  # the active root's statement
    for width in (1280, 375):
        screenshot(page, "pool", width)
        assert no_sideways_scroll(page), f"the pool page scrolls sideways at {width} px"
    assert not page.page_errors


def test_real_service__miner_page__shows_what_the_service_says(wallet_page, pool: Pool):
    miner = pool.miners[0]
    page = wallet_page(None)
    open_miner(page, pool.url, miner)
    assert page.locator("section.panel[data-state=error]").count() == 0
    claimable = pool.get(f"/v1/miners/{miner}")["balances"]["claimable"]
    assert int(claimable) > 0
    assert page.locator("#claim").get_attribute("data-wei") == claimable
    for width in (1280, 375):
        screenshot(page, "miner", width)
        assert no_sideways_scroll(page), f"the miner page scrolls sideways at {width} px"
    assert not page.page_errors


def _unchanged(pool: Pool, miner: str, before: dict[str, Any]) -> None:
    assert pool.anvil.rpc("eth_getTransactionCount", [miner, "latest"]) == before["nonce"]
    assert pool.get(f"/v1/miners/{miner}")["balances"]["claimable"] == before["claimable"]


def _state(pool: Pool, miner: str) -> dict[str, Any]:
    return {
        "nonce": pool.anvil.rpc("eth_getTransactionCount", [miner, "latest"]),
        "claimable": pool.get(f"/v1/miners/{miner}")["balances"]["claimable"],
    }


def test_real_service__claim_rejected_in_wallet__nothing_sent(wallet_page, pool: Pool):
    miner = pool.miners[0]
    before = _state(pool, miner)
    page = wallet_page(miner, reject=["eth_sendTransaction"])
    open_miner(page, pool.url, miner)
    out = claim(page)
    assert out["result"] == "rejected", out["text"]
    assert "You rejected the request in your wallet. Nothing was sent." in out["text"]
    assert page.locator("#claim").is_enabled()
    _unchanged(pool, miner, before)


def test_real_service__claim_on_wrong_chain__switch_declined__nothing_sent(wallet_page, pool):
    miner = pool.miners[0]
    before = _state(pool, miner)
    page = wallet_page(miner, chainId=1, switchError=4001)
    open_miner(page, pool.url, miner)
    out = claim(page)
    assert out["result"] == "wrong_chain", out["text"]
    assert "your wallet is on Ethereum (chain 1)" in out["text"]
    assert "(chain 31337)" in out["text"]
    methods = page.evaluate("window.__walletCalls.map(c => c.method)")
    assert "wallet_switchEthereumChain" in methods
    assert "eth_sendTransaction" not in methods
    _unchanged(pool, miner, before)


def test_real_service__settings__signed_in_page__verified_and_stored(wallet_page, pool: Pool):
    miner = pool.miners[1]
    start = pool.get(f"/v1/miners/{miner}")["settings"]
    # A rejected signature sends nothing: the stored nonce does not move.
    page = wallet_page(miner, reject=["eth_signTypedData_v4"])
    open_miner(page, pool.url, miner)
    out = save_settings(page, mode="push", threshold_eth="0.05", gas_cap_percent="1")
    assert out["result"] == "error" and "You rejected the request" in out["text"]
    assert pool.get(f"/v1/miners/{miner}")["settings"] == start

    page = wallet_page(miner)
    open_miner(page, pool.url, miner)
    out = save_settings(page, mode="push", threshold_eth="0.05", gas_cap_percent="12.5")
    assert out["result"] == "saved", out["text"]
    assert "the pool pushes payouts; threshold 0.05 ETH; gas cap 12.5%" in out["saved"]
    stored = pool.get(f"/v1/miners/{miner}")["settings"]
    assert stored["mode"] == "push"
    assert stored["threshold"] == str(5 * 10**16)
    assert stored["gas_cap_bps"] == 1250
    assert stored["nonce"] == start["nonce"] + 1
    # Saved again from a fresh page: the page signs the next nonce, the service takes it.
    page = wallet_page(miner)
    open_miner(page, pool.url, miner)
    out = save_settings(page, mode="claim", threshold_eth="0.01", gas_cap_percent="0")
    assert out["result"] == "saved", out["text"]
    stored = pool.get(f"/v1/miners/{miner}")["settings"]
    assert (stored["mode"], stored["threshold"]) == ("claim", str(10**16))
    assert stored["nonce"] == start["nonce"] + 2


def test_real_service__connect_and_claim__pays_exactly_what_the_page_showed(wallet_page, pool):
    """Last: it empties the miner's leaf. Claims are sent by the miner itself, so its
    balance moves by the amount minus the gas it paid."""
    miner = pool.miners[0]
    page = wallet_page(miner)
    open_pool(page, pool.url)
    assert connect(page) == miner
    page.wait_for_url(f"**/#/miner/{miner}")
    page.wait_for_selector("#claim[data-wei]")
    before = pool.anvil.balance(miner)
    out = claim(page, timeout=60_000)
    assert out["result"] == "success", out["text"]
    assert out["shown_wei"] > 0
    tx_hash = next(link for e in out["log"] for link in e["links"] if "/tx/" in link)
    receipt = pool.anvil.receipt(tx_hash.rsplit("/", 1)[1])
    assert int(receipt["status"], 16) == 1
    assert receipt["to"].lower() == pool.contract.lower()
    gas_cost = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    assert pool.anvil.balance(miner) - before + gas_cost == out["shown_wei"]
    # The page then shows 0 claimable, as does the service.
    assert "Claimable now: 0 ETH" in out["text"], out["text"]
    assert page.locator("#claim").get_attribute("data-wei") == "0"
    assert page.locator("#claim").is_disabled()
    view = pool.get(f"/v1/miners/{miner}")
    assert view["balances"]["claimable"] == "0"
    assert view["balances"]["claimed"] == str(out["shown_wei"])
    assert not page.page_errors
