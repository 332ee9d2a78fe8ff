"""livepool.merkle against OpenZeppelin's StandardMerkleTree, the design's source of truth.

The OZ side runs in node (``tests/js/oz_tree.mjs``), once for the whole module: every
request goes in one batch, so the file stays fast. Node and ``node_modules`` are required
(CI installs them): without them these tests fail, they do not skip.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from livepool.errors import MerkleError, ValidationError
from livepool.hashing import KECCAK_BACKEND, keccak256
from livepool.merkle import (
    DUMP_FORMAT,
    LEAF_ENCODING,
    MerkleTree,
    hash_pair,
    leaf_hash,
    process_proof,
    verify_proof,
)

from ..ozjs import oz as run_oz

REPO = Path(__file__).resolve().parents[2]
OZ_CLI = REPO / "tests" / "js" / "oz_tree.mjs"
PARITY_SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 100, 1_000, 2_000)
ALICE = "0x1111111111111111111111111111111111111111"
BOB = "0x2222222222222222222222222222222222222222"
CAROL = "0x3333333333333333333333333333333333333333"
MINER = to_checksum_address("0x52908400098527886e0f7030069857d2e4169ee7")
MINER_TYPO = MINER.replace("86E0F", "86e0F")  # one letter's case off: a bad checksum


def random_values(size: int, seed: int) -> list[tuple[str, int]]:
    """Distinct accounts, in mixed spellings, with amounts from tiny to uint256 max."""
    rng = random.Random(seed)
    values = []
    for k in range(size):
        raw = rng.randbytes(20)
        account = to_checksum_address(raw) if k % 2 else "0x" + raw.hex()
        amount = rng.choice([0, 1, rng.randrange(10**24), rng.randrange(2**256), 2**256 - 1])
        values.append((account, amount))
    return values


def as_oz_values(values: list[tuple[str, int]]) -> list[list[str]]:
    return [[account, str(amount)] for account, amount in values]


def hexes(nodes: list[bytes]) -> list[str]:
    return ["0x" + node.hex() for node in nodes]


def unsorted_dump() -> dict[str, Any]:
    """A valid OZ tree of three leaves laid out unsorted (OZ's ``sortLeaves: false``)."""
    tree = MerkleTree.build([(ALICE, 1), (BOB, 2), (CAROL, 3)])
    dump = tree.dump()
    nodes = [bytes.fromhex(h[2:]) for h in dump["tree"]]
    nodes[3], nodes[4] = nodes[4], nodes[3]
    nodes[1] = hash_pair(nodes[3], nodes[4])
    nodes[0] = hash_pair(nodes[1], nodes[2])
    for entry in dump["values"]:
        if entry["treeIndex"] in (3, 4):
            entry["treeIndex"] = 7 - entry["treeIndex"]
    dump["tree"] = hexes(nodes)
    return dump


def tampered_node_dump() -> dict[str, Any]:
    dump = MerkleTree.build(random_values(8, seed=5)).dump()
    dump["tree"][2] = "0x" + "ab" * 32
    return dump


def tampered_amount_dump() -> dict[str, Any]:
    dump = MerkleTree.build(random_values(8, seed=6)).dump()
    account, amount = dump["values"][3]["value"]
    dump["values"][3]["value"] = [account, str(int(amount) ^ 1)]
    return dump


@pytest.fixture(scope="module")
def oz() -> dict[str, Any]:
    """Every OZ answer this module needs, from one node process."""
    requests: dict[str, dict[str, Any]] = {}
    for size in PARITY_SIZES:
        values = random_values(size, seed=size)
        requests[f"build-{size}"] = {"op": "build", "values": as_oz_values(values)}
        python_dump = MerkleTree.build(values).dump_json()
        requests[f"load-python-{size}"] = {"op": "load", "dump_json": python_dump}
    requests["duplicate-account"] = {
        "op": "build",
        "values": [[ALICE, "1"], [BOB, "2"], [ALICE.upper().replace("0X", "0x"), "3"]],
        "proofs": False,
    }
    requests["unsorted"] = {"op": "load", "dump": unsorted_dump()}
    requests["tampered-node"] = {"op": "load", "dump": tampered_node_dump()}
    requests["tampered-amount"] = {"op": "load", "dump": tampered_amount_dump()}
    requests["bad-format"] = {"op": "load", "dump": {"format": "standard-v2"}}
    tree = MerkleTree.build(random_values(50, seed=50))
    good, (account, amount) = tree.proof(7), tree.values[7]
    requests["verify"] = {
        "op": "verify",
        "root": tree.root_hex,
        "items": [
            {"value": [account, str(amount)], "proof": hexes(good)},
            {"value": [account, str(amount + 1)], "proof": hexes(good)},
            {"value": [account, str(amount)], "proof": hexes(good[:-1])},
        ],
    }
    names = list(requests)
    answer = run_oz({"op": "batch", "requests": [requests[name] for name in names]})
    return dict(zip(names, answer["results"], strict=True))


# ---- hashing and leaves --------------------------------------------------------------


def test_keccak256__is_ethereum_keccak_not_nist_sha3() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert KECCAK_BACKEND in ("pysha3", "pycryptodome", "eth-hash")


@pytest.mark.parametrize(
    ("account", "amount"),
    [(ALICE, 0), (BOB, 1), (MINER, 5 * 10**18), (CAROL, 2**256 - 1), (MINER.lower(), 123)],
)
def test_leaf_hash__is_double_keccak_of_eth_abi_encoding(account: str, amount: int) -> None:
    encoded = abi_encode(list(LEAF_ENCODING), [account, amount])
    assert leaf_hash(account, amount) == keccak(keccak(encoded))


def test_leaf_hash__known_answer_from_oz() -> None:
    # StandardMerkleTree.of([[ALICE, "5000000000000000000"]], ["address","uint256"]).root
    assert leaf_hash(ALICE, 5 * 10**18).hex() == (
        "eb02c421cfa48976e66dfb29120745909ea3a0f843456c263cf8f1253483e283"
    )


def test_hash_pair__is_order_independent() -> None:
    a, b = keccak256(b"a"), keccak256(b"b")
    assert hash_pair(a, b) == hash_pair(b, a) == keccak256(min(a, b) + max(a, b))


# ---- parity with OZ ------------------------------------------------------------------


@pytest.mark.parametrize("size", PARITY_SIZES)
def test_build__same_root_proofs_and_dump_as_oz(oz: dict[str, Any], size: int) -> None:
    values = random_values(size, seed=size)
    expected = oz[f"build-{size}"]
    tree = MerkleTree.build(values)
    assert tree.root_hex == expected["root"]
    assert [hexes(proof) for proof in tree.proofs()] == expected["proofs"]
    assert [hexes(tree.proof(i)) for i in range(size)] == expected["proofs"]
    # OZ writes the values as given; Livepool writes checksummed accounts, so give OZ
    # the same spelling and compare the JSON text byte for byte.
    oz_dump = json.loads(expected["dump_json"])
    for entry, (account, _) in zip(oz_dump["values"], tree.values, strict=True):
        entry["value"][0] = account
    assert tree.dump_json() == json.dumps(oz_dump, separators=(",", ":"))


def test_dump__byte_identical_to_oz_for_checksummed_input(oz: dict[str, Any]) -> None:
    values = [(to_checksum_address(a), v) for a, v in random_values(100, seed=100)]
    tree = MerkleTree.build(values)
    oz_answer = run_oz({"op": "build", "values": as_oz_values(values), "proofs": False})
    assert tree.dump_json() == oz_answer["dump_json"]
    assert tree.dump() == oz_answer["dump"]


@pytest.mark.parametrize("size", PARITY_SIZES)
def test_python_dump__loads_in_oz(oz: dict[str, Any], size: int) -> None:
    tree = MerkleTree.build(random_values(size, seed=size))
    loaded = oz[f"load-python-{size}"]
    assert "error" not in loaded, loaded
    assert loaded["root"] == tree.root_hex
    assert loaded["verified"] == size
    assert loaded["proofs"] == [hexes(proof) for proof in tree.proofs()]
    assert loaded["dump_json"] == tree.dump_json()


@pytest.mark.parametrize("size", PARITY_SIZES)
def test_oz_dump__loads_in_python(oz: dict[str, Any], size: int) -> None:
    expected = oz[f"build-{size}"]
    for dump in (expected["dump_json"], expected["dump"]):
        tree = MerkleTree.load(dump)
        assert tree.root_hex == expected["root"]
        assert [hexes(proof) for proof in tree.proofs()] == expected["proofs"]
        # A loaded dump writes its values as they were read: the round trip is exact.
        assert tree.dump_json() == expected["dump_json"]
    for (account, amount), proof in zip(tree.values, tree.proofs(), strict=True):
        assert verify_proof(expected["root"], leaf_hash(account, amount), proof)


def test_verify_proof__agrees_with_oz(oz: dict[str, Any]) -> None:
    tree = MerkleTree.build(random_values(50, seed=50))
    account, amount = tree.values[7]
    proof = tree.proof(7)
    ours = [
        verify_proof(tree.root, leaf_hash(account, amount), proof),
        verify_proof(tree.root, leaf_hash(account, amount + 1), proof),
        verify_proof(tree.root, leaf_hash(account, amount), proof[:-1]),
    ]
    assert ours == oz["verify"]["results"] == [True, False, False]
    assert verify_proof(tree.root_hex, hexes([tree.leaf(7)])[0], hexes(proof))


# ---- lookups -------------------------------------------------------------------------


def test_lookup__is_checksum_insensitive() -> None:
    tree = MerkleTree.build([(ALICE, 1), (MINER, 2), (CAROL, 3)])
    for spelling in (MINER, MINER.lower(), "0x" + MINER[2:].upper()):
        assert spelling in tree
        assert tree.leaf_index(spelling) == 1
        assert tree.amount(spelling) == 2
        assert tree.proof(spelling) == tree.proof(1)
        assert tree.leaf(spelling) == leaf_hash(MINER, 2)
    assert tree.values == [(ALICE, 1), (MINER, 2), (CAROL, 3)]
    assert len(tree) == 3


def test_lookup__absent_account__raises() -> None:
    tree = MerkleTree.build([(ALICE, 1)])
    assert BOB not in tree
    assert "not an address" not in tree
    with pytest.raises(MerkleError, match=f"account {BOB} is not in the tree"):
        tree.proof(BOB)
    with pytest.raises(MerkleError, match="value index 1 is out of range"):
        tree.proof(1)


def test_build__lowercase_input__dump_carries_checksummed_accounts() -> None:
    tree = MerkleTree.build([(MINER.lower(), 7)])
    assert tree.dump()["values"] == [{"value": [MINER, "7"], "treeIndex": 0}]
    assert tree.dump()["format"] == DUMP_FORMAT
    assert tree.proofs() == [[]]
    assert tree.root == leaf_hash(MINER, 7)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=300), st.integers(min_value=0, max_value=2**32))
