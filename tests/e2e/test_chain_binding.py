"""Issue 9: a deployment is bound to its chain (chain id, code hash), every script checks
both before sending, and the auditor reads every tree dump miners claim with."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner

from livepool import operations
from livepool.audit import audit
from livepool.chain import Deployment, Distributor
from livepool.cli import cli
from livepool.errors import ChainError
from livepool.merkle import MerkleTree
from livepool.publish import load_published, load_trees, publish, tree_path

from .conftest import CHALLENGE_PERIOD, ETH, run_epoch

# --- deployments bound to their chain ----------------------------------------------------------


def test_deployment__records_keyed_by_chain_id__two_chains_never_overwrite(tmp_path):
    # Before: both were data/deployments/ethereum-local.json.
    inprocess = Deployment.path_for(tmp_path, "ethereum:local", 1337)
    anvil = Deployment.path_for(tmp_path, "ethereum:local", 31337)
    assert inprocess != anvil
    assert anvil.name == "31337-ethereum-local.json"


def test_deployment__record__holds_address_chain_block_code_hash(distributor, chain):
    record = distributor.deployment("ethereum:local")
    assert record.chain_id == chain.chain_id
    assert record.address == distributor.address
    assert record.code_hash.startswith("0x") and len(record.code_hash) == 66
    assert 0 <= record.block <= chain.blocks.height


def test_bound__its_own_record__opens(distributor):
    record = distributor.deployment("ethereum:local")
    assert Distributor.bound(record, network="ethereum:local").address == distributor.address


def test_bound__record_of_another_chain__refuses_naming_the_chain(distributor):
    record = dataclasses.replace(distributor.deployment("ethereum:local"), chain_id=42_161)
    with pytest.raises(ChainError, match=r"wrong chain: .* chain 42161 .* node is chain"):
        Distributor.bound(record, network="ethereum:local")


def test_bound__address_without_code__refuses(distributor, owner):
    # Before: `fund` sent 5 ETH to a codeless address and reported success.
    record = dataclasses.replace(distributor.deployment("ethereum:local"), address=owner.address)
    with pytest.raises(ChainError, match=r"no contract at .*deploy again"):
        Distributor.bound(record, network="ethereum:local")


def test_bound__precompile_address__refuses():
    # Before: `fund --address 0x…01` "funded" the ecrecover precompile.
    with pytest.raises(
        ChainError, match="no contract at 0x0000000000000000000000000000000000000001"
    ):
        Distributor.bound(None, address="0x" + "00" * 19 + "01", network="ethereum:local")


def test_bound__other_code_at_recorded_address__refuses(distributor):
    record = dataclasses.replace(
        distributor.deployment("ethereum:local"), code_hash="0x" + "ab" * 32
    )
    with pytest.raises(ChainError, match=r"wrong code at .*recorded at deployment"):
        Distributor.bound(record, network="ethereum:local")


def test_bound__address_of_another_contract__refuses(project, owner, distributor):
    other = owner.deploy(project.RejectingReceiver)
    with pytest.raises(ChainError, match="is not a LivepoolDistributor"):
        Distributor.bound(None, address=str(other.address), network="ethereum:local")


def test_find__no_record_for_this_chain__names_the_chains_that_have_one(tmp_path, distributor):
    record = dataclasses.replace(distributor.deployment("ethereum:local"), chain_id=31_337)
    record.save(Deployment.path_for(tmp_path, "ethereum:local", 31_337))
    assert Distributor.chain_id() == 1337  # the in-process chain
    with pytest.raises(ChainError, match=r"connected to ethereum:local chain 1337.*chain 31337"):
        Deployment.find(tmp_path, "ethereum:local", 1337)


# --- the auditor reads the tree dumps ----------------------------------------------------------


@pytest.fixture
def pool(ledger, distributor, poster, keeper, miners, chain, tmp_path):
    """Two epochs proposed and accepted, statements and trees published."""
    for number in (0, 1):
        run_epoch(ledger, miners, number, seed=number + 5)
        operations.propose_latest(ledger, distributor, poster)
        chain.pending_timestamp += CHALLENGE_PERIOD
        operations.accept(ledger, distributor, keeper)
    folder = tmp_path / "published"
    publish(ledger, folder)
    return distributor, folder


def full_audit(distributor, folder):
    events = distributor.root_events()
    return audit(
        statements=load_published(folder),
        root_events=events,
        funded=distributor.funded_at_proposals(events),
        trees=load_trees(folder),
    )


def tamper_leaf(folder, epoch, extra):
    """Raise the first leaf by ``extra`` wei and rebuild a valid tree around it."""
    path = tree_path(folder, epoch)
    tree = MerkleTree.load(path.read_bytes())
    values = [(a, v + (extra if i == 0 else 0)) for i, (a, v) in enumerate(tree.values)]
    path.write_text(MerkleTree.build(values).dump_json())
    return values[0][0]


def test_audit__untouched_trees__pass(pool):
    report = full_audit(*pool)
    assert report.ok, report.render()
    assert report.trees_checked == [0, 1]


def test_audit__leaf_raised_by_one_eth__caught(pool):
    distributor, folder = pool
    account = tamper_leaf(folder, 1, ETH)
    report = full_audit(distributor, folder)
    text = "\n".join(report.problems)
    assert "epoch 1: tree dump root" in text and "differs from the on-chain root" in text
    assert f"epoch 1: tree leaf of {account.lower()} is" in text


def test_audit__tree_node_edited__does_not_load(pool):
    distributor, folder = pool
    path = tree_path(folder, 0)
    dump = json.loads(path.read_text())
    dump["tree"][0] = "0x" + "00" * 32
    path.write_text(json.dumps(dump))
    report = full_audit(distributor, folder)
    assert any(p.startswith("epoch 0: tree dump does not load") for p in report.problems)


def test_audit__tree_missing__caught(pool):
    distributor, folder = pool
    tree_path(folder, 1).unlink()
    report = full_audit(distributor, folder)
    assert "epoch 1: no tree dump published (epoch-1.tree.json): miners cannot claim" in (
        report.problems
    )


def test_livepool_check__tampered_tree__exit_1(pool):
    # Before: `livepool check` read the statements only and said OK.
    _, folder = pool
    tamper_leaf(folder, 0, ETH)
    result = CliRunner().invoke(cli, ["check", str(folder)])
    assert result.exit_code == 1, result.output
    assert "epoch 0: tree leaf of" in result.output


def test_livepool_check__untouched__exit_0(pool):
    _, folder = pool
    result = CliRunner().invoke(cli, ["check", str(folder)])
    assert result.exit_code == 0, result.output
    assert "tree dumps checked: 0, 1" in result.output
