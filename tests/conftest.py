"""Suite-wide settings (hypothesis profiles) and the role-named accounts every chain test
shares: ape's test accounts 0–3 are the owner (the pool operator), the poster, the
guardian and the keeper; each folder's conftest names the rest.

`ape test --hypothesis-profile deep` runs the property and stateful tests ten times longer
than CI does (see README, "Tests").
"""

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "deep",
    settings.get_profile("default"),
    max_examples=2_000,
)
settings.load_profile("default")


@pytest.fixture(scope="session")
def owner(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def poster(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def guardian(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def keeper(accounts):
    return accounts[3]


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Each test reads LIVEPOOL_* settings from its own environment, not a cached one."""
    from livepool.config import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