def test_proofs__all_verify_and_match_single_proofs(size: int, seed: int) -> None:
    tree = MerkleTree.build(random_values(size, seed=seed))
    proofs = tree.proofs()
    assert len(proofs) == size
    for i, proof in enumerate(proofs):
        assert proof == tree.proof(i)
        assert process_proof(tree.leaf(i), proof) == tree.root
    assert MerkleTree.load(tree.dump()).root == tree.root


# ---- rejections: build ---------------------------------------------------------------


def test_build__empty__raises() -> None:
    with pytest.raises(MerkleError, match="needs at least one"):
        MerkleTree.build([])


def test_build__duplicate_account_in_another_case__raises(oz: dict[str, Any]) -> None:
    with pytest.raises(
        MerkleError, match=rf"account {ALICE} appears twice \(values\[0\] and values\[2\]\)"
    ):
        MerkleTree.build([(ALICE, 1), (BOB, 2), ("0x" + ALICE[2:].upper(), 3)])
    # OZ itself allows it: the rule is Livepool's (one leaf per account).
    assert "error" not in oz["duplicate-account"]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (-1, r"values\[1\]: amount -1 is out of range for uint256"),
        (2**256, r"values\[1\]: amount \d+ is out of range for uint256"),
        (True, r"values\[1\]: amount True is not an int"),
        ("5", r"values\[1\]: amount '5' is not an int"),
        (1.5, r"values\[1\]: amount 1.5 is not an int"),
    ],
)
def test_build__bad_amount__raises(amount: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MerkleTree.build([(ALICE, 1), (BOB, amount)])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ("0x123", "is not a 0x-prefixed 20-byte hex address"),
        (ALICE[2:] + "00", "is not a 0x-prefixed 20-byte hex address"),
        ("0x" + "g" * 40, "is not a 0x-prefixed 20-byte hex address"),
        ("0x" + "11" * 19 + " 1", "is not a 0x-prefixed 20-byte hex address"),
        (b"\x11" * 20, "is not a 0x-prefixed 20-byte hex address"),
        (MINER_TYPO, "has an invalid EIP-55 checksum"),
        ("0x" + "aB" * 20, "has an invalid EIP-55 checksum"),
    ],
)
def test_build__bad_account__raises(account: object, message: str) -> None:
    with pytest.raises(ValidationError, match=rf"values\[1\]: account .* {message}"):
        MerkleTree.build([(ALICE, 1), (account, 2)])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match=message):
        leaf_hash(account, 1)  # type: ignore[arg-type]


