"""OpenZeppelin ``StandardMerkleTree`` for Livepool's payout leaves, and nothing else.

This module owns the Merkle tree of an epoch: leaf encoding, tree layout, proofs and the
``standard-v1`` dump. It is a pure module: it does no I/O (JSON text
in and out is the caller's to read or write) and never imports ape.

The tree is exactly the one ``@openzeppelin/merkle-tree`` (``StandardMerkleTree.of(values,
["address", "uint256"])``) builds, so JS tools load a Livepool dump unchanged and get the
same root and proofs, and the contract's ``merkle_proof_verification`` accepts them:

* leaf = keccak256(keccak256(abi.encode(address account, uint256 cumulative)));
* leaves sorted by hash (bytes, ascending) and laid out at the END of a flat array of
  ``2n - 1`` nodes in reverse order: ``tree[2n - 2 - k]`` is the k-th smallest leaf;
* internal node ``i`` = keccak256(min(l, r) ‖ max(l, r)) of its children ``2i + 1`` and
  ``2i + 2`` (sorted-pair hashing, so proofs carry no left/right flags);
* a proof is the sibling hashes met walking from a leaf to the root.

Livepool is stricter than OZ where OZ would let a payout go wrong: one leaf per account
(whatever the case of its text), addresses exactly 20 bytes, amounts in ``[0, 2**256)``,
mixed-case addresses must match their EIP-55 checksum (:mod:`livepool.hashing`), and a
loaded dump must have its leaves sorted (so its root is a function of its values alone).

Errors: a malformed value given to :meth:`MerkleTree.build` or :func:`leaf_hash` raises
:class:`~livepool.errors.ValidationError` naming the value; a set of values that cannot
form a tree (none, or one account twice) and anything wrong with a dump, proof node or
lookup raise :class:`~livepool.errors.MerkleError`.

Speed: the hot loops work on a flat list of 32-byte ``bytes`` with slice arithmetic, and
hashing uses :mod:`livepool.hashing`'s keccak (safe-pysha3), called directly in the hot
loops. EIP-55 checksums, which cost as much as a
leaf, are computed only when an address is output.
"""

from __future__ import annotations

import gc
import json
import operator
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from livepool.errors import MerkleError, ValidationError
from livepool.hashing import (
    address_bytes,
    checksum_error,
    first_bad_checksum,
    keccak_hasher,
    to_checksum,
    to_checksums,
)

__all__ = [
    "DUMP_FORMAT",
    "LEAF_ENCODING",
    "MerkleTree",
    "hash_pair",
    "leaf_hash",
    "process_proof",
    "verify_proof",
]

DUMP_FORMAT: Final = "standard-v1"
"""The ``format`` field of OZ's dump, the only one this module reads or writes."""

LEAF_ENCODING: Final = ("address", "uint256")
"""Solidity types of a leaf: the account and its cumulative amount in wei."""


def hash_pair(a: bytes, b: bytes) -> bytes:
    """Hash two nodes the way OZ and snekmate do: keccak256 of the smaller one first."""
    return keccak_hasher(a + b if a < b else b + a).digest()


# --------------------------------------------------------------------------------------
# Leaves: addresses and amounts.
# --------------------------------------------------------------------------------------

_ADDRESS_PAD: Final = bytes(12)  # abi.encode left-pads an address to 32 bytes
_UINT256_LIMIT: Final = 1 << 256

_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")


def _not_an_address(account: object) -> str:
    return f"account {account!r} is not a 0x-prefixed 20-byte hex address"


def _bad_checksum_message(account: str) -> str:
    return f"account {checksum_error(account)}"


def _parse_account(account: object) -> bytes | str:
    """The 20 bytes of ``account``, or a message saying what is wrong with it."""
    raw = address_bytes(account)
    if raw is None:
        return _not_an_address(account)
    assert isinstance(account, str)
    if raw.hex() != account[2:] and first_bad_checksum([(0, account, raw)]) is not None:
        return _bad_checksum_message(account)
    return raw


