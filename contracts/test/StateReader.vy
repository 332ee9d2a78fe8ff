# pragma version ~=0.4.3
"""
@title Reads a distributor's whole state in one call
@custom:contract-name StateReader
@license MIT
@notice Test-only: the stateful fuzzer checks its invariants after every step, and one
        `eth_call` on the in-process chain costs ~25 ms, so it reads everything at once.
"""

interface Distributor:
    def root() -> bytes32: view
    def epoch() -> uint256: view
    def total() -> uint256: view
    def pending_root() -> (bytes32, uint256, uint256, bytes32, uint256): view
    def paused() -> bool: view
    def owner() -> address: view
    def poster() -> address: view
    def guardian() -> address: view
    def keeper() -> address: view
    def challenge_period() -> uint256: view
    def recipient(account: address) -> address: view
    def funded() -> uint256: view
    def claimed(account: address) -> uint256: view


struct Snapshot:
    root: bytes32
    epoch: uint256
    total: uint256
    pending_root: bytes32
    pending_valid_at: uint256
    paused: bool
    owner: address
    poster: address
    guardian: address
    keeper: address
    challenge_period: uint256
    funded: uint256
    balance: uint256
    claimed: DynArray[uint256, 16]
    recipients: DynArray[address, 16]


@external
@view
def snapshot(distributor: address, accounts: DynArray[address, 16]) -> Snapshot:
    """
    @notice Every public fact of `distributor`, and `claimed` and `recipient` of each of `accounts`.
    """
    d: Distributor = Distributor(distributor)
    claimed: DynArray[uint256, 16] = []
    recipients: DynArray[address, 16] = []
    for account: address in accounts:
        claimed.append(staticcall d.claimed(account))
        recipients.append(staticcall d.recipient(account))
    pending: (bytes32, uint256, uint256, bytes32, uint256) = staticcall d.pending_root()
    return Snapshot(
        root=staticcall d.root(),
        epoch=staticcall d.epoch(),
        total=staticcall d.total(),
        pending_root=pending[0],
        pending_valid_at=pending[4],
        paused=staticcall d.paused(),
        owner=staticcall d.owner(),
        poster=staticcall d.poster(),
        guardian=staticcall d.guardian(),
        keeper=staticcall d.keeper(),
        challenge_period=staticcall d.challenge_period(),
        funded=staticcall d.funded(),
        balance=distributor.balance,
        claimed=claimed,
        recipients=recipients,
    )