def test_build__not_a_pair__raises() -> None:
    with pytest.raises(ValidationError, match=r"values\[0\]: .* is not an \(account, amount\)"):
        MerkleTree.build([(ALICE, 1, 2)])  # type: ignore[list-item]


def test_verify_proof__malformed_node__raises() -> None:
    tree = MerkleTree.build([(ALICE, 1), (BOB, 2)])
    with pytest.raises(MerkleError, match=r"proof\[0\] .* is not a 32-byte node"):
        verify_proof(tree.root, tree.leaf(0), [b"\x00" * 31])
    with pytest.raises(MerkleError, match="root 'xyz' is not a 32-byte node"):
        verify_proof("xyz", tree.leaf(0), tree.proof(0))


# ---- rejections: load ----------------------------------------------------------------


def good_dump() -> dict[str, Any]:
    return MerkleTree.build(random_values(8, seed=8)).dump()


def test_load__bad_format__raises(oz: dict[str, Any]) -> None:
    with pytest.raises(MerkleError, match="unknown dump format 'standard-v2'"):
        MerkleTree.load({**good_dump(), "format": "standard-v2"})
    assert oz["bad-format"]["error"] == "Unknown format 'standard-v2'"


def test_load__other_leaf_encoding__raises() -> None:
    with pytest.raises(MerkleError, match=r"leafEncoding \['address', 'uint128'\] is not"):
        MerkleTree.load({**good_dump(), "leafEncoding": ["address", "uint128"]})


