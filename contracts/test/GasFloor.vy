# pragma version ~=0.4.3
"""
@title Gas floor for the claim benchmark
@custom:contract-name GasFloor
@license MIT
@notice The least a claim can do: one `claimed` SSTORE and one ETH transfer, taking the
        same calldata as `LivepoolDistributor.claim`/`claim_many`. Not deployed in production.
"""

# @dev Mirrors the distributor's per-account state.
claimed: public(HashMap[address, uint256])


@external
@payable
def __default__():
    pass


@external
def claim(account: address, cumulative: uint256, proof: DynArray[bytes32, 24]) -> uint256:
    """
    @notice Stores the cumulative and pays it, no checks.
    """
    amount: uint256 = unsafe_sub(cumulative, self.claimed[account])
    self.claimed[account] = cumulative
    send(account, amount)
    return amount


@external
def claim_many(
    accounts: DynArray[address, 100],
    cumulatives: DynArray[uint256, 100],
    proofs: DynArray[DynArray[bytes32, 24], 100],
) -> uint256:
    """
    @notice The batch form of `claim`, no checks.
    """
    paid: uint256 = 0
    for i: uint256 in range(len(accounts), bound=100):
        amount: uint256 = unsafe_sub(cumulatives[i], self.claimed[accounts[i]])
        self.claimed[accounts[i]] = cumulatives[i]
        send(accounts[i], amount)
        paid = unsafe_add(paid, amount)
    return paid
