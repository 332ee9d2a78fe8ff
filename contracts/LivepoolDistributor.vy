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
@custom:security What each role can do, and how fast (docs/trust-model.md):
        - poster: proposes a root; it pays nothing until one challenge window has
          passed, counted in unpaused time from the proposal, and it cannot be
          overwritten while pending. A pending root expires `ROOT_EXPIRY` after it
          became valid. Its epoch rises by at most `MAX_EPOCH_STEP`.
        - guardian (or owner): revokes the pending root and pauses. The guardian
          cannot be replaced while a root is pending, so the guardian in office when
          a window began can revoke it until it is accepted.
        - owner: sets poster (which revokes the pending root), guardian (only while
          nothing is pending), keeper, and the challenge period, never below the
          immutable `MIN_CHALLENGE_PERIOD` fixed at deploy; withdraws only what
          `funded()` holds above the larger of the active and pending totals; pauses
          and unpauses (a pause stops the window's clock). So no owner or poster
          action pays anyone faster than one challenge window after a root is
          proposed; during it miners can claim from the active root.
        - keeper: may pay a miner's balance to the recipient that miner chose; a
          stranger may only pay a miner's balance to the miner's own address.
        - anyone: accepts a ripe root; claims or pushes a leaf to its account.
        What it does NOT protect: the owner or a poster+guardian acting together can
        post a root that pays themselves after one window (miners keep what they
        claimed from the active root before it); the owner or guardian can pause
        indefinitely (money stays, nobody is paid). Earnings not yet in an accepted
        root are the accountant's promise only. ETH forced in without a call
        (SELFDESTRUCT, a bridge deposit to this address) is not counted in `funded()`:
        it can be neither promised nor withdrawn.
@custom:kill The guardian or owner calls `pause()`: claims, pushes, proposals and
        acceptances stop, and the pending root's challenge clock stops with them;
        funding and the owner's recovery of surplus do not. The owner lifts it with
        `unpause()`, which moves the pending root's `valid_at` by the paused time.
"""


# @dev Owner role with two-step transfer; `renounce_ownership` is not exported,
# so the contract can never be left without someone able to set roles or unpause.
from snekmate.auth import ownable
initializes: ownable

# @dev Two-step ownership transfer on top of `ownable`.
from snekmate.auth import ownable_2step
initializes: ownable_2step[ownable := ownable]

# @dev The kill switch: `paused` and the `Paused`/`Unpaused` events. Claims do not
# read its flag: pausing also clears `_live_root`, which every claim reads anyway.
from snekmate.utils import pausable
initializes: pausable

# @dev snekmate's `merkle_proof_verification` is not imported: its `_verify` takes a
# 255-word proof frame whose memory costs ~5,000 gas per claim. `_process_proof` below
# is the same sorted-pair loop bounded by `MAX_PROOF_DEPTH`; the test
# `test_proof_loop__agrees_with_snekmate_on_random_trees` (tests/contracts/
# test_oz_interop.py) checks both agree, using snekmate's module in contracts/test/.


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
# @dev A pending root not accepted within this time after `valid_at` can no longer be
# accepted, and the poster may replace it: a stale root cannot be slipped in later.
ROOT_EXPIRY: constant(uint256) = 7 * 86_400
# @dev Largest rise of the epoch number per root, so no root can use up the epochs.
MAX_EPOCH_STEP: constant(uint256) = 1_000_000
# @dev Cumulatives and `claimed` live in the low 96 bits of an account's slot (the
# recipient in the high 160): 2**96 wei is 79 billion ETH.
CLAIMED_BITS: constant(uint256) = 96
MAX_CUMULATIVE: constant(uint256) = 2**96 - 1


# IMMUTABLES #

# @dev The shortest challenge window the owner can ever set: the time every holder of
# an active-root balance has to claim it before any root that could lower it goes live.
MIN_CHALLENGE_PERIOD: public(immutable(uint256))


# STRUCTS #

struct PendingRoot:
    root: bytes32
    epoch: uint256
    total: uint256
    data_hash: bytes32
    valid_at: uint256


# STORAGE #

# @dev Active Merkle root of (account, cumulative) leaves.
root: public(bytes32)
# @dev The root claims verify against: `root`, or zero while paused (saves reading the
# pause flag on every claim: ~2,100 gas).
_live_root: bytes32
# @dev Epoch number of the active root; every proposal must exceed it.
epoch: public(uint256)
# @dev Sum of all cumulative amounts in the active root: the contract's total promise.
total: public(uint256)
# @dev keccak256 of the published statement the active root was built from.
data_hash: public(bytes32)
# @dev The proposed root waiting out its challenge window (root == 0: none pending).
pending_root: public(PendingRoot)
# @dev Per account: recipient << 96 | claimed. One slot, so a claim reads and writes one.
_accounts: HashMap[address, uint256]
# @dev ETH paid in through calls (deploy value, `__default__`) minus surplus withdrawn:
# the ceiling for a root's total. Claims do not change it.
_funded: uint256
# @dev Seconds a proposed root waits before it can be accepted (>= MIN_CHALLENGE_PERIOD).
challenge_period: public(uint256)
# @dev The only account allowed to propose roots (the accountant's hot key).
poster: public(address)
# @dev May revoke a pending root and pause (a cold key or a watcher's multisig).
guardian: public(address)
# @dev May pay miners' balances to the recipients they set (the pool's push key).
keeper: public(address)
# @dev When the current pause began: `unpause` moves the pending root's time by the pause.
_paused_at: uint256


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
    total: uint256
    data_hash: bytes32
    by: indexed(address)

event RootDelayed:
    epoch: indexed(uint256)
    root: bytes32
    valid_at: uint256

event Claimed:
    account: indexed(address)
    recipient: indexed(address)
    caller: address
    amount: uint256
    cumulative: uint256

event PayoutFailed:
    account: indexed(address)
    recipient: indexed(address)
    amount: uint256
    gas: uint256

event RecipientSet:
    account: indexed(address)
    previous: address
    recipient: indexed(address)

event PosterSet:
    old_poster: indexed(address)
    new_poster: indexed(address)

event GuardianSet:
    old_guardian: indexed(address)
    new_guardian: indexed(address)

event KeeperSet:
    old_keeper: indexed(address)
    new_keeper: indexed(address)

event ChallengePeriodSet:
    old_period: uint256
    new_period: uint256

event SurplusWithdrawn:
    to: indexed(address)
    amount: uint256


@deploy
@payable
def __init__(
    poster: address, guardian: address, challenge_period: uint256, min_challenge_period: uint256
):
    """
    @notice Deploys the distributor; the deployer becomes the owner (and sets the keeper).
    @param poster The account that proposes roots.
    @param guardian The account that may revoke pending roots and pause.
    @param challenge_period Seconds between proposal and earliest acceptance.
    @param min_challenge_period The floor the owner can never set the period below
           (immutable; at least 1 s: seconds for a demo, days on mainnet).
    """
    ownable.__init__()
    ownable_2step.__init__()
    pausable.__init__()
    assert poster != empty(address), "distributor: zero poster"
    assert guardian != empty(address), "distributor: zero guardian"
    assert min_challenge_period != 0, "distributor: zero minimum challenge period"
    assert challenge_period >= min_challenge_period, "distributor: challenge period too short"
    assert challenge_period <= MAX_CHALLENGE_PERIOD, "distributor: challenge period too long"
    MIN_CHALLENGE_PERIOD = min_challenge_period
    self.poster = poster
    self.guardian = guardian
    self.challenge_period = challenge_period
    log PosterSet(old_poster=empty(address), new_poster=poster)
    log GuardianSet(old_guardian=empty(address), new_guardian=guardian)
    log ChallengePeriodSet(old_period=0, new_period=challenge_period)
    if msg.value > 0:
        self._funded = msg.value
        log Funded(sender=msg.sender, amount=msg.value)


@external
@payable
def __default__():
    """
    @notice Anyone may fund the pool by sending ETH with empty calldata. A call with
            calldata (an unknown function, a wrong ABI) reverts instead of funding.
    """
    assert len(msg.data) == 0, "distributor: unknown function"
    self._funded += msg.value
    log Funded(sender=msg.sender, amount=msg.value)


# ROOTS #

@external
def propose_root(root: bytes32, epoch: uint256, total: uint256, data_hash: bytes32):
    """
    @notice Proposes the root of an epoch; it can be accepted after the challenge window.
    @dev The acceptance time is fixed now, and a pending root cannot be replaced until it
         is accepted, revoked or expired, so a poster cannot keep resetting the window.
    @param root Merkle root of (account, cumulative) leaves.
    @param epoch Epoch number; above the active root's by at most MAX_EPOCH_STEP (the
           first root: at most MAX_EPOCH_STEP).
    @param total Sum of all cumulative amounts; at least the active total, at most funded.
    @param data_hash keccak256 of the published statement.
    """
    pausable._require_not_paused()
    assert msg.sender == self.poster, "distributor: caller is not the poster"
    pending: PendingRoot = self.pending_root
    if pending.root != empty(bytes32):
        assert block.timestamp >= pending.valid_at + ROOT_EXPIRY, (
            "distributor: root already pending"
        )
        log RootRevoked(
            epoch=pending.epoch,
            root=pending.root,
            total=pending.total,
            data_hash=pending.data_hash,
            by=msg.sender,
        )
    assert root != empty(bytes32), "distributor: empty root"
    # The first root may carry any epoch number up to the step (0 included: epochs count
    # from genesis).
    assert epoch > self.epoch or self.root == empty(bytes32), "distributor: epoch not increasing"
    assert epoch <= self.epoch + MAX_EPOCH_STEP, "distributor: epoch step too large"
    assert total >= self.total, "distributor: total decreasing"
    assert total <= self._funded, "distributor: insolvent root"
    valid_at: uint256 = block.timestamp + self.challenge_period
    self.pending_root = PendingRoot(
        root=root, epoch=epoch, total=total, data_hash=data_hash, valid_at=valid_at
    )
    log RootProposed(epoch=epoch, root=root, total=total, data_hash=data_hash, valid_at=valid_at)


@external
@nonreentrant
def accept_root():
    """
    @notice Makes the pending root active once its challenge window has passed and
            before it expires (`ROOT_EXPIRY` after `valid_at`).
    @dev Anyone may call; solvency is checked again, since funds may have left meanwhile.
    """
    pausable._require_not_paused()
    pending: PendingRoot = self.pending_root
    assert pending.root != empty(bytes32), "distributor: no pending root"
    assert block.timestamp >= pending.valid_at, "distributor: challenge window open"
    assert block.timestamp < pending.valid_at + ROOT_EXPIRY, "distributor: pending root expired"
    assert pending.total <= self._funded, "distributor: insolvent root"
    self.root = pending.root
    self._live_root = pending.root
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
    assert self.pending_root.root != empty(bytes32), "distributor: no pending root"
    self._revoke(msg.sender)


# CLAIMS #

@external
@nonreentrant
def claim(
    account: address, cumulative: uint256, proof: DynArray[bytes32, MAX_PROOF_DEPTH]
) -> uint256:
    """
    @notice Pays `account` its cumulative earnings minus what it has already claimed.
            Anyone may call to pay the account itself; when the account has set a
            recipient, only the account or the keeper may call (a stranger must not
            choose when a payout goes to a recipient the account may be leaving).
    @dev Forwards all gas to the recipient so smart-contract wallets can receive;
         reentrancy is closed by `@nonreentrant` and by updating state first.
    @param account The leaf's account.
    @param cumulative The leaf's cumulative amount in wei.
    @param proof Sibling hashes from the leaf to the active root.
    @return uint256 The amount paid in wei.
    """
    slot: uint256 = self._accounts[account]
    amount: uint256 = self._due(account, cumulative, proof, slot, self._live_root)
    assert amount != 0, "distributor: nothing to claim"
    to: address = self._payee(account, slot)
    # cumulative <= MAX_CUMULATIVE (checked in _due): it fits the low 96 bits.
    self._accounts[account] = (slot >> CLAIMED_BITS << CLAIMED_BITS) | cumulative
    raw_call(to, b"", value=amount)
    log Claimed(
        account=account, recipient=to, caller=msg.sender, amount=amount, cumulative=cumulative
    )
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
            its balance stays claimable and `PayoutFailed` says so, with the gas its
            item used. An account with nothing due (it claimed meanwhile) is skipped.
            The recipient rule of `claim` applies to every item.
    @param accounts The leaves' accounts.
    @param cumulatives The leaves' cumulative amounts, one per account.
    @param proofs One proof per account against the active root.
    @return uint256 The total paid in wei.
    """
    n: uint256 = len(accounts)
    assert len(cumulatives) == n and len(proofs) == n, "distributor: length mismatch"
    live_root: bytes32 = self._live_root
    paid: uint256 = 0
    for i: uint256 in range(n, bound=MAX_BATCH):
        start: uint256 = msg.gas
        account: address = accounts[i]
        cumulative: uint256 = cumulatives[i]
        slot: uint256 = self._accounts[account]
        amount: uint256 = self._due(account, cumulative, proofs[i], slot, live_root)
        if amount == 0:
            continue
        to: address = self._payee(account, slot)
        # Effects before the interaction; undone below if the transfer fails.
        self._accounts[account] = (slot >> CLAIMED_BITS << CLAIMED_BITS) | cumulative
        ok: bool = raw_call(to, b"", value=amount, gas=PUSH_GAS, revert_on_failure=False)
        if ok:
            # Cannot overflow: the sum of amounts paid is at most the contract's balance.
            paid = unsafe_add(paid, amount)
            log Claimed(
                account=account,
                recipient=to,
                caller=msg.sender,
                amount=amount,
                cumulative=cumulative,
            )
        else:
            self._accounts[account] = slot
            log PayoutFailed(account=account, recipient=to, amount=amount, gas=start - msg.gas)
    return paid


