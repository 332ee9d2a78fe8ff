"""Suite-wide settings: hypothesis profiles.

`ape test --hypothesis-profile deep` runs the property and stateful tests ten times longer
than CI does (see README, "Tests").
"""

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
