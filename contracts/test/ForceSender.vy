# pragma version ~=0.4.3
"""
@title Test contract that forces ETH into an address with SELFDESTRUCT
@custom:contract-name ForceSender
@license MIT
@notice Stands for ETH that arrives without a call (no `__default__`, no `Funded` event).
"""


@external
@payable
def force(target: address):
    """
    @notice Sends this contract's whole balance to `target` without calling it.
    """
    selfdestruct(target)