@external
def set_recipient(recipient: address):
    """
    @notice Sends the caller's future payouts to `recipient` (zero: back to the caller),
            for accounts that cannot receive ETH themselves. Once set, only the caller
            or the keeper can trigger a payout to it.
    @param recipient The address to receive the caller's payouts; not this contract.
    """
    assert recipient != self, "distributor: recipient is the distributor"
    slot: uint256 = self._accounts[msg.sender]
    previous: address = convert(slot >> CLAIMED_BITS, address)
    self._accounts[msg.sender] = (convert(recipient, uint256) << CLAIMED_BITS) | (
        slot & MAX_CUMULATIVE
    )
    log RecipientSet(account=msg.sender, previous=previous, recipient=recipient)


# ADMIN #

@external
def set_poster(new_poster: address):
    """
    @notice Replaces the poster (owner only) and revokes the pending root, if any: a
            rotated key leaves nothing behind that it proposed.
    @param new_poster The new poster.
    """
    ownable._check_owner()
    assert new_poster != empty(address), "distributor: zero poster"
    if self.pending_root.root != empty(bytes32):
        self._revoke(msg.sender)
    log PosterSet(old_poster=self.poster, new_poster=new_poster)
    self.poster = new_poster


@external
def set_guardian(new_guardian: address):
    """
    @notice Replaces the guardian (owner only), only while no root is pending: the
            guardian in office when a window began keeps it to the end.
    @param new_guardian The new guardian.
    """
    ownable._check_owner()
    assert new_guardian != empty(address), "distributor: zero guardian"
    assert self.pending_root.root == empty(bytes32), "distributor: root pending"
    log GuardianSet(old_guardian=self.guardian, new_guardian=new_guardian)
    self.guardian = new_guardian


