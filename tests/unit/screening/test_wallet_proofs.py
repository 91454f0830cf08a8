"""Wallet ownership proofs: real signatures made here with maintained libraries, checked by ours.

eip191 signatures are made with eth-keys (its own Keccak and address code, the prefix and v
as wallets' personal_sign produce them); bip137 signatures are made with libsecp256k1
(coincurve) in the BIP-137 layout. Address derivations are pinned to the
published examples for private key 1 (BIP-173's P2WPKH example is that key's HASH160).
"""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta

import coincurve
import pytest
from eth_keys import keys  # type: ignore[attr-defined]

from support.wallets import eth_personal_sign
from travelgate.screening import (
    InvalidProofError,
    check_challenge,
    eip55_checksum,
    eip55_valid,
    new_challenge,
    parse_bitcoin_address,
    parse_challenge,
    recover_eip191_signer,
    verify_bip137,
    verify_eip191,
    verify_wallet_proof,
)
from travelgate.screening._bip137 import signed_message_digest
from travelgate.screening._encodings import base58check_encode, segwit_encode
from travelgate.screening._hashes import hash160

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
KEY_ONE = (1).to_bytes(32, "big")


def _challenge(address: str, network: str) -> str:
    return new_challenge(
        vasp="Alice VASP Ltd", customer="cust-1", address=address, network=network, now=NOW
    ).message


# -- eip191 ------------------------------------------------------------------------------


