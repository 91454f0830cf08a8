"""TRISA SecureEnvelope cryptography: seal, open, public key signatures, key loading.

Pure and synchronous (no grpc, no asyncio): the node runs the RSA steps in a thread pool.
Wire format: the TRISA v1beta1 SecureEnvelope (TRISA protocol documentation, "Secure
Envelopes"), bit-compatible with the reference implementation's envelope package.
"""

from travelgate.envelope._formats import (
    format_timestamp,
    format_timestamp_seconds,
    is_timestamp,
    new_envelope_id,
    normalize_envelope_id,
    parse_timestamp,
)
from travelgate.envelope._json import (
    envelope_from_json,
    message_to_dict,
    message_to_json,
    parse_json,
    payload_from_json,
)
from travelgate.envelope._keys import (
    MIN_RSA_BITS,
    KeyRing,
    load_certificates,
    load_private_key,
    load_public_key,
    parse_exchanged_key,
    parse_public_key_signature,
    pem_blocks,
    public_key_signature,
    require_sealing_key,
    spki_der,
)
from travelgate.envelope._open import (
    EnvelopeKind,
    OpenedEnvelope,
    check_algorithms,
    check_sealed,
    check_structure,
    classify,
    decrypt_payload,
    has_error,
    open_envelope,
    open_unsealed,
    unseal_secrets,
)
from travelgate.envelope._payload import (
    IDENTITY_TYPE_URL,
    PayloadParts,
    TransactionKind,
    TransactionMessage,
    check_payload,
    make_payload,
    pack,
)
from travelgate.envelope._seal import (
    AES_ALGORITHM,
    HMAC_ALGORITHM,
    OAEP,
    TransferState,
    echo_error_state,
    error_envelope,
    seal,
    unsealed,
)
from travelgate.envelope._signing_key import sealing_key_from, signing_key_for
from travelgate.errors import JsonFormatError, KeyLoadError

__all__ = [
    "AES_ALGORITHM",
    "HMAC_ALGORITHM",
    "IDENTITY_TYPE_URL",
    "MIN_RSA_BITS",
    "OAEP",
    "EnvelopeKind",
    "JsonFormatError",
    "KeyLoadError",
    "KeyRing",
    "OpenedEnvelope",
    "PayloadParts",
    "TransactionKind",
    "TransactionMessage",
    "TransferState",
    "check_algorithms",
    "check_payload",
    "check_sealed",
    "check_structure",
    "classify",
    "decrypt_payload",
    "echo_error_state",
    "envelope_from_json",
    "error_envelope",
    "format_timestamp",
    "format_timestamp_seconds",
    "has_error",
    "is_timestamp",
    "load_certificates",
    "load_private_key",
    "load_public_key",
    "make_payload",
    "message_to_dict",
    "message_to_json",
    "new_envelope_id",
    "normalize_envelope_id",
    "open_envelope",
    "open_unsealed",
    "pack",
    "parse_exchanged_key",
    "parse_json",
    "parse_public_key_signature",
    "parse_timestamp",
    "payload_from_json",
    "pem_blocks",
    "public_key_signature",
    "require_sealing_key",
    "seal",
    "sealing_key_from",
    "signing_key_for",
    "spki_der",
    "unseal_secrets",
    "unsealed",
]