@external
def set_keeper(new_keeper: address):
    """
    @notice Names the keeper (owner only; zero: none), who may push balances to the
            recipients miners set. It can choose when, never where, money goes.
    @param new_keeper The new keeper.
    """
    ownable._check_owner()
    log KeeperSet(old_keeper=self.keeper, new_keeper=new_keeper)
    self.keeper = new_keeper


@external
def set_challenge_period(new_period: uint256):
    """
    @notice Sets the challenge window of future proposals (owner only), between the
            immutable floor and 30 days; a pending root keeps the time fixed when it
            was proposed.
    @param new_period Seconds.
    """
    ownable._check_owner()
    assert new_period >= MIN_CHALLENGE_PERIOD, "distributor: challenge period too short"
    assert new_period <= MAX_CHALLENGE_PERIOD, "distributor: challenge period too long"
    log ChallengePeriodSet(old_period=self.challenge_period, new_period=new_period)
    self.challenge_period = new_period


@external
def pause():
    """
    @notice Stops claims, pushes, proposals and acceptances, and the pending root's
            challenge clock (guardian or owner).
    """
    assert msg.sender == self.guardian or msg.sender == ownable.owner, (
        "distributor: caller is not the guardian"
    )
    pausable._pause()
    self._live_root = empty(bytes32)
    self._paused_at = block.timestamp


