# pragma version ~=0.4.3
"""
@title Test receiver that burns all gas it is given
@custom:contract-name GasBurner
@license MIT
@notice Stands for a malicious recipient trying to grief a batch push.
"""

# @dev Written in a loop so every iteration costs a cold-ish SSTORE.
sink: public(uint256)


@external
@payable
def __default__():
    for i: uint256 in range(100_000):
        self.sink = i + 1
