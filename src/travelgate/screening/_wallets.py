"""Wallet ownership proofs: one entry point over the proof types, checked against the network."""

from __future__ import annotations

from travelgate.errors import InvalidProofError
from travelgate.screening._bip137 import verify_bip137
from travelgate.screening._eip191 import verify_eip191

PROOF_TYPES = ("eip191", "bip137")
# Bitcoin networks a bip137 proof may name, and the chain of the address each expects.
BITCOIN_NETWORKS = {
    "bitcoin": "bitcoin",
    "bitcoin-testnet": "bitcoin-testnet",
    "bitcoin-signet": "bitcoin-testnet",
    "bitcoin-regtest": "bitcoin-regtest",
}


def verify_wallet_proof(
    proof_type: str, *, address: str, network: str, message: str, signature: str
) -> None:
    """Pass when `signature` proves control of `address` on `network`; InvalidProofError else."""
    if proof_type == "eip191":
        if network.lower() in BITCOIN_NETWORKS:
            raise InvalidProofError(f"an eip191 proof cannot prove a {network} address")
        verify_eip191(address, message, signature)
    elif proof_type == "bip137":
        expected_chain = BITCOIN_NETWORKS.get(network.lower())
        if expected_chain is None:
            raise InvalidProofError(
                f"a bip137 proof is for {', '.join(BITCOIN_NETWORKS)} addresses, not {network}"
            )
        target = verify_bip137(address, message, signature)
        if target.chain != expected_chain and not (
            expected_chain == "bitcoin-regtest" and target.chain == "bitcoin-testnet"
        ):
            raise InvalidProofError(f"the address is a {target.chain} address, not {network}")
    else:
        raise InvalidProofError(
            f"unknown proof type {proof_type!r}; expected one of {', '.join(PROOF_TYPES)}"
        )