@external
def unpause():
    """
    @notice Lifts the pause (owner only); the pending root's `valid_at` moves by the
            time paused, so its window is never shortened by a pause.
    """
    ownable._check_owner()
    pausable._unpause()
    self._live_root = self.root
    if self.pending_root.root != empty(bytes32):
        valid_at: uint256 = self.pending_root.valid_at + (block.timestamp - self._paused_at)
        self.pending_root.valid_at = valid_at
        log RootDelayed(
            epoch=self.pending_root.epoch, root=self.pending_root.root, valid_at=valid_at
        )


@external
@nonreentrant
def withdraw_surplus(to: address, amount: uint256):
    """
    @notice Sends ETH above outstanding promises to `to` (owner only): at most
            `funded()` minus the larger of the active and pending totals.
    @param to The receiver of the surplus.
    @param amount Wei to send; at most `surplus()`.
    """
    ownable._check_owner()
    assert to != empty(address), "distributor: zero address"
    assert amount <= self._surplus(), "distributor: amount exceeds surplus"
    # Cannot underflow: amount <= surplus <= _funded.
    self._funded = unsafe_sub(self._funded, amount)
    raw_call(to, b"", value=amount)
    log SurplusWithdrawn(to=to, amount=amount)


# VIEWS #

@external
@view
def claimed(account: address) -> uint256:
    """
    @notice Cumulative wei already paid out for `account`; a claim pays the difference.
    @param account The leaf's account.
    @return uint256 Wei.
    """
    return self._accounts[account] & MAX_CUMULATIVE


