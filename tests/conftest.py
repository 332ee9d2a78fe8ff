"""Suite-wide settings (hypothesis profiles), fresh process settings for every test, and
the role-named accounts every chain test shares: ape's test accounts 0–4 are the owner
(the pool operator), the poster, the guardian, the keeper and the pool's fee account.
The contract tests' attacker/funder/miners and the end-to-end miners stay in their
folders' conftests (they use different accounts).

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


#: Role name -> ape test account index, for every chain test (contracts, e2e, scripts).
ROLES = {"owner": 0, "poster": 1, "guardian": 2, "keeper": 3, "fee_account": 4}


def _role(name: str, index: int):
    @pytest.fixture(scope="session", name=name)
    def account(accounts):
        return accounts[index]

    account.__doc__ = f"ape test account {index}: the {name.replace('_', ' ')}"
    return account


owner, poster, guardian, keeper, fee_account = (_role(n, i) for n, i in ROLES.items())


@pytest.fixture(scope="session")
def operator(owner):
    """The pool operator owns the contract."""
    return owner


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Each test reads LIVEPOOL_* settings from its own environment, not a cached one."""
    from livepool.config import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
