# pragma version ~=0.4.3
"""
@title Test smart-contract wallet that needs more than 2,300 gas to receive ETH
@custom:contract-name SafeLikeWallet
@license MIT
@notice Like a Safe proxy: receiving ETH writes storage and emits an event, which the
        2,300-gas stipend of Solidity's `transfer` cannot pay for.
"""

# @dev Counts receipts so the receive path costs an SSTORE.
received: public(uint256)

event SafeReceived:
    sender: indexed(address)
    value: uint256


@external
@payable
def __default__():
    self.received += msg.value
    log SafeReceived(sender=msg.sender, value=msg.value)