@external
@view
def recipient(account: address) -> address:
    """
    @notice Where `account`'s payouts go instead of the account (zero: the account).
    @param account The leaf's account.
    @return address The recipient it set.
    """
    return convert(self._accounts[account] >> CLAIMED_BITS, address)


@external
@view
def surplus() -> uint256:
    """
    @notice ETH the owner may withdraw: funded above the larger of the active and
            pending totals.
    @return uint256 Wei.
    """
    return self._surplus()


@external
@view
def funded() -> uint256:
    """
    @notice ETH paid in through calls (deploy value and plain transfers) minus surplus
            withdrawn: the ceiling for a root's total. Claims do not change it, so it
            reads the same before, during and after a batch. ETH forced in without a
            call is not counted.
    @return uint256 Wei.
    """
    return self._funded


@external
@view
def claimable(
    account: address, cumulative: uint256, proof: DynArray[bytes32, MAX_PROOF_DEPTH]
) -> uint256:
    """
    @notice What a claim would pay for this leaf once unpaused (0 if nothing is due).
    @dev Reverts on a wrong proof, like `claim`.
    @param account The leaf's account.
    @param cumulative The leaf's cumulative amount in wei.
    @param proof Sibling hashes from the leaf to the active root.
    @return uint256 Wei.
    """
    return self._due(account, cumulative, proof, self._accounts[account], self.root)


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
def _due(
    account: address,
    cumulative: uint256,
    proof: DynArray[bytes32, MAX_PROOF_DEPTH],
    slot: uint256,
    root: bytes32,
) -> uint256:
    # Reverts on a bad proof (or, for claims, a pause: `_live_root` is zero then);
    # returns 0 when the leaf is already fully claimed.
    if self._process_proof(proof, self._leaf(account, cumulative)) != root:
        assert not pausable.paused, "pausable: contract is paused"
        raise "distributor: invalid proof"
    # The zero address cannot sign, and paying this contract would turn a miner's
    # money into surplus: neither leaf is ever payable.
    assert account != empty(address) and account != self, "distributor: unpayable account"
    assert cumulative <= MAX_CUMULATIVE, "distributor: cumulative too large"
    already: uint256 = slot & MAX_CUMULATIVE
    if cumulative <= already:
        return 0
    # Cannot underflow: cumulative > already.
    return unsafe_sub(cumulative, already)


@internal
@view
def _payee(account: address, slot: uint256) -> address:
    # The account itself, or the recipient it set, if the caller may choose that time.
    to: address = convert(slot >> CLAIMED_BITS, address)
    if to == empty(address):
        return account
    assert msg.sender == account or msg.sender == self.keeper, (
        "distributor: only the account or keeper may pay its recipient"
    )
    return to


@internal
@pure
def _process_proof(proof: DynArray[bytes32, MAX_PROOF_DEPTH], leaf: bytes32) -> bytes32:
    # snekmate's `_process_proof`, bounded by MAX_PROOF_DEPTH instead of 255: its
    # 255-word frame alone cost ~5k gas of memory expansion per claim (bench/gas.py).
    # tests/contracts/test_oz_interop.py checks the two agree on random trees.
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
def _revoke(by: address):
    pending: PendingRoot = self.pending_root
    self.pending_root = empty(PendingRoot)
    log RootRevoked(
        epoch=pending.epoch,
        root=pending.root,
        total=pending.total,
        data_hash=pending.data_hash,
        by=by,
    )


@internal
@view
def _surplus() -> uint256:
    promised: uint256 = max(self.total, self.pending_root.total)
    if self._funded <= promised:
        return 0
    # Cannot underflow: _funded > promised.
    return unsafe_sub(self._funded, promised)
