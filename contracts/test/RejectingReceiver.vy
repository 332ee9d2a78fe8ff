# pragma version ~=0.4.3
"""
@title Test receiver that refuses ETH
@custom:contract-name RejectingReceiver
@license MIT
@notice Stands for a wallet that cannot take ETH; it can still set a recipient.
"""

interface Distributor:
    def set_recipient(recipient: address): nonpayable


@external
@payable
def __default__():
    raise "receiver: no ETH"


@external
def set_recipient_on(distributor: address, recipient: address):
    """
    @notice Asks the distributor to pay this contract's claims to `recipient`.
    """
    extcall Distributor(distributor).set_recipient(recipient)
