"""The signed, hash-chained audit trail and records exports: keys, the chain's rules,
checking a database's chain, exporting it, and the zip handed over for a request.

The chain's rules (`_chain`) and the key (`_key`) are pure; the store appends records
(`travelgate.store`), this package reads them back and checks them.
"""

from travelgate.audit._chain import (
    CHAIN_STARTED,
    GENESIS,
    PURGED,
    AuditRecord,
    ChainReport,
    check_chain,
    digest_of,
)
from travelgate.audit._key import (
    AuditKey,
    fingerprint,
    load_or_create_audit_key,
    parse_public_key,
    public_key_text,
    signature_holds,
)

__all__ = [
    "CHAIN_STARTED",
    "GENESIS",
    "PURGED",
    "AuditKey",
    "AuditRecord",
    "ChainReport",
    "check_chain",
    "digest_of",
    "fingerprint",
    "load_or_create_audit_key",
    "parse_public_key",
    "public_key_text",
    "signature_holds",
]
