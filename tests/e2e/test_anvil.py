"""The operator flow against a real JSON-RPC node — anvil, from the npm package
`@foundry-rs/anvil`, started on a free loopback port — driven by ape through ape-foundry;
then a miner claims with web3.py, a client that is not ape, reading the contract's ABI
from the compiled artifacts and its proof from the published tree dump."""

from __future__ import annotations

import json
from pathlib import Path

from web3 import Web3

from livepool import operations
from livepool.audit import audit
from livepool.chain import Distributor
from livepool.merkle import MerkleTree
from livepool.publish import load_published, publish, tree_path

from .conftest import CHALLENGE_PERIOD, ETH, run_epoch

ROOT = Path(__file__).resolve().parents[2]


def distributor_abi() -> list:
    manifest = json.loads((ROOT / ".build" / "__local__.json").read_text())
    return manifest["contractTypes"]["LivepoolDistributor"]["abi"]


def test_anvil__operator_flow_with_ape__miner_claims_with_web3(
    anvil, networks, ledger, miners, tmp_path
):
    with networks.ethereum.local.use_provider("foundry", provider_settings={"host": anvil}):
        from ape import accounts, chain

        operator, poster, guardian, keeper = (accounts.test_accounts[i] for i in range(4))
        assert chain.chain_id == 31337, "talking to anvil, not the in-process chain"
        distributor = Distributor.deploy(
            operator,
            poster=poster.address,
            guardian=guardian.address,
            challenge_period=CHALLENGE_PERIOD,
        )
        distributor.fund(operator, 20 * ETH)
        run_epoch(ledger, miners, 0)
        outcome = operations.propose_latest(ledger, distributor, poster)
        assert outcome.sent is not None
        chain.pending_timestamp += CHALLENGE_PERIOD
        chain.mine()
        operations.accept(ledger, distributor, keeper)
        folder = tmp_path / "published"
        publish(ledger, folder)
        address = distributor.address

    # A miner with nothing but web3.py, the ABI and the published tree.
    w3 = Web3(Web3.HTTPProvider(anvil))
    contract = w3.eth.contract(address=address, abi=distributor_abi())
    tree = MerkleTree.load(tree_path(folder, 0).read_text())
    miner = miners[0].address
    cumulative = tree.amount(miner)
    proof = tree.proof(miner)
    assert contract.functions.claimable(miner, cumulative, proof).call() == cumulative
    before = w3.eth.get_balance(miner)
    tx_hash = contract.functions.claim(miner, cumulative, proof).transact({"from": miner})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt.status == 1
    paid = w3.eth.get_balance(miner) - before + receipt.gasUsed * receipt.effectiveGasPrice
    assert paid == cumulative
    assert contract.functions.claimed(miner).call() == cumulative
    (claimed,) = contract.events.Claimed().process_receipt(receipt)
    assert claimed.args.amount == cumulative

    # The auditor, through ape again, finds everything in order.
    with networks.ethereum.local.use_provider("foundry", provider_settings={"host": anvil}):
        distributor = Distributor.at(address)
        events = distributor.root_events()
        report = audit(
            statements=load_published(folder),
            root_events=events,
            funded=distributor.funded_at_proposals(events),
        )
    assert report.ok, report.render()
    assert report.roots_checked == [0]
