# pragma version ~=0.4.3
"""
@title Test recipient that tries to claim again from inside its receive
@custom:contract-name ReentrantClaimer
@license MIT
@notice Proves `claim` cannot be re-entered: the inner call must revert, failing the outer.
"""

interface Distributor:
    def claim(account: address, cumulative: uint256, proof: DynArray[bytes32, 24]) -> uint256: nonpayable

# @dev The claim to replay on receive.
target: address
account: address
cumulative: uint256
proof: DynArray[bytes32, 24]


@external
def arm(target: address, account: address, cumulative: uint256, proof: DynArray[bytes32, 24]):
    """
    @notice Stores the claim to replay when ETH arrives.
    """
    self.target = target
    self.account = account
    self.cumulative = cumulative
    self.proof = proof


@external
@payable
def __default__():
    extcall Distributor(self.target).claim(self.account, self.cumulative, self.proof)
