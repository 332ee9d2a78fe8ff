# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Livepool cumulative Merkle distributor
@custom:contract-name LivepoolDistributor
@license MIT
@notice Holds the pool's ETH and pays each miner what a Merkle proof of their
        cumulative earnings says, minus what they already claimed. Each epoch the
        poster proposes a new root of (account, cumulative wei) leaves, exactly
        OpenZeppelin StandardMerkleTree's for ["address", "uint256"]; after a
        challenge window anyone may accept it. Miners claim from their wallet
        (`claim`), or the pool's keeper pushes to many at once (`claim_many`).
@custom:security Trusts neither the poster nor the owner with miners' money:
        - a root takes effect only after `challenge_period`, fixed when it is
          proposed, during which the guardian (or owner) can revoke it; the poster
          cannot overwrite a pending root;
        - a root whose total exceeds everything the contract has ever held
          (`total_claimed + balance`) can be neither proposed nor accepted;
        - the owner can withdraw only the surplus above outstanding liabilities;
        - claims are checks-effects-interactions under `@nonreentrant`; pushes in
          `claim_many` carry a bounded gas stipend and never revert the batch.
        It trusts the guardian to watch pending roots (auditors recompute them from
        the published statement whose keccak is `data_hash`) and the owner to set roles.
@custom:kill The guardian or owner calls `pause()`: claims, pushes, proposals and
        acceptances stop; funding and the owner's recovery of surplus do not.
        The owner lifts it with `unpause()`.
