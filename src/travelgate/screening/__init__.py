"""Screening: sanctions lists, the chain-analytics provider, and wallet ownership proofs.

* Lists: `read_list_file` (CSV or the OFAC SDN XML), `import_list_file` (atomic, audited
  replacement in the store), `load_configured_lists` (`[screening] lists` at start), and
  `screen` / `Screener.screen` (an address against every loaded list, per network rules).
* Provider: `ProviderClient.assess` (signed POST, a `ProviderVerdict` or a `ProviderFailure`)
  and `screening_decision` (what `[screening]` says a hit, a risk or a failure means).
* Wallet proofs: `new_challenge` / `parse_challenge` (the text a customer signs) and
  `verify_wallet_proof` (`eip191`, `bip137`), pure functions over libsecp256k1.
"""

from travelgate.errors import InvalidProofError, ScreeningListError
from travelgate.screening._addresses import address_key, eip55_checksum, eip55_valid
from travelgate.screening._bip137 import BitcoinAddress, parse_bitcoin_address, verify_bip137
from travelgate.screening._challenge import (
    CHALLENGE_VALIDITY,
    Challenge,
    check_challenge,
    new_challenge,
    parse_challenge,
)
from travelgate.screening._eip191 import recover_eip191_signer, verify_eip191
from travelgate.screening._lists import (
    LIST_FORMATS,
    OFAC_LIST_NAME,
    ListEntry,
    ListFile,
    ListFormat,
    read_list_file,
)
from travelgate.screening._policy import (
    LISTED,
    PROVIDER_FAILED,
    PROVIDER_RISK,
    ScreeningDecision,
    screening_decision,
)
from travelgate.screening._provider import (
    FailureKind,
    ProviderAnswer,
    ProviderClient,
    ProviderFailure,
    ProviderVerdict,
    Risk,
    parse_answer,
)
from travelgate.screening._screen import (
    LIST_REPLACED,
    ImportResult,
    Screener,
    ScreeningResult,
    import_list_file,
    load_configured_lists,
    replace_lists,
    screen,
)
from travelgate.screening._wallets import BITCOIN_NETWORKS, PROOF_TYPES, verify_wallet_proof

__all__ = [
    "BITCOIN_NETWORKS",
    "CHALLENGE_VALIDITY",
    "LISTED",
    "LIST_FORMATS",
    "LIST_REPLACED",
    "OFAC_LIST_NAME",
    "PROOF_TYPES",
    "PROVIDER_FAILED",
    "PROVIDER_RISK",
    "BitcoinAddress",
    "Challenge",
    "FailureKind",
    "ImportResult",
    "InvalidProofError",
    "ListEntry",
    "ListFile",
    "ListFormat",
    "ProviderAnswer",
    "ProviderClient",
    "ProviderFailure",
    "ProviderVerdict",
    "Risk",
    "Screener",
    "ScreeningDecision",
    "ScreeningListError",
    "ScreeningResult",
    "address_key",
    "check_challenge",
    "eip55_checksum",
    "eip55_valid",
    "import_list_file",
    "load_configured_lists",
    "new_challenge",
    "parse_answer",
    "parse_bitcoin_address",
    "parse_challenge",
    "read_list_file",
    "recover_eip191_signer",
    "replace_lists",
    "screen",
    "screening_decision",
    "verify_bip137",
    "verify_eip191",
    "verify_wallet_proof",
]