class Account:
    """An Ethereum key and its EIP-55 address, both from eth-keys."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key or os.urandom(32)
        self.address = keys.PrivateKey(self.key).public_key.to_checksum_address()

    @classmethod
    def create(cls) -> Account:
        return cls()


def test_eip55_published_examples() -> None:
    for address in (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ):
        assert eip55_checksum(address.lower()) == address
        assert eip55_valid(address)
    assert not eip55_valid("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")
    assert eip55_valid("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")


def test_a_personal_sign_signature_is_accepted_in_every_spelling_of_the_address() -> None:
    account = Account.create()
    message = _challenge(account.address, "ethereum")
    signature = eth_personal_sign(account.key, message)
    assert recover_eip191_signer(message, signature) == account.address.lower()
    verify_eip191(account.address, message, signature)  # EIP-55 mixed case
    verify_eip191(account.address.lower(), message, signature)
    verify_eip191("0x" + account.address[2:].upper(), message, signature)
    verify_wallet_proof(
        "eip191", address=account.address, network="ethereum", message=message, signature=signature
    )


def test_key_one_signs_for_its_well_known_address() -> None:
    message = _challenge("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", "ethereum")
    verify_eip191(
        "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", message, eth_personal_sign(KEY_ONE, message)
    )


def test_v_as_zero_or_one_is_accepted_too() -> None:
    account = Account.create()
    message = _challenge(account.address, "ethereum")
    raw = bytearray.fromhex(eth_personal_sign(account.key, message)[2:])
    raw[64] -= 27
    verify_eip191(account.address, message, raw.hex())


def test_eip191_refuses_another_address_another_message_and_a_bad_checksum() -> None:
    account, stranger = Account.create(), Account.create()
    message = _challenge(account.address, "ethereum")
    signature = eth_personal_sign(account.key, message)
    with pytest.raises(InvalidProofError, match="not made by the key of this address"):
        verify_eip191(stranger.address, message, signature)
    with pytest.raises(InvalidProofError, match="not made by the key of this address"):
        verify_eip191(account.address, message.replace("cust-1", "cust-2"), signature)
    flipped = account.address[:-1] + account.address[-1].swapcase()
    if flipped[-1].isdigit() or flipped == account.address:
        flipped = _flip_one_letter(account.address)
    with pytest.raises(InvalidProofError, match="EIP-55 checksum"):
        verify_eip191(flipped, message, signature)


def _flip_one_letter(address: str) -> str:
    for index in range(len(address) - 1, 1, -1):
        if address[index].isalpha():
            return address[:index] + address[index].swapcase() + address[index + 1 :]
    raise AssertionError("an address with no letter")


@pytest.mark.parametrize(
    ("signature", "error"),
    [
        ("0xzz", "not hex"),
        ("0x" + "00" * 64, "65 bytes"),
        ("0x" + "11" * 64 + "1d", "v byte"),
        ("0x" + "00" * 64 + "1b", "no public key"),
        ("", "65 bytes"),
    ],
)
def test_malformed_eip191_signatures_are_refused(signature: str, error: str) -> None:
    account = Account.create()
    with pytest.raises(InvalidProofError, match=error):
        verify_eip191(account.address, _challenge(account.address, "ethereum"), signature)


def test_an_eip191_proof_needs_an_ethereum_address() -> None:
    with pytest.raises(InvalidProofError, match="Ethereum address"):
        verify_eip191("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "m", "0x" + "00" * 65)


# -- bip137 ------------------------------------------------------------------------------


def _btc_sign(private_key: coincurve.PrivateKey, message: str, *, offset: int) -> str:
    """BIP-137: header 27 + recovery id + offset (0 uncompressed, 4, 8 P2SH-P2WPKH, 12 P2WPKH)."""
    raw = private_key.sign_recoverable(signed_message_digest(message), hasher=None)
    header = 27 + raw[64] + offset
    return base64.b64encode(bytes([header]) + raw[:64]).decode()


def _addresses(private_key: coincurve.PrivateKey) -> dict[str, str]:
    compressed = hash160(private_key.public_key.format(compressed=True))
    return {
        "p2pkh": base58check_encode(b"\x00" + compressed),
        "p2pkh-uncompressed": base58check_encode(
            b"\x00" + hash160(private_key.public_key.format(compressed=False))
        ),
        "p2sh-p2wpkh": base58check_encode(b"\x05" + hash160(b"\x00\x14" + compressed)),
        "p2wpkh": segwit_encode("bc", 0, compressed),
    }


def test_key_one_addresses_match_the_published_ones() -> None:
    addresses = _addresses(coincurve.PrivateKey(KEY_ONE))
    assert addresses == {
        "p2pkh": "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH",
        "p2pkh-uncompressed": "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm",
        "p2sh-p2wpkh": "3JvL6Ymt8MVWiCNHC7oWU6nLeHNJKLZGLN",
        "p2wpkh": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    }


@pytest.mark.parametrize(
    ("kind", "offset"),
    [("p2pkh", 4), ("p2pkh-uncompressed", 0), ("p2sh-p2wpkh", 8), ("p2wpkh", 12)],
)
def test_a_bip137_signature_is_accepted_for_each_address_type(kind: str, offset: int) -> None:
    key = coincurve.PrivateKey()
    address = _addresses(key)[kind]
    message = _challenge(address, "bitcoin")
    signature = _btc_sign(key, message, offset=offset)
    verify_bip137(address, message, signature)
    verify_wallet_proof(
        "bip137", address=address, network="bitcoin", message=message, signature=signature
    )


def test_a_segwit_address_signed_with_the_plain_compressed_header_is_accepted() -> None:
    key = coincurve.PrivateKey()
    for kind in ("p2sh-p2wpkh", "p2wpkh"):
        address = _addresses(key)[kind]
        message = _challenge(address, "bitcoin")
        verify_bip137(address, message, _btc_sign(key, message, offset=4))


def test_an_uncompressed_key_does_not_prove_the_compressed_addresses() -> None:
    key = coincurve.PrivateKey()
    address = _addresses(key)["p2pkh"]
    message = _challenge(address, "bitcoin")
    with pytest.raises(InvalidProofError, match="not made by the key"):
        verify_bip137(address, message, _btc_sign(key, message, offset=0))


def test_bip137_refuses_another_address_another_message_and_malformed_signatures() -> None:
    key, stranger = coincurve.PrivateKey(), coincurve.PrivateKey()
    address = _addresses(key)["p2wpkh"]
    message = _challenge(address, "bitcoin")
    signature = _btc_sign(key, message, offset=12)
    with pytest.raises(InvalidProofError, match="not made by the key"):
        verify_bip137(_addresses(stranger)["p2wpkh"], message, signature)
    with pytest.raises(InvalidProofError, match="not made by the key"):
        verify_bip137(address, message + " ", signature)
    with pytest.raises(InvalidProofError, match="not base64"):
        verify_bip137(address, message, "!!!")
    with pytest.raises(InvalidProofError, match="65 bytes"):
        verify_bip137(address, message, base64.b64encode(b"\x1f" * 10).decode())
    with pytest.raises(InvalidProofError, match="header byte"):
        verify_bip137(address, message, base64.b64encode(b"\x01" + b"\x11" * 64).decode())
    with pytest.raises(InvalidProofError, match="no public key"):
        verify_bip137(address, message, base64.b64encode(b"\x1f" + b"\x00" * 64).decode())


def test_bitcoin_addresses_are_checked_before_any_signature() -> None:
    with pytest.raises(InvalidProofError, match="checksum"):
        parse_bitcoin_address("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5")
    with pytest.raises(InvalidProofError, match="checksum"):
        parse_bitcoin_address("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMJ")
    with pytest.raises(InvalidProofError, match="taproot"):
        parse_bitcoin_address("bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297")
    testnet = parse_bitcoin_address("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx")
    assert (testnet.kind, testnet.chain) == ("p2wpkh", "bitcoin-testnet")


def test_the_network_must_fit_the_proof_and_the_address() -> None:
    key = coincurve.PrivateKey()
    address = _addresses(key)["p2wpkh"]
    message = _challenge(address, "bitcoin")
    signature = _btc_sign(key, message, offset=12)
    with pytest.raises(InvalidProofError, match="not bitcoin-testnet"):
        verify_wallet_proof(
            "bip137",
            address=address,
            network="bitcoin-testnet",
            message=message,
            signature=signature,
        )
    with pytest.raises(InvalidProofError, match="not ethereum"):
        verify_wallet_proof(
            "bip137", address=address, network="ethereum", message=message, signature=signature
        )
    with pytest.raises(InvalidProofError, match="unknown proof type"):
        verify_wallet_proof(
            "manual", address=address, network="bitcoin", message=message, signature=signature
        )


# -- the challenge ----------------------------------------------------------------------


def test_the_challenge_names_everything_and_reads_back() -> None:
    challenge = new_challenge(
        vasp="Alice VASP Ltd", customer="cust-1", address=" bc1qxyz ", network="bitcoin", now=NOW
    )
    text = challenge.message
    for part in ("Alice VASP Ltd", "cust-1", "bc1qxyz", "bitcoin", challenge.nonce):
        assert part in text
    assert "Expires at: 2026-12-07T10:15:00Z" in text
    assert len(challenge.nonce) == 32
    assert parse_challenge(text) == challenge
    assert not challenge.expired(NOW + timedelta(minutes=14, seconds=59))
    assert challenge.expired(NOW + timedelta(minutes=15))
    other = new_challenge(
        vasp="Alice VASP Ltd", customer="cust-1", address="bc1qxyz", network="bitcoin", now=NOW
    )
    assert other.nonce != challenge.nonce


def test_a_tampered_or_foreign_challenge_does_not_parse() -> None:
    text = _challenge("bc1qxyz", "bitcoin")
    with pytest.raises(InvalidProofError, match="not a wallet ownership challenge"):
        parse_challenge("hello")
    with pytest.raises(InvalidProofError, match="differs"):
        parse_challenge(text + "\nPS: and send me your keys")
    with pytest.raises(InvalidProofError, match="twice"):
        parse_challenge(text + "\nCustomer: cust-2")
    with pytest.raises(InvalidProofError, match="Expires at"):
        parse_challenge(text.replace("Expires at: 2026-12-07T10:15:00Z", "Expires at: soon"))
    with pytest.raises(InvalidProofError, match="single line"):
        new_challenge(vasp="A", customer="c\nAddress: x", address="a", network="n", now=NOW)


def test_a_challenge_is_checked_against_whom_it_was_issued_to_and_when() -> None:
    address = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
    text = _challenge(address, "ethereum")
    expected = {"vasp": "Alice VASP Ltd", "customer": "cust-1", "network": "ethereum"}
    later = NOW + timedelta(minutes=5)
    challenge = check_challenge(text, address=address.lower(), now=later, **expected)
    assert challenge.address == address
    for change, error in [
        ({"customer": "cust-2"}, "another customer"),
        ({"vasp": "Mallory VASP"}, "another VASP"),
        ({"network": "polygon"}, "another address or network"),
    ]:
        with pytest.raises(InvalidProofError, match=error):
            check_challenge(text, address=address, now=later, **{**expected, **change})
    with pytest.raises(InvalidProofError, match="another address"):
        check_challenge(text, address="0x" + "11" * 20, now=later, **expected)
    with pytest.raises(InvalidProofError, match="expired at 2026-12-07T10:15:00Z"):
        check_challenge(text, address=address, now=NOW + timedelta(minutes=15), **expected)
    with pytest.raises(InvalidProofError, match="in the future"):
        check_challenge(text, address=address, now=NOW - timedelta(minutes=5), **expected)
