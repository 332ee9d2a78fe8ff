"""`livepool.chain.retrying`: transient RPC failures are retried with backoff, reverts and
other errors are not, and what finally fails is reported clearly."""

from __future__ import annotations

import pytest
from ape.exceptions import ContractLogicError, ProviderNotConnectedError

from livepool.chain import Distributor, retrying
from livepool.errors import ChainError


class Flaky:
    def __init__(self, failures: list[BaseException], result: str = "mined") -> None:
        self.failures = failures
        self.calls = 0
        self.result = result

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return self.result


def test_retrying__transient_errors__retried_with_backoff_then_succeed():
    waits: list[float] = []
    action = Flaky([ConnectionError("connection refused"), TimeoutError("read timed out")])
    assert retrying(action, what="propose", sleep=waits.append, base_delay=0.5) == "mined"
    assert action.calls == 3
    assert waits == [0.5, 1.0]


def test_retrying__node_never_answers__reports_after_attempts():
    waits: list[float] = []
    action = Flaky([ProviderNotConnectedError()] * 10)
    with pytest.raises(ChainError, match=r"^accept: the node did not answer after 3 attempts"):
        retrying(action, what="accept", attempts=3, sleep=waits.append)
    assert action.calls == 3
    assert waits == [0.5, 1.0]


def test_retrying__revert__not_retried():
    action = Flaky([ContractLogicError("distributor: root already pending")])
    with pytest.raises(ChainError, match="propose: reverted: distributor: root already pending"):
        retrying(action, what="propose", sleep=lambda _: pytest.fail("must not wait"))
    assert action.calls == 1


def test_retrying__other_error__not_retried():
    action = Flaky([OSError("permission denied on keystore")])
    with pytest.raises(ChainError, match="push: permission denied on keystore"):
        retrying(action, what="push", sleep=lambda _: pytest.fail("must not wait"))
    assert action.calls == 1


class RecordingContract:
    """Stands in for an ape contract: records the keyword arguments of each call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def revoke_pending_root(self, **kwargs: object) -> object:
        self.calls.append(kwargs)
        raise ContractLogicError("distributor: no pending root")  # no receipt needed here


@pytest.mark.parametrize(
    ("confirmations", "expected"), [(None, {}), (3, {"required_confirmations": 3})]
)
def test_distributor__confirmations__passed_to_every_transaction(confirmations, expected):
    contract = RecordingContract()
    distributor = Distributor(contract, confirmations=confirmations)
    with pytest.raises(ChainError, match="revoke: reverted: distributor: no pending root"):
        distributor.revoke("guardian")
    assert contract.calls == [{"sender": "guardian", **expected}]


def test_distributor__negative_confirmations__refused():
    with pytest.raises(ChainError, match="confirmations must be ≥ 0, got -1"):
        Distributor(RecordingContract(), confirmations=-1)