def _parse_amount(amount: object) -> int | str:
    """``amount`` as an int in uint256 range, or a message saying what is wrong with it."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        return f"amount {amount!r} is not an int"
    if not 0 <= amount < _UINT256_LIMIT:
        return f"amount {amount} is out of range for uint256 (0 <= amount < 2**256)"
    return amount


def _leaf(raw: bytes, amount: int) -> bytes:
    return keccak_hasher(
        keccak_hasher(_ADDRESS_PAD + raw + amount.to_bytes(32, "big")).digest()
    ).digest()


def _leaves(accounts: list[bytes], amounts: list[int]) -> list[bytes]:
    new = keccak_hasher
    pad = _ADDRESS_PAD
    return [
        new(new(pad + raw + amount.to_bytes(32, "big")).digest()).digest()
        for raw, amount in zip(accounts, amounts, strict=True)
    ]


def leaf_hash(account: str, amount: int) -> bytes:
    """Return the OZ standard leaf of ``(account, amount)``.

    That is keccak256(keccak256(abi.encode(address, uint256))), the value the contract
    recomputes in ``claim``. Raises :class:`ValidationError` for a malformed account
    (bad hex, wrong length, wrong EIP-55 checksum) or an amount outside uint256.
    """
    raw = _parse_account(account)
    if isinstance(raw, str):
        raise ValidationError(raw)
    value = _parse_amount(amount)
    if isinstance(value, str):
        raise ValidationError(value)
    return _leaf(raw, value)


# --------------------------------------------------------------------------------------
# Proofs.
# --------------------------------------------------------------------------------------


def _node(node: bytes | str, what: str) -> bytes:
    """A 32-byte node from bytes or 0x-hex, or MerkleError."""
    if isinstance(node, str):
        try:
            raw = bytes.fromhex(node[2:]) if node.startswith("0x") else b""
        except ValueError:
            raw = b""
    elif isinstance(node, bytes | bytearray | memoryview):
        raw = bytes(node)
    else:
        raw = b""
    if len(raw) != 32:
        raise MerkleError(f"{what} {node!r} is not a 32-byte node")
    return raw


def process_proof(leaf: bytes | str, proof: Iterable[bytes | str]) -> bytes:
    """Return the root that ``proof`` leads to from ``leaf`` (a leaf hash, not a value)."""
    node = _node(leaf, "leaf")
    for k, sibling in enumerate(proof):
        other = _node(sibling, f"proof[{k}]")
        node = keccak_hasher(node + other if node < other else other + node).digest()
    return node


def verify_proof(root: bytes | str, leaf: bytes | str, proof: Iterable[bytes | str]) -> bool:
    """Tell whether ``proof`` proves the leaf hash ``leaf`` under ``root``.

    Nodes may be bytes or 0x-hex; a node that is not 32 bytes raises :class:`MerkleError`.
    """
    return process_proof(leaf, proof) == _node(root, "root")


# --------------------------------------------------------------------------------------
# The tree.
# --------------------------------------------------------------------------------------


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off CPython's cyclic GC while a method makes a million small containers.

    Every few hundred new lists or dicts the GC runs, and its older generations rescan
    every live container: ``proofs()`` for 10**6 leaves takes 6 s with it, 1.6 s without.
    The lists made here (proofs, dump entries) cannot form cycles, so nothing is lost.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _internal_nodes(tree: list[bytes], count: int) -> list[bytes]:
    """Hash the internal nodes ``0 .. count-1`` of ``tree`` from their children, in place.

    Works level by level from the deepest: a heap level's children are one contiguous
    slice, so each level is one comprehension over ``zip`` with no index arithmetic.
    """
    new = keccak_hasher
    level_starts = []
    start = 0
    while start < count:
        level_starts.append(start)
        start = 2 * start + 1
    for lo in reversed(level_starts):
        hi = min(2 * lo + 1, count)  # one past the last internal node of this level
        left = tree[2 * lo + 1 : 2 * hi + 1 : 2]
        right = tree[2 * lo + 2 : 2 * hi + 2 : 2]
        tree[lo:hi] = [
            new(a + b if a < b else b + a).digest() for a, b in zip(left, right, strict=True)
        ]
    return tree


class MerkleTree:
    """An OZ ``StandardMerkleTree`` over ``(account, cumulative wei)`` leaves.

    Make one with :meth:`build` (from values) or :meth:`load` (from a ``standard-v1``
    dump). Values keep their input order: ``proof(i)`` and ``proofs()[i]`` are for the
    i-th value, as in OZ. Accounts are looked up case-insensitively.
    """

    __slots__ = ("_accounts", "_amounts", "_by_account", "_checksums", "_raw", "_tree", "_where")

    def __init__(
        self,
        tree: list[bytes],
        accounts: list[bytes],
        amounts: list[int],
        where: list[int],
        raw_values: tuple[list[str], list[Any]] | None = None,
    ) -> None:
        """Wrap already checked parts; use :meth:`build` or :meth:`load` instead."""
        self._tree = tree
        self._accounts = accounts
        self._amounts = amounts
        self._where = where  # value index -> tree index
        self._by_account = dict(zip(accounts, range(len(accounts)), strict=True))
        self._checksums: list[str] | None = None
        # A loaded dump's accounts and amounts exactly as they were written.
        self._raw = raw_values

    # ---- making trees ----------------------------------------------------------------

    @classmethod
    @_gc_paused()
    def build(cls, values: Iterable[tuple[str, int]]) -> MerkleTree:
        """Build the tree OZ's ``StandardMerkleTree.of(values, ["address","uint256"])`` would.

        ``values`` are ``(account, cumulative wei)`` pairs: 0x-hex addresses in any case
        (mixed case must be a valid EIP-55 checksum), int amounts in uint256 range.
        Raises :class:`ValidationError` for a malformed value and :class:`MerkleError`
        for no values or an account given twice.
        """
        accounts: list[bytes] = []
        amounts: list[int] = []
        not_lower: list[tuple[int, str, bytes]] = []
        for i, pair in enumerate(values):
            try:
                account, amount = pair
            except (TypeError, ValueError):
                raise ValidationError(
                    f"values[{i}]: {pair!r} is not an (account, amount) pair"
                ) from None
            raw = address_bytes(account)
            if raw is None:
                raise ValidationError(f"values[{i}]: {_not_an_address(account)}")
            if raw.hex() != account[2:]:
                not_lower.append((i, account, raw))
            if type(amount) is not int or not 0 <= amount < _UINT256_LIMIT:
                problem = (
                    _parse_amount(amount)
                    if type(amount) is int
                    else f"amount {amount!r} is not an int"
                )
                raise ValidationError(f"values[{i}]: {problem}")
            accounts.append(raw)
            amounts.append(amount)
        bad = first_bad_checksum(not_lower)
        if bad is not None:
            raise ValidationError(f"values[{bad[0]}]: {_bad_checksum_message(bad[1])}")
        n = len(accounts)
        if n == 0:
            raise MerkleError("a tree needs at least one (account, amount) value, got none")
        _check_unique(accounts)
        leaves = _leaves(accounts, amounts)

        # Stable sort, like JS Array.prototype.sort: equal leaves (impossible with unique
        # accounts) would keep their input order, as in OZ.
        order = sorted(range(n), key=leaves.__getitem__)
        tree: list[bytes] = [b""] * (n - 1)
        tree += [leaves[v] for v in reversed(order)]
        where = [0] * n
        last = 2 * n - 2
        for rank, v in enumerate(order):
            where[v] = last - rank
        _internal_nodes(tree, n - 1)
        return cls(tree, accounts, amounts, where)

    @classmethod
    @_gc_paused()
    def load(cls, dump: Mapping[str, Any] | str | bytes) -> MerkleTree:
        """Load and check an OZ ``standard-v1`` dump (a dict, or its JSON text).

        Checks the format and leaf encoding, every value (address, amount, tree index),
        that each value's leaf is where its ``treeIndex`` says, that leaves are sorted as
        ``StandardMerkleTree.of`` sorts them, that no account appears twice, and that
        every internal node is the hash of its children. Raises :class:`MerkleError`
        naming the first thing that does not hold.
        """
        hex_tree, raw_values = _dump_lists(dump)
        n = len(raw_values)
        tree = _parse_nodes(hex_tree)

        first_leaf = n - 1
        scanned = _scan_values_fast(raw_values, first_leaf, len(tree))
        if scanned is None:  # something is off: find and name it
            scanned = _scan_values(raw_values, first_leaf, len(tree))
        accounts, amounts, where, not_lower, texts = scanned
        bad = first_bad_checksum(not_lower)
        if bad is not None:
            raise MerkleError(f"values[{bad[0]}]: {_bad_checksum_message(bad[1])}")
        _check_unique(accounts)
        if len(set(where)) != n:
            raise MerkleError("two values have the same treeIndex")
        leaves = _leaves(accounts, amounts)
        if leaves != [tree[index] for index in where]:
            i = next(i for i in range(n) if leaves[i] != tree[where[i]])
            raise MerkleError(
                f"values[{i}]: leaf of ({raw_values[i]['value'][0]}, {amounts[i]}) "
                f"is not tree[{where[i]}]"
            )
        sorted_leaves = tree[first_leaf:]
        if not all(map(operator.gt, sorted_leaves, sorted_leaves[1:])):
            k = next(k for k in range(n - 1) if sorted_leaves[k] <= sorted_leaves[k + 1])
            raise MerkleError(
                f"leaves are not sorted by hash (tree[{first_leaf + k}] <= "
                f"tree[{first_leaf + k + 1}]); Livepool trees are built with sortLeaves"
            )
        expected = _internal_nodes(list(tree), n - 1)
        if expected[: n - 1] != tree[: n - 1]:
            bad_node = next(i for i in range(n - 1) if expected[i] != tree[i])
            raise MerkleError(f"tree[{bad_node}] is not the hash of its children; tree is invalid")
        amount_texts = [entry["value"][1] for entry in raw_values]
        return cls(tree, accounts, amounts, where, (texts, amount_texts))

    # ---- reading ---------------------------------------------------------------------

    @property
    def root(self) -> bytes:
        """The 32-byte root, as the contract stores it."""
        return self._tree[0]

    @property
    def root_hex(self) -> str:
        """The root as 0x-hex, as OZ's ``tree.root`` prints it."""
        return "0x" + self._tree[0].hex()

    def __len__(self) -> int:
        """Number of values (leaves)."""
        return len(self._accounts)

    def __contains__(self, account: object) -> bool:
        """Tell whether ``account`` (any case) has a leaf."""
        raw = _parse_account(account)
        return not isinstance(raw, str) and raw in self._by_account

    def __repr__(self) -> str:
        return f"MerkleTree(root={self.root_hex}, leaves={len(self)})"

    def _checksummed(self) -> list[str]:
        if self._checksums is None:
            self._checksums = to_checksums(self._accounts)
        return self._checksums

    @property
    @_gc_paused()
    def values(self) -> list[tuple[str, int]]:
        """The ``(checksummed account, amount)`` values, in input order."""
        return list(zip(self._checksummed(), self._amounts, strict=True))

    def leaf_index(self, account: str) -> int:
        """The value index of ``account`` (any case); :class:`MerkleError` if absent."""
        raw = _parse_account(account)
        if isinstance(raw, str):
            raise MerkleError(raw)
        index = self._by_account.get(raw)
        if index is None:
            raise MerkleError(f"account {to_checksum(raw)} is not in the tree")
        return index

    def _index(self, account_or_index: str | int) -> int:
        if isinstance(account_or_index, str):
            return self.leaf_index(account_or_index)
        if type(account_or_index) is not int or not 0 <= account_or_index < len(self):
            raise MerkleError(
                f"value index {account_or_index!r} is out of range 0..{len(self) - 1}"
            )
        return account_or_index

    def amount(self, account_or_index: str | int) -> int:
        """The cumulative amount of an account (or of the value at an index)."""
        return self._amounts[self._index(account_or_index)]

    def leaf(self, account_or_index: str | int) -> bytes:
        """The leaf hash of an account (or of the value at an index)."""
        return self._tree[self._where[self._index(account_or_index)]]

    def proof(self, account_or_index: str | int) -> list[bytes]:
        """The proof of one value: sibling hashes from its leaf up to the root."""
        node = self._where[self._index(account_or_index)]
        tree = self._tree
        proof = []
        while node > 0:
            proof.append(tree[node - 1 if node % 2 == 0 else node + 1])
            node = (node - 1) // 2
        return proof

    @_gc_paused()
    def proofs(self) -> list[list[bytes]]:
        """Every value's proof, in input order, in one pass over the tree.

        Top-down, level by level: a node's proof is its sibling followed by its parent's
        proof, so each proof costs one list concatenation instead of a walk.
        """
        tree = self._tree
        size = len(tree)
        if size == 1:
            return [[]]
        first_leaf = size // 2
        leaf_proofs: list[list[bytes]] = [[]] * (size - first_leaf)
        parents: list[list[bytes]] = [[]]  # proofs of the previous level's internal nodes
        lo = 1
        while lo < size:
            hi = min(2 * lo + 1, size)  # this level is tree[lo:hi]
            pairs = parents[: (hi - lo) // 2]
            level: list[list[bytes]] = [[]] * (hi - lo)
            # Left children (odd index) have their right sibling next to them, and back.
            # [s] + p: twice as fast as [s, *p] here (one exact-size copy, no extend).
            level[0::2] = [[s] + p for s, p in zip(tree[lo + 1 : hi : 2], pairs, strict=True)]  # noqa: RUF005
            level[1::2] = [[s] + p for s, p in zip(tree[lo:hi:2], pairs, strict=True)]  # noqa: RUF005
            if hi > first_leaf:
                split = max(first_leaf - lo, 0)
                leaf_proofs[lo + split - first_leaf : hi - first_leaf] = level[split:]
                level = level[:split]
            parents = level
            lo = hi
        return [leaf_proofs[t - first_leaf] for t in self._where]

    def dump(self) -> dict[str, Any]:
        """The OZ ``standard-v1`` dump: what ``StandardMerkleTree.dump()`` returns.

        A built tree writes checksummed accounts and decimal-string amounts (what OZ
        writes when given those); a loaded tree writes its values as they were read,
        so ``MerkleTree.load(d).dump() == d`` for any dump OZ wrote.
        """
        if self._raw is not None:
            accounts, amounts = self._raw
        else:
            accounts, amounts = self._checksummed(), list(map(str, self._amounts))
        values = [
            {"value": [account, amount], "treeIndex": index}
            for account, amount, index in zip(accounts, amounts, self._where, strict=True)
        ]
        return {
            "format": DUMP_FORMAT,
            "leafEncoding": list(LEAF_ENCODING),
            "tree": ["0x" + node.hex() for node in self._tree],
            "values": values,
        }

    @_gc_paused()
    def dump_json(self) -> str:
        """The dump as OZ's ``JSON.stringify(tree.dump())`` writes it, byte for byte."""
        return json.dumps(self.dump(), separators=(",", ":"))


def _dump_lists(dump: Mapping[str, Any] | str | bytes) -> tuple[list[Any], list[Any]]:
    """A dump's ``tree`` and ``values`` lists, once its format, leaf encoding and sizes
    are checked."""
    if isinstance(dump, str | bytes):
        try:
            dump = json.loads(dump)
        except ValueError as exc:
            raise MerkleError(f"dump is not valid JSON: {exc}") from None
    if not isinstance(dump, Mapping):
        raise MerkleError(f"dump must be a JSON object, got {type(dump).__name__}")
    if dump.get("format") != DUMP_FORMAT:
        raise MerkleError(f"unknown dump format {dump.get('format')!r}, expected {DUMP_FORMAT!r}")
    encoding = dump.get("leafEncoding")
    if not isinstance(encoding, list | tuple) or tuple(encoding) != LEAF_ENCODING:
        raise MerkleError(f"dump leafEncoding {encoding!r} is not {list(LEAF_ENCODING)!r}")
    hex_tree = dump.get("tree")
    raw_values = dump.get("values")
    if not isinstance(hex_tree, list) or not isinstance(raw_values, list):
        raise MerkleError("dump must have a 'tree' list and a 'values' list")
    n = len(raw_values)
    if n == 0:
        raise MerkleError("dump has no values")
    if len(hex_tree) != 2 * n - 1:
        raise MerkleError(f"dump tree has {len(hex_tree)} nodes; {n} values need {2 * n - 1}")
    return hex_tree, raw_values


def _parse_nodes(hex_nodes: list[Any]) -> list[bytes]:
    """32-byte nodes from OZ's 0x-hex strings; MerkleError names the first bad one.

    The fast path parses all nodes with one ``bytes.fromhex``; any doubt falls back to
    the node-by-node parse, which finds the culprit.
    """
    count = len(hex_nodes)
    try:
        text = "".join(hex_nodes)
    except TypeError:
        text = ""
    if (
        text
        and set(map(len, hex_nodes)) == {66}
        and text[0::66] == "0" * count
        and text[1::66] == "x" * count
    ):
        try:
            blob = bytes.fromhex(text.replace("0x", ""))
        except ValueError:
            blob = b""
        if len(blob) == 32 * count:
            return [blob[i : i + 32] for i in range(0, len(blob), 32)]
    return [_node(node, f"tree[{i}]") for i, node in enumerate(hex_nodes)]


_Scanned = tuple[list[bytes], list[int], list[int], list[tuple[int, str, bytes]], list[str]]


def _scan_values(raw_values: list[Any], first_leaf: int, size: int) -> _Scanned:
    """Check a dump's values one by one: accounts, amounts, tree indices, texts.

    Raises :class:`MerkleError` naming the first bad value. Returns the accounts not
    written in lower case too, whose checksums are checked together afterwards.
    """
    accounts: list[bytes] = []
    amounts: list[int] = []
    where: list[int] = []
    texts: list[str] = []
    not_lower: list[tuple[int, str, bytes]] = []
    for i, entry in enumerate(raw_values):
        if not isinstance(entry, dict) or set(entry) != {"value", "treeIndex"}:
            raise MerkleError(f"values[{i}] must be {{'value': [...], 'treeIndex': k}}")
        value = entry["value"]
        index = entry["treeIndex"]
        if type(value) is not list or len(value) != 2:
            raise MerkleError(f"values[{i}].value must be [account, amount], got {value!r}")
        account = value[0]
        raw = address_bytes(account)
        if raw is None:
            raise MerkleError(f"values[{i}]: {_not_an_address(account)}")
        if raw.hex() != account[2:]:
            not_lower.append((i, account, raw))
        amount = _parse_dump_amount(value[1])
        if isinstance(amount, str):
            raise MerkleError(f"values[{i}]: {amount}")
        if type(index) is not int or not first_leaf <= index < size:
            raise MerkleError(
                f"values[{i}].treeIndex {index!r} is not a leaf index ({first_leaf}..{size - 1})"
            )
        accounts.append(raw)
        amounts.append(amount)
        where.append(index)
        texts.append(account)
    return accounts, amounts, where, not_lower, texts


def _scan_values_fast(raw_values: list[Any], first_leaf: int, size: int) -> _Scanned | None:
    """:func:`_scan_values` for the usual dump (as OZ writes it), column by column.

    Whole-column checks and one ``bytes.fromhex`` for all accounts replace a million
    per-value branches; None means "not the usual shape", and the slow scan then names
    the culprit (or accepts what is merely unusual, like a JSON number amount).
    """
    n = len(raw_values)
    try:
        if set(map(type, raw_values)) != {dict} or {len(e) for e in raw_values} != {2}:
            return None
        pairs = [entry["value"] for entry in raw_values]
        where = [entry["treeIndex"] for entry in raw_values]
        if set(map(type, pairs)) != {list} or set(map(len, pairs)) != {2}:
            return None
        texts = [pair[0] for pair in pairs]
        amount_texts = [pair[1] for pair in pairs]
        if set(map(type, texts)) != {str} or set(map(len, texts)) != {42}:
            return None
        joined = "".join(texts)
        if joined[0::42] != "0" * n or joined[1::42] != "x" * n:
            return None
        blob = bytes.fromhex(joined.replace("0x", ""))
        if len(blob) != 20 * n:
            return None
        if set(map(type, amount_texts)) != {str}:
            return None
        digits = "".join(amount_texts)
        if not (digits.isascii() and digits.isdigit()) or "" in amount_texts:
            return None
        amounts = list(map(int, amount_texts))
        if max(amounts) >= _UINT256_LIMIT:
            return None
        if set(map(type, where)) != {int} or min(where) < first_leaf or max(where) >= size:
            return None
    except (KeyError, TypeError, ValueError):
        return None
    accounts = [blob[i : i + 20] for i in range(0, len(blob), 20)]
    not_lower = [
        (i, text, raw)
        for i, (text, raw) in enumerate(zip(texts, accounts, strict=True))
        if raw.hex() != text[2:]
    ]
    return accounts, amounts, where, not_lower, texts


def _check_unique(accounts: list[bytes]) -> None:
    if len(set(accounts)) == len(accounts):
        return
    seen: dict[bytes, int] = {}
    for i, raw in enumerate(accounts):
        if raw in seen:
            raise MerkleError(
                f"account {to_checksum(raw)} appears twice (values[{seen[raw]}] and "
                f"values[{i}]); a tree has one leaf per account"
            )
        seen[raw] = i


def _parse_dump_amount(amount: object) -> int | str:
    """A dump's amount: a decimal string as OZ writes it (or a JSON integer, or 0x-hex)."""
    if isinstance(amount, str):
        text = amount
        if text.isascii() and text.isdigit():
            return _parse_amount(int(text))
        if text.startswith("0x") and len(text) > 2 and all(c in _HEX_DIGITS for c in text[2:]):
            return _parse_amount(int(text[2:], 16))
        return f"amount {amount!r} is not a decimal integer string"
    return _parse_amount(amount)
