# pragma version ~=0.4.3
"""
@title snekmate's Merkle proof verification, exposed for a parity test
@custom:contract-name ProofParity
@license MIT
@notice The distributor verifies proofs with its own bounded loop (cheaper memory);
        tests/contracts/test_oz_interop.py checks it agrees with snekmate's `_verify`.
"""

from snekmate.utils import merkle_proof_verification


@external
@pure
def verify(proof: DynArray[bytes32, 255], root: bytes32, leaf: bytes32) -> bool:
    """
    @notice snekmate's `_verify`, unchanged.
    """
    return merkle_proof_verification._verify(proof, root, leaf)