@pytest.mark.parametrize(
    ("dump", "message"),
    [
        ("{not json", "dump is not valid JSON"),
        ("[]", "dump must be a JSON object, got list"),
        ({"format": DUMP_FORMAT, "leafEncoding": ["address", "uint256"]}, "'tree' list"),
        ({**good_dump(), "values": []}, "dump has no values"),
        ({**good_dump(), "tree": good_dump()["tree"][:-1]}, "14 nodes; 8 values need 15"),
    ],
)
def test_load__malformed_dump__raises(dump: Any, message: str) -> None:
    with pytest.raises(MerkleError, match=message):
        MerkleTree.load(dump)


def test_load__tampered_node__raises_like_oz(oz: dict[str, Any]) -> None:
    with pytest.raises(MerkleError, match=r"tree\[2\] is not the hash of its children"):
        MerkleTree.load(tampered_node_dump())
    assert oz["tampered-node"]["error"] == "Merkle tree is invalid"


def test_load__tampered_amount__raises_like_oz(oz: dict[str, Any]) -> None:
    dump = tampered_amount_dump()
    index = dump["values"][3]["treeIndex"]
    with pytest.raises(MerkleError, match=rf"values\[3\]: leaf of .* is not tree\[{index}\]"):
        MerkleTree.load(dump)
    assert oz["tampered-amount"]["error"] == "Merkle tree does not contain the expected value"


def test_load__unsorted_leaves__raises_though_oz_accepts(oz: dict[str, Any]) -> None:
    with pytest.raises(MerkleError, match="leaves are not sorted by hash"):
        MerkleTree.load(unsorted_dump())
    assert "error" not in oz["unsorted"]


def test_load__duplicate_account__raises() -> None:
    dump = MerkleTree.build([(ALICE, 1), (BOB, 2)]).dump()
    oz_answer = run_oz(
        {"op": "build", "values": [[ALICE, "1"], [ALICE.lower(), "1"]], "proofs": False}
    )
    with pytest.raises(MerkleError, match=f"account {ALICE} appears twice"):
        MerkleTree.load(oz_answer["dump"])
    assert MerkleTree.load(dump).root == MerkleTree.build([(ALICE, 1), (BOB, 2)]).root


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["values"][2].update(treeIndex=1),
            r"treeIndex 1 is not a leaf index \(7..14\)",
        ),
        (lambda d: d["values"][2].update(treeIndex="9"), r"treeIndex '9' is not a leaf index"),
        (
            lambda d: d["values"][2].update(treeIndex=d["values"][1]["treeIndex"]),
            "leaf of .* is not tree|same treeIndex",
        ),
        (lambda d: d["values"][2]["value"].__setitem__(1, "-5"), "amount '-5' is not a decimal"),
        (lambda d: d["values"][2]["value"].__setitem__(1, str(2**256)), "out of range for uint256"),
        (lambda d: d["values"][2]["value"].__setitem__(0, "0x12"), "is not a 0x-prefixed 20-byte"),
        (lambda d: d["values"][2]["value"].pop(), r"values\[2\].value must be \[account, amount\]"),
        (lambda d: d["values"][2].update(extra=1), r"values\[2\] must be"),
        (lambda d: d["tree"].__setitem__(4, "0x1234"), r"tree\[4\] '0x1234' is not a 32-byte node"),
        (lambda d: d["tree"].__setitem__(4, 7), r"tree\[4\] 7 is not a 32-byte node"),
    ],
)
def test_load__bad_value_or_node__raises(edit: Any, message: str) -> None:
    dump = good_dump()
    edit(dump)
    with pytest.raises(MerkleError, match=rf"values\[\d\]|tree|{message}") as caught:
        MerkleTree.load(dump)
    assert caught.match(message)


def test_load__bad_checksum_in_dump__raises() -> None:
    dump = MerkleTree.build([(MINER, 1), (ALICE, 2)]).dump()
    position = next(i for i, e in enumerate(dump["values"]) if e["value"][0] == MINER)
    dump["values"][position]["value"][0] = MINER_TYPO
    with pytest.raises(MerkleError, match=rf"values\[{position}\]: .* invalid EIP-55 checksum"):
        MerkleTree.load(dump)
