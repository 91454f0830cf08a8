"""Bitcoin signed messages (BIP-137) for P2PKH, P2SH-P2WPKH and P2WPKH addresses.

The digest is double SHA-256 of varstr("Bitcoin Signed Message:\\n") + varstr(message). The
signature is base64 of 65 bytes: a header byte, r, s. The header is 27 + recovery id, plus 4
for a compressed key (P2PKH), 8 for P2SH-P2WPKH, 12 for P2WPKH. The key is recovered with
libsecp256k1 (coincurve). Many wallets (Electrum among them) sign segwit addresses with the
plain "compressed" header, so a compressed key is accepted for any of the three forms it
controls; an uncompressed key only ever controls its legacy P2PKH address.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import coincurve

from travelgate.errors import EncodingError, InvalidProofError
from travelgate.screening._encodings import base58check_decode, segwit_decode
from travelgate.screening._hashes import hash160, sha256d

_MAGIC = b"Bitcoin Signed Message:\n"

# Base58Check version byte -> (address kind, chain); Bech32 human-readable part -> chain.
_BASE58_VERSIONS = {
    0x00: ("p2pkh", "bitcoin"),
    0x05: ("p2sh", "bitcoin"),
    0x6F: ("p2pkh", "bitcoin-testnet"),
    0xC4: ("p2sh", "bitcoin-testnet"),
}
_SEGWIT_HRPS = {"bc": "bitcoin", "tb": "bitcoin-testnet", "bcrt": "bitcoin-regtest"}


@dataclass(frozen=True)
class BitcoinAddress:
    kind: str  # p2pkh | p2sh | p2wpkh
    chain: str  # bitcoin | bitcoin-testnet | bitcoin-regtest
    hash: bytes  # the 20-byte HASH160 the address commits to


def parse_bitcoin_address(address: str) -> BitcoinAddress:
    """Decode a P2PKH, P2SH or P2WPKH address; InvalidProofError names what is unsupported."""
    text = address.strip()
    if text.lower().startswith(tuple(f"{hrp}1" for hrp in _SEGWIT_HRPS)):
        try:
            witness = segwit_decode(text)
        except EncodingError as exc:
            raise InvalidProofError(f"not a valid Bitcoin address: {exc}") from None
        if witness.hrp not in _SEGWIT_HRPS:
            raise InvalidProofError(f"unknown Bech32 network prefix {witness.hrp!r}")
        if witness.version != 0 or len(witness.program) != 20:
            raise InvalidProofError(
                "bip137 covers P2PKH, P2SH-P2WPKH and P2WPKH addresses; this segwit address "
                "(taproot or script hash) needs another kind of proof"
            )
        return BitcoinAddress("p2wpkh", _SEGWIT_HRPS[witness.hrp], witness.program)
    try:
        payload = base58check_decode(text)
    except EncodingError as exc:
        raise InvalidProofError(f"not a valid Bitcoin address: {exc}") from None
    if len(payload) != 21 or payload[0] not in _BASE58_VERSIONS:
        raise InvalidProofError("not a Bitcoin P2PKH or P2SH address")
    kind, chain = _BASE58_VERSIONS[payload[0]]
    return BitcoinAddress(kind, chain, payload[1:])


def _varstr(data: bytes) -> bytes:
    length = len(data)
    if length < 0xFD:
        prefix = bytes([length])
    elif length <= 0xFFFF:
        prefix = b"\xfd" + length.to_bytes(2, "little")
    else:
        prefix = b"\xfe" + length.to_bytes(4, "little")
    return prefix + data


def signed_message_digest(message: str) -> bytes:
    return sha256d(_varstr(_MAGIC) + _varstr(message.encode("utf-8")))


def _recover(message: str, signature: str) -> tuple[coincurve.PublicKey, int]:
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidProofError("the bip137 signature is not base64") from None
    if len(raw) != 65:
        raise InvalidProofError(f"a bip137 signature is 65 bytes, this one is {len(raw)}")
    header = raw[0]
    if not 27 <= header <= 42:
        raise InvalidProofError(f"the bip137 signature's header byte ({header}) is not 27-42")
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(
            raw[1:] + bytes([(header - 27) & 3]), signed_message_digest(message), hasher=None
        )
    except (ValueError, TypeError):
        raise InvalidProofError(
            "no public key can be recovered from the bip137 signature"
        ) from None
    return public_key, header


def verify_bip137(address: str, message: str, signature: str) -> BitcoinAddress:
    """Pass (returning the decoded address) if the address's key signed the message."""
    target = parse_bitcoin_address(address)
    public_key, header = _recover(message, signature)
    if header < 31:
        controlled = {("p2pkh", hash160(public_key.format(compressed=False)))}
    else:
        key_hash = hash160(public_key.format(compressed=True))
        controlled = {
            ("p2pkh", key_hash),
            ("p2wpkh", key_hash),
            ("p2sh", hash160(b"\x00\x14" + key_hash)),  # P2SH wrapping a P2WPKH program
        }
    if (target.kind, target.hash) not in controlled:
        raise InvalidProofError("the signature was not made by the key of this address")
    return target
