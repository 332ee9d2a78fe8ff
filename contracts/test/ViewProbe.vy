# pragma version ~=0.4.3
"""
@title Test recipient that reads the distributor's views while it is being paid
@custom:contract-name ViewProbe
@license MIT
@notice Logs what `funded()`, `surplus()` and `claimed(self)` say mid-batch (a log, not
        storage, so it fits in a push's 40,000-gas stipend).
"""

interface Distributor:
    def funded() -> uint256: view
    def surplus() -> uint256: view
    def claimed(account: address) -> uint256: view

event Seen:
    funded: uint256
    surplus: uint256
    claimed: uint256
    balance: uint256


@external
@payable
def __default__():
    d: Distributor = Distributor(msg.sender)
    log Seen(
        funded=staticcall d.funded(),
        surplus=staticcall d.surplus(),
        claimed=staticcall d.claimed(self),
        balance=msg.sender.balance,
    )