"""


# @dev Owner role with two-step transfer; `renounce_ownership` is not exported,
# so the contract can never be left without someone able to set roles or unpause.
from snekmate.auth import ownable
initializes: ownable

# @dev Two-step ownership transfer on top of `ownable`.
from snekmate.auth import ownable_2step
initializes: ownable_2step[ownable := ownable]

# @dev The kill switch: `paused` and the `Paused`/`Unpaused` events.
from snekmate.utils import pausable
initializes: pausable

# @dev OpenZeppelin-compatible sorted-pair Merkle proof verification (no storage).
from snekmate.utils import merkle_proof_verification


exports: (
    ownable_2step.owner,
    ownable_2step.pending_owner,
    ownable_2step.transfer_ownership,
    ownable_2step.accept_ownership,
    pausable.paused,
)


# CONSTANTS #

# @dev Deepest proof accepted: 2**24 (16.7 M) miners is far beyond any pool. Vyper copies
# array arguments into fixed-size memory frames, so every bound here costs gas.
MAX_PROOF_DEPTH: constant(uint256) = 24
# @dev Largest `claim_many` batch. Its proofs' frame (bound x depth words) is paid as memory
# expansion on every batch: 256 cost ~185k gas per call, 100 costs ~22k (bench/gas.py).
MAX_BATCH: constant(uint256) = 100
# @dev Gas forwarded with each push in `claim_many`: enough for a Safe proxy's receive
# (delegatecall + event, under 10k), too little for a recipient to grief the batch.
PUSH_GAS: constant(uint256) = 40_000
# @dev Longest challenge window the owner may set, so a typo cannot freeze payouts.
MAX_CHALLENGE_PERIOD: constant(uint256) = 30 * 86_400


# STRUCTS #

struct PendingRoot:
    root: bytes32
    epoch: uint256
    total: uint256
    data_hash: bytes32
    valid_at: uint256


# STORAGE #

# @dev Active Merkle root of (account, cumulative) leaves; claims verify against it.
root: public(bytes32)
# @dev Epoch number of the active root; every proposal must exceed it.
epoch: public(uint256)
# @dev Sum of all cumulative amounts in the active root: the contract's total promise.
total: public(uint256)
# @dev keccak256 of the published statement the active root was built from.
data_hash: public(bytes32)
# @dev The proposed root waiting out its challenge window (root == 0: none pending).
pending_root: public(PendingRoot)
# @dev Cumulative wei already paid out per account; a claim pays the difference.
claimed: public(HashMap[address, uint256])
# @dev Sum of `claimed`: with the balance, what the contract has ever held for miners.
total_claimed: public(uint256)
# @dev Where an account's payouts go instead of the account (0: the account itself).
recipient: public(HashMap[address, address])
# @dev Seconds a proposed root waits before it can be accepted.
challenge_period: public(uint256)
# @dev The only account allowed to propose roots (the accountant's hot key).
poster: public(address)
# @dev May revoke a pending root and pause (a cold key or a watcher's multisig).
guardian: public(address)


# EVENTS #

event Funded:
    sender: indexed(address)
    amount: uint256

event RootProposed:
    epoch: indexed(uint256)
    root: bytes32
    total: uint256
    data_hash: bytes32
    valid_at: uint256

event RootAccepted:
    epoch: indexed(uint256)
    root: bytes32
    total: uint256
    data_hash: bytes32

event RootRevoked:
    epoch: indexed(uint256)
    root: bytes32
    by: indexed(address)

event Claimed:
    account: indexed(address)
    recipient: indexed(address)
    amount: uint256
    cumulative: uint256

event PayoutFailed:
    account: indexed(address)
    recipient: indexed(address)
    amount: uint256

event RecipientSet:
    account: indexed(address)
    recipient: indexed(address)

event PosterSet:
    old_poster: indexed(address)
    new_poster: indexed(address)

event GuardianSet:
    old_guardian: indexed(address)
    new_guardian: indexed(address)

event ChallengePeriodSet:
    old_period: uint256
    new_period: uint256

event SurplusWithdrawn:
    to: indexed(address)
    amount: uint256


@deploy
@payable
def __init__(poster: address, guardian: address, challenge_period: uint256):
    """
    @notice Deploys the distributor; the deployer becomes the owner.
    @param poster The account that proposes roots.
    @param guardian The account that may revoke pending roots and pause.
    @param challenge_period Seconds between proposal and earliest acceptance.
    """
    ownable.__init__()
    ownable_2step.__init__()
    pausable.__init__()
    assert poster != empty(address), "distributor: zero poster"
    assert guardian != empty(address), "distributor: zero guardian"
    assert challenge_period <= MAX_CHALLENGE_PERIOD, "distributor: challenge period too long"
    self.poster = poster
    self.guardian = guardian
    self.challenge_period = challenge_period
    log PosterSet(old_poster=empty(address), new_poster=poster)
    log GuardianSet(old_guardian=empty(address), new_guardian=guardian)
    log ChallengePeriodSet(old_period=0, new_period=challenge_period)
    if msg.value > 0:
        log Funded(sender=msg.sender, amount=msg.value)


@external
@payable
def __default__():
    """
    @notice Anyone may fund the pool by sending ETH (the operator's fee withdrawals).
    """
    log Funded(sender=msg.sender, amount=msg.value)


# ROOTS #

@external
def propose_root(root: bytes32, epoch: uint256, total: uint256, data_hash: bytes32):
    """
    @notice Proposes the root of an epoch; it can be accepted after the challenge window.
    @dev The acceptance time is fixed now, and a pending root cannot be replaced: it must
         be accepted or revoked first, so a poster cannot keep resetting the window.
    @param root Merkle root of (account, cumulative) leaves.
    @param epoch Epoch number; must exceed the active root's (any, for the first root).
    @param total Sum of all cumulative amounts; at least the active total, at most funded.
    @param data_hash keccak256 of the published statement.
    """
    pausable._require_not_paused()
    assert msg.sender == self.poster, "distributor: caller is not the poster"
    assert self.pending_root.root == empty(bytes32), "distributor: root already pending"
    assert root != empty(bytes32), "distributor: empty root"
    # The first root may carry any epoch number (0 included: epochs count from genesis).
    assert epoch > self.epoch or self.root == empty(bytes32), "distributor: epoch not increasing"
    assert total >= self.total, "distributor: total decreasing"
    assert total <= self._funded(), "distributor: insolvent root"
    valid_at: uint256 = block.timestamp + self.challenge_period
    self.pending_root = PendingRoot(
        root=root, epoch=epoch, total=total, data_hash=data_hash, valid_at=valid_at
    )
    log RootProposed(epoch=epoch, root=root, total=total, data_hash=data_hash, valid_at=valid_at)


@external
def accept_root():
    """
    @notice Makes the pending root active once its challenge window has passed.
    @dev Anyone may call; solvency is checked again, since funds may have left meanwhile.
    """
    pausable._require_not_paused()
    pending: PendingRoot = self.pending_root
    assert pending.root != empty(bytes32), "distributor: no pending root"
    assert block.timestamp >= pending.valid_at, "distributor: challenge window open"
    assert pending.total <= self._funded(), "distributor: insolvent root"
    self.root = pending.root
    self.epoch = pending.epoch
    self.total = pending.total
    self.data_hash = pending.data_hash
    self.pending_root = empty(PendingRoot)
    log RootAccepted(
        epoch=pending.epoch, root=pending.root, total=pending.total, data_hash=pending.data_hash
    )


@external
def revoke_pending_root():
    """
    @notice Discards the pending root (guardian or owner), e.g. when an audit fails.
    """
    assert msg.sender == self.guardian or msg.sender == ownable.owner, (
        "distributor: caller is not the guardian"
    )
    pending: PendingRoot = self.pending_root
    assert pending.root != empty(bytes32), "distributor: no pending root"
    self.pending_root = empty(PendingRoot)
    log RootRevoked(epoch=pending.epoch, root=pending.root, by=msg.sender)


# CLAIMS #

@external
@nonreentrant
def claim(account: address, cumulative: uint256, proof: DynArray[bytes32, MAX_PROOF_DEPTH]) -> uint256:
    """
    @notice Pays `account` (or its recipient) its cumulative earnings minus what it has
            already claimed. Anyone may call on behalf of any account.
    @dev Forwards all gas to the recipient so smart-contract wallets can receive;
         reentrancy is closed by `@nonreentrant` and by updating state first.
    @param account The leaf's account.
    @param cumulative The leaf's cumulative amount in wei.
    @param proof Sibling hashes from the leaf to the active root.
    @return uint256 The amount paid in wei.
    """
    pausable._require_not_paused()
    amount: uint256 = self._due(account, cumulative, proof)
    assert amount != 0, "distributor: nothing to claim"
    self.claimed[account] = cumulative
    self.total_claimed += amount
    to: address = self._recipient_of(account)
    raw_call(to, b"", value=amount)
    log Claimed(account=account, recipient=to, amount=amount, cumulative=cumulative)
    return amount


@external
@nonreentrant
def claim_many(
    accounts: DynArray[address, MAX_BATCH],
    cumulatives: DynArray[uint256, MAX_BATCH],
    proofs: DynArray[DynArray[bytes32, MAX_PROOF_DEPTH], MAX_BATCH],
) -> uint256:
    """
    @notice Pushes payouts to many accounts at once (the pool's keeper). A recipient
            that rejects ETH or runs out of the bounded gas does not stop the batch:
            its balance stays claimable and `PayoutFailed` says so. An account with
            nothing due (it claimed meanwhile) is skipped.
    @param accounts The leaves' accounts.
    @param cumulatives The leaves' cumulative amounts, one per account.
    @param proofs One proof per account against the active root.
    @return uint256 The total paid in wei.
    """
    pausable._require_not_paused()
    n: uint256 = len(accounts)
    assert len(cumulatives) == n and len(proofs) == n, "distributor: length mismatch"
    paid: uint256 = 0
    for i: uint256 in range(n, bound=MAX_BATCH):
        account: address = accounts[i]
        cumulative: uint256 = cumulatives[i]
        amount: uint256 = self._due(account, cumulative, proofs[i])
        if amount == 0:
            continue
        to: address = self._recipient_of(account)
        # Effects before the interaction; undone below if the transfer fails.
        self.claimed[account] = cumulative
        ok: bool = raw_call(to, b"", value=amount, gas=PUSH_GAS, revert_on_failure=False)
        if ok:
            paid += amount
            log Claimed(account=account, recipient=to, amount=amount, cumulative=cumulative)
        else:
            self.claimed[account] = cumulative - amount
            log PayoutFailed(account=account, recipient=to, amount=amount)
    self.total_claimed += paid
    return paid


@external
def set_recipient(recipient: address):
    """
    @notice Sends the caller's future payouts to `recipient` (zero: back to the caller),
            for accounts that cannot receive ETH themselves.
    @param recipient The address to receive the caller's payouts.
    """
    self.recipient[msg.sender] = recipient
    log RecipientSet(account=msg.sender, recipient=recipient)


# ADMIN #

@external
def set_poster(new_poster: address):
    """
    @notice Replaces the poster (owner only).
    @param new_poster The new poster.
    """
    ownable._check_owner()
    assert new_poster != empty(address), "distributor: zero poster"
    log PosterSet(old_poster=self.poster, new_poster=new_poster)
    self.poster = new_poster


@external
def set_guardian(new_guardian: address):
    """
    @notice Replaces the guardian (owner only).
    @param new_guardian The new guardian.
    """
    ownable._check_owner()
    assert new_guardian != empty(address), "distributor: zero guardian"
    log GuardianSet(old_guardian=self.guardian, new_guardian=new_guardian)
    self.guardian = new_guardian


@external
def set_challenge_period(new_period: uint256):
    """
    @notice Sets the challenge window of future proposals (owner only); a pending
            root keeps the time fixed when it was proposed.
    @param new_period Seconds, at most 30 days.
    """
    ownable._check_owner()
    assert new_period <= MAX_CHALLENGE_PERIOD, "distributor: challenge period too long"
    log ChallengePeriodSet(old_period=self.challenge_period, new_period=new_period)
    self.challenge_period = new_period


@external
def pause():
    """
    @notice Stops claims, pushes, proposals and acceptances (guardian or owner).
    """
    assert msg.sender == self.guardian or msg.sender == ownable.owner, (
        "distributor: caller is not the guardian"
    )
    pausable._pause()


@external
def unpause():
    """
    @notice Lifts the pause (owner only).
    """
    ownable._check_owner()
    pausable._unpause()


@external
@nonreentrant
def withdraw_surplus(to: address, amount: uint256):
    """
    @notice Sends ETH above outstanding liabilities to `to` (owner only). Liabilities
            are the larger of the active and pending totals, minus what was claimed:
            the owner can never take miners' money.
    @param to The receiver of the surplus.
    @param amount Wei to send; at most `surplus()`.
    """
    ownable._check_owner()
    assert to != empty(address), "distributor: zero address"
    assert amount <= self._surplus(), "distributor: amount exceeds surplus"
    raw_call(to, b"", value=amount)
    log SurplusWithdrawn(to=to, amount=amount)


# VIEWS #

@external
@view
def surplus() -> uint256:
    """
    @notice ETH the owner may withdraw: balance above outstanding liabilities.
    @return uint256 Wei.
    """
    return self._surplus()


@external
@view
def funded() -> uint256:
    """
    @notice Everything the contract holds or has paid to miners (`total_claimed + balance`):
            the ceiling for a root's total.
    @return uint256 Wei.
    """
    return self._funded()


@external
@view
def claimable(account: address, cumulative: uint256, proof: DynArray[bytes32, MAX_PROOF_DEPTH]) -> uint256:
    """
    @notice What `claim` would pay now for this leaf (0 if nothing is due).
    @dev Reverts on a wrong proof, like `claim`.
    @param account The leaf's account.
    @param cumulative The leaf's cumulative amount in wei.
    @param proof Sibling hashes from the leaf to the active root.
    @return uint256 Wei.
    """
    return self._due(account, cumulative, proof)


@external
@pure
def leaf(account: address, cumulative: uint256) -> bytes32:
    """
    @notice The Merkle leaf of (account, cumulative), as OpenZeppelin's StandardMerkleTree
            hashes ["address", "uint256"]: keccak256(keccak256(abi.encode(...))).
    @param account The account.
    @param cumulative The cumulative amount in wei.
    @return bytes32 The leaf hash.
    """
    return self._leaf(account, cumulative)


# INTERNAL #

@internal
@view
def _due(account: address, cumulative: uint256, proof: DynArray[bytes32, MAX_PROOF_DEPTH]) -> uint256:
    # Reverts on a bad proof; returns 0 when the leaf is already fully claimed.
    assert self._process_proof(proof, self._leaf(account, cumulative)) == self.root, (
        "distributor: invalid proof"
    )
    already: uint256 = self.claimed[account]
    if cumulative <= already:
        return 0
    # Cannot underflow: cumulative > already.
    return unsafe_sub(cumulative, already)


@internal
@pure
def _process_proof(proof: DynArray[bytes32, MAX_PROOF_DEPTH], leaf: bytes32) -> bytes32:
    # snekmate's `_process_proof`, bounded by MAX_PROOF_DEPTH instead of 255: its
    # 255-word frame alone cost ~14k gas of memory expansion per claim (bench/gas.py).
    # tests/contracts/test_proof_parity.py checks the two agree on random trees.
    node: bytes32 = leaf
    for sibling: bytes32 in proof:
        if convert(node, uint256) < convert(sibling, uint256):
            node = keccak256(concat(node, sibling))
        else:
            node = keccak256(concat(sibling, node))
    return node


@internal
@pure
def _leaf(account: address, cumulative: uint256) -> bytes32:
    return keccak256(keccak256(abi_encode(account, cumulative)))


@internal
@view
def _recipient_of(account: address) -> address:
    to: address = self.recipient[account]
    if to == empty(address):
        return account
    return to


@internal
@view
def _funded() -> uint256:
    return self.total_claimed + self.balance


@internal
@view
def _surplus() -> uint256:
    promised: uint256 = max(self.total, self.pending_root.total)
    if promised <= self.total_claimed:
        return self.balance
    # Cannot underflow: promised > total_claimed.
    liabilities: uint256 = unsafe_sub(promised, self.total_claimed)
    if self.balance <= liabilities:
        return 0
    # Cannot underflow: balance > liabilities.
    return unsafe_sub(self.balance, liabilities)
