"""One epoch's full cycle, end to end: close → propose → challenge window → accept → pay.

The pool's schedule strung together from :mod:`livepool.epochs` and
:mod:`livepool.operations`, for the demo (``scripts/demo.py``) and the end-to-end tests;
each step is the same function the scripts run, so the demo cannot drift from them. It
never imports ape: the caller passes how time moves (``wait``), since only a test or
demo chain can be told to skip the challenge window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from livepool import epochs, operations
from livepool.chain import Distributor, Sent
from livepool.ledger import Ledger

__all__ = ["EpochCycle", "run_cycle"]


@dataclass
class EpochCycle:
    """What one cycle did: the close, the proposal, the acceptance and the payouts."""

    closed: epochs.ClosedEpoch
    proposed: operations.ProposeOutcome
    accepted: Sent | None = None
    claims: list[tuple[str, Sent, int]] = field(default_factory=list)  # account, tx, wei
    pushed: operations.PushReport | None = None


def run_cycle(
    ledger: Ledger,
    distributor: Distributor,
    number: int,
    *,
    now: int,
    poster: Any,
    keeper: Any,
    wait: Callable[[int], None],
    claimers: Sequence[Any] = (),
) -> EpochCycle:
    """Close epoch ``number`` at ``now``, propose it (``poster``), ``wait`` out the
    challenge period, accept it and push due payouts (``keeper``); each of ``claimers``
    (accounts) claims its own balance from the epoch's tree in between."""
    closed = epochs.close_epoch(ledger, number, now=now)
    cycle = EpochCycle(closed, operations.propose_latest(ledger, distributor, poster))
    wait(distributor.challenge_period)
    _, cycle.accepted = operations.accept(ledger, distributor, keeper)
    tree = epochs.epoch_tree(ledger, number)
    for account in claimers:
        sent, paid = operations.claim(distributor, account, tree, account.address)
        cycle.claims.append((account.address, sent, paid))
    cycle.pushed = operations.push(ledger, distributor, keeper)
    return cycle
