"""Fixtures for the dashboard's browser test: anvil, Debian's Chromium (never
`playwright install`), the built dashboard, and the fixture API standing in for the
service. ``page_for(base_url, wallet=...)`` opens a fresh page with the test wallet."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api

from .fixture_api import MINER, FixtureApi
from .helpers import (
    ANVIL_CHAIN_ID,
    CHROMIUM,
    CHROMIUM_ARGS,
    Anvil,
    ensure_built,
    install_wallet,
    run_anvil,
)


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    with run_anvil() as node:
        yield node


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser test drives Debian's Chromium; "
            "run `apt-get install chromium` (.ci/run does), never `playwright install`",
            pytrace=False,
        )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def dist():
    return ensure_built()


@pytest.fixture(scope="session")
def fixture_service(anvil: Anvil, dist) -> Iterator[FixtureApi]:
    with FixtureApi(anvil, dist, chain_id=ANVIL_CHAIN_ID) as api:
        yield api


@pytest.fixture
def fixture_api(fixture_service: FixtureApi) -> FixtureApi:
    """The fixture service, reset for this test (no earlier claims or settings)."""
    fixture_service.reset()
    return fixture_service


@pytest.fixture
def page_for(browser: Any, anvil: Anvil) -> Iterator[Callable[..., Any]]:
    """``page_for(wallet=MINER, width=1280, **wallet_options)`` → a fresh page; wallet=None
    opens one without any wallet. Every page is closed after the test."""
    contexts: list[Any] = []

    def make(wallet: str | None = MINER, width: int = 1280, **options: Any) -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(ctx)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.page_errors = errors  # type: ignore[attr-defined]
        if wallet:
            install_wallet(page, anvil.url, wallet, **options)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
