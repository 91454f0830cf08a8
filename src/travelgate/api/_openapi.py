"""The OpenAPI 3.1 description of the internal API, served at /v1/openapi.json."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from travelgate import __version__
from travelgate.api._openapi_person import person
from travelgate.service._alerts import ALERT_TYPES
from travelgate.service._requests import DEFAULT_ASSETS, MAX_TEXT
from travelgate.transfers import DECISION_CODE_MEANINGS
from travelgate.transfers._amounts import (
    FIAT_DECIMALS,
    MAX_FRACTION_DIGITS,
    MAX_INTEGER_DIGITS,
    MINOR_UNITS,
)

MAX_ADDRESS = 256


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR_TEXT = {
    400: "Malformed JSON, a bad query parameter, or one the endpoint does not take "
    "(unknown_parameter) or given twice (repeated_parameter)",
    401: "No or wrong API key",
    403: "The API key lacks the scope of this endpoint (forbidden_scope)",
    404: "Unknown id",
    409: "Idempotency conflict or illegal state change",
    413: "Body over the limit",
    415: "A body that is not Content-Type: application/json (UTF-8)",
    422: "Well-formed but invalid: the error names the field",
    431: "A request header over the size limit",
    503: "At capacity (overloaded, with Retry-After) or storage unavailable: retry later",
}
# What every authenticated operation may answer, whatever it does.
_ANY_CALL = (400, 401, 403, 431, 503)
# ... and every operation that reads a JSON body.
_BODY_CALL = (*_ANY_CALL, 413, 415, 422)


def _errors(*statuses: int) -> dict[str, Any]:
    """Responses in the Error shape for these statuses (each operation lists its own)."""
    return {str(s): _json(_ref("Error"), _ERROR_TEXT[s]) for s in sorted(set(statuses))}


# Python's str.isspace(), which the node strips text by; spelled out so that every regex
# dialect reads it alike.
_SPACE = (
    r"\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
_HAS_TEXT = f"[^{_SPACE}]"


def _text(max_length: int, description: str | None = None, **extra: Any) -> dict[str, Any]:
    """Free text the node strips: something besides spaces, at most `max_length` long."""
    schema = {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": _HAS_TEXT}
    if description:
        schema["description"] = description
    return {**schema, **extra}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema["type"]
    return {**schema, "type": [kind, "null"] if isinstance(kind, str) else [*kind, "null"]}


def _amount(fraction_digits: int, description: str) -> dict[str, Any]:
    """The amount grammar: ASCII `(0|[1-9][0-9]*)(.[0-9]+)?`, non-zero, bounded digits."""
    fraction = f"(\\.[0-9]{{1,{fraction_digits}}})?" if fraction_digits else ""
    return {
        "type": "string",
        "pattern": f"^(?!0(\\.0+)?$)(0|[1-9][0-9]{{0,{MAX_INTEGER_DIGITS - 1}}}){fraction}$",
        "maxLength": MAX_INTEGER_DIGITS + 1 + MAX_FRACTION_DIGITS,
        "description": description,
    }


_SELF_HOSTED = f"^[{_SPACE}]*self-hosted[{_SPACE}]*$"
_AMOUNT = _amount(
    MAX_FRACTION_DIGITS,
    f"exact decimal, greater than zero: at most {MAX_INTEGER_DIGITS} digits before the "
    f"point and {MAX_FRACTION_DIGITS} after, no sign, exponent or spaces",
)


def _fiat_value() -> dict[str, Any]:
    """`value`: a fiat amount with no more decimals than its currency has (ISO 4217)."""
    by_decimals: dict[int, list[str]] = {}
    for currency, decimals in MINOR_UNITS.items():
        by_decimals.setdefault(decimals, []).append(currency)
    plain = _amount(FIAT_DECIMALS, "exact decimal with at most the currency's decimals")
    rules: list[dict[str, Any]] = [
        {
            "if": {"properties": {"currency": {"enum": sorted(codes)}}},
            "then": {"properties": {"amount": _amount(decimals, plain["description"])}},
        }
        for decimals, codes in sorted(by_decimals.items())
    ]
    return {
        "type": ["object", "null"],
        "additionalProperties": False,
        "required": ["amount", "currency"],
        "properties": {
            "amount": {"type": "string"},
            "currency": {
                "type": "string",
                "pattern": "^[A-Z]{3}$",
                "example": "USD",
                "description": "ISO 4217 code",
            },
        },
        "allOf": [
            *rules,
            {
                "if": {"properties": {"currency": {"not": {"enum": sorted(MINOR_UNITS)}}}},
                "then": {"properties": {"amount": plain}},
            },
        ],
    }


# Amounts as the node writes them back: the text it accepted.
_DECIMAL = {
    "type": "string",
    "pattern": r"^(0|[1-9][0-9]*)(\.[0-9]+)?$",
    "description": "exact decimal",
}
_CODES = "; ".join(f"`{code}`: {meaning}" for code, meaning in DECISION_CODE_MEANINGS.items())
_DECISION = {
    "type": ["object", "null"],
    "description": "what decided the current state (null before any decision)",
    "required": ["code", "reason", "rule", "trisa_code"],
    "properties": {
        "code": {
            "type": ["string", "null"],
            "enum": [*DECISION_CODE_MEANINGS, None],
            "description": "a stable machine code, only ever added to: " + _CODES,
        },
        "reason": {"type": ["string", "null"], "description": "free text for a person"},
        "rule": {
            "type": ["string", "null"],
            "description": "who decided: profile:<ids>, rule:<name>, reply:<outcome>, "
            "review:<id>, outbox, timeout, broadcast, cancel",
        },
        "trisa_code": {
            "type": ["string", "null"],
            "description": "the counterparty's TRISA error name when its answer carried one, "
            "e.g. UNKNOWN_WALLET_ADDRESS",
        },
    },
}
_COUNTERPARTY = {
    "type": "object",
    "required": ["kind", "name", "protocol"],
    "properties": {
        "kind": {"type": "string", "enum": ["vasp", "self_hosted", "unknown"]},
        "name": {
            "type": ["string", "null"],
            "description": "the VASP's TRISA name, or over TRP its server certificate's CN "
            "(until it answers: the host its Travel Address names)",
        },
        "protocol": {
            "type": ["string", "null"],
            "enum": ["trisa", "trp", "email", None],
            "description": "how we exchange with it (email: a one-time link to its "
            'compliance address, README "Sunrise"); null when no exchange is possible',
        },
        "source": {
            "type": "string",
            "enum": ["directory"],
            "description": "present when the TRISA Global Directory Service, not the peers "
            "file, named this counterparty",
        },
    },
}
_VIOLATION = {
    "type": "object",
    "required": ["rule", "path", "message"],
    "properties": {
        "rule": {"type": "string", "example": "C1"},
        "path": {"type": "string"},
        "message": {"type": "string"},
    },
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "field"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "field": {"type": ["string", "null"]},
                },
            }
        },
    },
    "Withdrawal": {
        "type": "object",
        "required": [
            "id",
            "state",
            "created_at",
            "updated_at",
            "envelope_id",
            "counterparty",
            "decision",
            "asset",
            "network",
            "amount",
            "value",
            "destination",
            "beneficiary",
            "beneficiary_vasp",
            "beneficiary_identity",
            "beneficiary_match",
            "originator",
            "customer_id",
            "idempotency_key",
            "txid",
            "deadline",
            "version",
        ],
        "properties": {
            "id": {"type": "string"},
            "state": {
                "type": "string",
                "enum": [
                    "held",
                    "awaiting_reply",
                    "cleared",
                    "released",
                    "review",
                    "rejected",
                    "expired",
                    "canceled",
                ],
            },
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "envelope_id": {"type": ["string", "null"]},
            "counterparty": _ref("Counterparty"),
            "decision": _ref("Decision"),
            "asset": {"type": "string"},
            "network": {"type": "string"},
            "amount": _DECIMAL,
            "value": {
                "type": ["object", "null"],
                "description": "the fiat value as given in the request",
                "properties": {"amount": _DECIMAL, "currency": {"type": "string"}},
            },
            "destination": {
                "type": "object",
                "properties": {
                    "address": {"type": "string"},
                    "tag": {"type": ["string", "null"]},
                    "kind": {"type": ["string", "null"], "enum": ["vasp", "self_hosted", None]},
                    "travel_address": {"type": ["string", "null"], "description": "as given"},
                    "approved_address": {
                        "type": ["string", "null"],
                        "description": "TRP: the deposit address the beneficiary VASP approved",
                    },
                },
            },
            "beneficiary": {
                "type": "object",
                "description": "the beneficiary as given in the request ({name} or {person})",
            },
            "beneficiary_vasp": {"type": ["string", "null"], "description": "as given"},
            "beneficiary_identity": {
                "type": ["object", "null"],
                "description": (
                    "once the counterparty answered: the IVMS101 Beneficiary it returned "
                    "(beneficiaryPersons, accountNumber)"
                ),
            },
            "beneficiary_match": {
                "type": ["string", "null"],
                "enum": ["exact", "close", "mismatch", None],
                "description": (
                    "the returned beneficiary against the one we sent: exact (same name as "
                    "written), close (same once case, accents and punctuation are set aside, "
                    "or a middle name left out), mismatch"
                ),
            },
            "originator": {
                "type": "object",
                "properties": {"customer_id": {"type": ["string", "null"]}},
            },
            "idempotency_key": {"type": "string"},
            "customer_id": {"type": ["string", "null"]},
            "txid": {"type": ["string", "null"]},
            "deadline": {"type": ["string", "null"], "format": "date-time"},
            "version": {"type": "integer"},
            "screening": {
                "type": ["object", "null"],
                "description": (
                    "what screening found for the destination before anything was sent: "
                    "{address, asset, network, listed, hits: [{list, address, asset, "
                    "reference}], provider: {risk, categories} or {failure, message} or null, "
                    "action: reject | review | null, code}"
                ),
            },
            "release_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": (
                    "[policy] new_destination_hold: the destination is new to the customer, "
                    "the withdrawal waits in held until then (decision code "
                    "HOLD.NEW_DESTINATION)"
                ),
            },
        },
    },
    "Customer": {
        "type": "object",
        "additionalProperties": False,
        "required": ["person", "addresses"],
        "properties": {
            "id": {"type": "string", "readOnly": True, "description": "as in the path"},
            "person": person(),
            "addresses": {
                "type": "array",
                "items": _text(MAX_ADDRESS),
                "description": "the customer's deposit addresses; required, possibly empty",
            },
            "created_at": {"type": "string", "format": "date-time", "readOnly": True},
            "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
            "originator_ready": {
                "type": "boolean",
                "readOnly": True,
                "description": (
                    "whether the record meets the IVMS101 rules for an originator under the "
                    "node's profile; a withdrawal from a customer that is not ready is "
                    "refused with 422 invalid_originator"
                ),
            },
            "violations": {
                "type": "array",
                "readOnly": True,
                "items": _ref("Violation"),
                "description": "what keeps the record from being originator-ready",
            },
        },
    },
    "Decision": _DECISION,
    "Counterparty": _COUNTERPARTY,
    "TravelAddress": {
        "type": "object",
        "required": ["travel_address", "url", "customer_id", "address"],
        "properties": {
            "travel_address": {"type": "string", "example": "ta..."},
            "url": {"type": "string", "description": "https URL the address decodes to"},
            "customer_id": {"type": "string"},
            "address": {"type": "string", "description": "the deposit address it stands for"},
        },
    },
    "Violation": _VIOLATION,
    "Review": {
        "type": "object",
        "required": [
            "id",
            "kind",
            "subject_id",
            "rule",
            "reason",
            "state",
            "decision_reason",
            "decided_at",
            "created_at",
        ],
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string", "enum": ["withdrawal", "deposit"]},
            "subject_id": {
                "type": "string",
                "description": "the withdrawal id or the deposit id (both UUIDs)",
            },
            "rule": {"type": ["string", "null"]},
            "reason": {"type": ["string", "null"]},
            "state": {"type": "string", "enum": ["open", "accepted", "rejected", "closed"]},
            "decision_reason": {"type": ["string", "null"]},
            "decided_at": {"type": ["string", "null"], "format": "date-time"},
            "created_at": {"type": "string", "format": "date-time"},
            "amount": {**_DECIMAL, "type": ["string", "null"]},
            "asset": {"type": ["string", "null"]},
            "network": {"type": ["string", "null"]},
            "value": {
                "type": ["object", "null"],
                "description": "the withdrawal's fiat value as given (deposits: null)",
                "properties": {"amount": _DECIMAL, "currency": {"type": "string"}},
            },
            "customer_id": {"type": ["string", "null"]},
            "counterparty": {"oneOf": [_ref("Counterparty"), {"type": "null"}]},
            "subject_state": {
                "type": ["string", "null"],
                "description": "the state of the withdrawal or deposit now",
            },
        },
    },
    "Deposit": {
        "type": "object",
        "description": (
            "A transfer another VASP sent to one of our customers. Decision codes: the "
            "policy's (POLICY.COMPLETE, POLICY.UNKNOWN_BENEFICIARY, "
            "POLICY.BENEFICIARY_NAME_MISMATCH, POLICY.IVMS_INVALID, ...), REVIEW.ACCEPTED, "
            "REVIEW.REJECTED, PEER.ERROR (the sender ended the exchange; see trisa_code)."
        ),
        "required": [
            "id",
            "state",
            "counterparty",
            "peer",
            "customer_id",
            "asset",
            "network",
            "amount",
            "address",
            "tag",
            "txid",
            "originator",
            "originating_vasp",
            "envelope_id",
            "decision",
            "created_at",
            "updated_at",
            "version",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "state": {
                "type": "string",
                "enum": [
                    "started",
                    "pending",
                    "review",
                    "repair",
                    "accepted",
                    "completed",
                    "rejected",
                    "canceled",
                ],
            },
            "counterparty": _ref("Counterparty"),
            "peer": {"type": "string", "description": "the originating VASP's TRISA name"},
            "customer_id": {"type": ["string", "null"]},
            "asset": {"type": ["string", "null"]},
            "network": {"type": ["string", "null"]},
            "amount": {**_DECIMAL, "type": ["string", "null"]},
            "address": {"type": ["string", "null"]},
            "tag": {"type": ["string", "null"]},
            "txid": {"type": ["string", "null"]},
            "originator": {
                "type": ["object", "null"],
                "description": "the originator, an IVMS101 natural or legal person as received",
            },
            "originating_vasp": {
                "type": ["object", "null"],
                "description": "the originating VASP, an IVMS101 legal person as received",
            },
            "envelope_id": {"type": "string"},
            "decision": {"oneOf": [_ref("Decision"), {"type": "null"}]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "version": {"type": "integer", "description": "bumped on every change"},
        },
    },
    "CancelRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "reason": _nullable(
                _text(1000, "why, recorded on the withdrawal and in the audit trail")
            )
        },
    },
    "ReviewDecision": {
        "type": "object",
        "additionalProperties": False,
        "required": ["reason"],
        "properties": {
            "decision": {
                "type": "string",
                "enum": ["accept", "reject"],
                "description": "any other value is 422 invalid_value",
            },
            "action": {
                "description": "the older name of decision, read only when decision is absent",
                "deprecated": True,
            },
            "reason": {
                "type": "string",
                "pattern": _HAS_TEXT,
                "description": "why, for the audit trail (the first 1000 characters are kept)",
            },
        },
        "if": {"required": ["decision"]},
        "else": {
            "required": ["action"],
            "properties": {"action": {"type": "string", "enum": ["accept", "reject"]}},
        },
    },
    "OutboxItem": {
        "type": "object",
        "required": [
            "id",
            "kind",
            "target",
            "withdrawal_id",
            "envelope_id",
            "transfer_state",
            "event_id",
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
        ],
        "properties": {
            "id": {"type": "integer"},
            "kind": {
                "type": "string",
                "description": "what is sent: transfer (a TRISA envelope), trp, webhook, or "
                "email (a sunrise link or one-time code: transfer_state says which, "
                "envelope_id is the link)",
            },
            "target": {
                "type": "string",
                "description": "the peer's name, the webhook or TRP URL, or the email address",
            },
            "withdrawal_id": {"type": ["string", "null"]},
            "envelope_id": {"type": ["string", "null"]},
            "transfer_state": {"type": ["string", "null"]},
            "event_id": {"type": ["string", "null"]},
            "state": {"type": "string", "enum": ["pending", "delivered", "dead"]},
            "attempts": {"type": "integer", "minimum": 0},
            "next_attempt_at": {"type": "string", "format": "date-time"},
            "last_error": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "BroadcastRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["txid"],
        "properties": {
            "txid": {
                "type": "string",
                "maxLength": 256,
                "pattern": _HAS_TEXT,
                "description": "the transaction id on chain",
            }
        },
    },
}


_ALERT_TYPE = {"type": "string", "enum": list(ALERT_TYPES)}
_WALLET_FIELDS = {
    "address": _text(MAX_TEXT),
    "network": _text(MAX_TEXT, example="ethereum"),
}
_SIGNED_PROOF = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "message", "signature"],
    "properties": {
        "type": {"type": "string", "enum": ["eip191", "bip137"]},
        "message": _text(4096, "the challenge exactly as issued"),
        "signature": _text(
            1024,
            "eip191: 65 bytes hex (personal_sign); bip137: base64 (P2PKH, P2SH-P2WPKH, P2WPKH)",
        ),
    },
}
_MANUAL_PROOF = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "evidence"],
    "properties": {
        "type": {"type": "string", "const": "manual"},
        "evidence": _text(
            4096,
            "what the person checked (e.g. a Satoshi test's txid); needs a key with the "
            "reviews scope",
        ),
    },
}
SCHEMAS.update(
    {
        "WalletChallenge": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "message": {
                    "type": "string",
                    "description": (
                        "the text to sign: our VASP, the customer, the address and network, "
                        "a nonce; single use, valid 15 minutes"
                    ),
                },
                "expires_at": {"type": "string", "format": "date-time"},
            },
        },
        "WalletProof": {
            "type": "object",
            "additionalProperties": False,
            "required": ["address", "network", "proof"],
            "properties": {
                **_WALLET_FIELDS,
                "proof": {"oneOf": [_SIGNED_PROOF, _MANUAL_PROOF]},
            },
        },
        "Wallet": {
            "type": "object",
            "required": ["address", "network", "verified", "method", "verified_at"],
            "properties": {
                **_WALLET_FIELDS,
                "verified": {"type": "boolean", "const": True},
                "method": {"type": "string", "enum": ["eip191", "bip137", "manual"]},
                "verified_at": {"type": "string", "format": "date-time"},
            },
        },
        "BookEntry": {
            "type": "object",
            "required": ["address", "network", "kind", "verified", "verified_at"],
            "properties": {
                **_WALLET_FIELDS,
                "kind": {
                    "type": "string",
                    "enum": ["self_hosted", "vasp"],
                    "description": (
                        "self_hosted: proved by the customer; vasp: a destination whose "
                        "VASP accepted an exchange"
                    ),
                },
                "verified": {"type": "boolean"},
                "method": {"type": ["string", "null"]},
                "verified_at": {"type": "string", "format": "date-time"},
                "vasp": {"type": ["string", "null"]},
                "beneficiary_name": {"type": ["string", "null"]},
                "first_used_at": {"type": ["string", "null"], "format": "date-time"},
                "last_used_at": {"type": ["string", "null"], "format": "date-time"},
            },
        },
        "Alert": {
            "type": "object",
            "required": ["id", "type", "severity", "subject", "created_at"],
            "properties": {
                "id": {"type": "string"},
                "type": {
                    "type": "string",
                    "enum": list(ALERT_TYPES),
                },
                "severity": {"type": "string", "enum": ["info", "warning", "critical"]},
                "subject": {"type": "string", "example": "peer:bob.example"},
                "created_at": {"type": "string", "format": "date-time"},
                "detail": {"type": "object"},
            },
        },
    }
)


def _withdrawal_request(assets: list[str]) -> dict[str, Any]:
    """The body of POST /v1/withdrawals; `assets` are the node's ([api] assets)."""
    vasp_named = {
        "if": {
            "required": ["destination"],
            "properties": {
                "destination": {"required": ["kind"], "properties": {"kind": {"const": "vasp"}}}
            },
        },
        "then": {
            "required": ["beneficiary_vasp"],
            "properties": {
                "beneficiary_vasp": {"type": "string", "not": {"pattern": _SELF_HOSTED}}
            },
        },
    }
    self_hosted = {
        "if": {
            "required": ["destination"],
            "properties": {
                "destination": {
                    "required": ["kind"],
                    "properties": {"kind": {"const": "self_hosted"}},
                }
            },
        },
        "then": {
            "anyOf": [
                {"not": {"required": ["beneficiary_vasp"]}},
                {
                    "properties": {
                        "beneficiary_vasp": {
                            "anyOf": [{"type": "null"}, {"type": "string", "pattern": _SELF_HOSTED}]
                        }
                    }
                },
            ]
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["asset", "network", "amount", "destination", "originator", "beneficiary"],
        "allOf": [vasp_named, self_hosted],
        "properties": {
            "asset": {
                "type": "string",
                "enum": assets,
                "example": "BTC",
                "description": "one of the node's assets ([api] assets; case does not matter)",
            },
            "network": _text(MAX_TEXT, example="bitcoin"),
            "amount": _AMOUNT,
            "value": _fiat_value(),
            "destination": {
                "type": "object",
                "additionalProperties": False,
                "anyOf": [
                    {"required": ["address"], "properties": {"address": {"type": "string"}}},
                    {
                        "required": ["travel_address"],
                        "properties": {"travel_address": {"type": "string"}},
                    },
                ],
                "properties": {
                    "address": _text(
                        MAX_TEXT,
                        "optional with travel_address: then the address the beneficiary VASP "
                        "approves must equal it (else review, TRP.ADDRESS_MISMATCH)",
                    ),
                    "travel_address": _nullable(
                        _text(
                            MAX_TEXT,
                            "the beneficiary VASP's Travel Address (or an LNURL or https inquiry "
                            "URL): the exchange runs over TRP and beneficiary_vasp is not "
                            "needed; one that does not decode is 422 invalid_travel_address",
                            pattern=r"^(ta[1-9A-HJ-NP-Za-km-z]{20,}|lnurl1[02-9ac-hj-np-z]{20,}"
                            r"|LNURL1[02-9AC-HJ-NP-Z]{20,}|https://\S+)$",
                        )
                    ),
                    "tag": _nullable(_text(MAX_TEXT)),
                    "kind": {
                        "type": ["string", "null"],
                        "enum": ["vasp", "self_hosted", None],
                        "description": (
                            '"vasp": beneficiary_vasp is required; "self_hosted": an unhosted '
                            "wallet (the customer's own or a third party's), the profiles "
                            "decide whether an ownership check is needed; omitted: the "
                            "counterparty is resolved by address, and an address nobody can "
                            "attribute goes to review (COUNTERPARTY.UNKNOWN)"
                        ),
                    },
                },
            },
            "originator": {
                "oneOf": [
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["customer_id"],
                        "description": "a customer of ours (PUT /v1/customers/{id}); "
                        "unknown: 422 unknown_customer",
                        "properties": {
                            "customer_id": _text(MAX_TEXT),
                            "account": _text(MAX_TEXT, "not used: the customer's id is sent"),
                        },
                    },
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["person", "account"],
                        "properties": {
                            "person": person(originator=True),
                            "account": _text(MAX_TEXT),
                        },
                    },
                ]
            },
            "beneficiary": {
                "oneOf": [
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name"],
                        "properties": {"name": _text(MAX_TEXT)},
                    },
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["person"],
                        "properties": {"person": person()},
                    },
                ]
            },
            "beneficiary_vasp": _nullable(
                _text(
                    MAX_TEXT,
                    'the VASP\'s TRISA name, "self-hosted", or omitted to resolve by address; '
                    "never this node's own name (422 own_vasp)",
                )
            ),
        },
    }


def _page(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": {"type": ["string", "null"]},
        },
    }


# A cursor is the unpadded base64url of a row's decimal number, so its text is a regular
# language: four characters per three ASCII digits, no leading zero. The pattern admits
# rows up to 17 digits; an empty cursor is the first page.
_PAIR = "(?:M[DTjz]|N[DTjz]|O[DT])"
_LEAD = "(?:M[Tjz]|N[DTjz]|O[DT])"
_THIRD, _FOURTH = "[AEIMQUYcgk]", "[w-z0-5]"
_LAST_DIGIT = "(?:M[AQgw]|N[AQgw]|O[AQ])"
_CURSOR = (
    f"^(?:{_LEAD}{_THIRD}{_FOURTH}(?:{_PAIR}{_THIRD}{_FOURTH}){{0,4}}"
    f"(?:{_LAST_DIGIT}|{_PAIR}{_THIRD})?|{_LAST_DIGIT}|{_LEAD}{_THIRD}|)$"
)


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _state(states: list[str], description: str = "only in this state") -> dict[str, Any]:
    return _query("state", description, {"type": "string", "enum": states})


_PAGING = [
    _query(
        "limit", "items per page (default 50)", {"type": "integer", "minimum": 1, "maximum": 500}
    ),
    _query(
        "cursor",
        "next_cursor of the previous page; anything else is 400 bad_cursor",
        {"type": "string", "maxLength": 26, "pattern": _CURSOR},
    ),
]
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
_CUSTOMER_ID = [
    {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": _HAS_TEXT},
    }
]
_FILTERS = [
    _query("customer_id", "only this customer's", {"type": "string"}),
    _query("counterparty", "only with this counterparty (its TRISA name)", {"type": "string"}),
]
_TIME = {"type": "string", "format": "date-time"}
_WITHDRAWAL_STATES = [
    "held", "awaiting_reply", "cleared", "released", "review", "rejected", "expired", "canceled",
]  # fmt: skip
_DEPOSIT_STATES = [
    "started", "pending", "review", "repair", "accepted", "completed", "rejected", "canceled",
]  # fmt: skip
_REVIEW_STATES = ["open", "accepted", "rejected", "closed"]
_WITHDRAWAL_FILTERS = [
    _state(_WITHDRAWAL_STATES),
    *_FILTERS,
    _query("created_after", "created after this RFC 3339 time", _TIME),
    _query("created_before", "created before this RFC 3339 time", _TIME),
]


def _wait(long_poll_max: float) -> list[dict[str, Any]]:
    return [
        _query(
            "wait",
            "long poll up to this many seconds ([api] long_poll_max at most): the hold at "
            "once unless it is held or awaiting_reply, else at its first state change",
            {"type": "number", "minimum": 0, "maximum": long_poll_max},
        ),
        _query(
            "version",
            "return as soon as the hold's version differs from this one (with wait)",
            {"type": "integer", "minimum": 0},
        ),
    ]


_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "the same key and body again give the same hold (200); another body: 409",
    "schema": _text(255),
}
_FOUR_EYES = _json(
    _ref("Error"),
    "The review is already decided (illegal_state), or the API key that created the "
    "withdrawal tries to decide its review (four_eyes; [api] four_eyes = false turns it off)",
)


def _body(name: str, *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": _ref(name)}}}


def _public(
    schema: dict[str, Any] | None, description: str, media: str = "application/json"
) -> dict[str, Any]:
    """An operation anyone may call: no key; unknown query parameters are still refused."""
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = {media: {"schema": schema}}
    return {"security": [], "responses": {"200": answer, **_errors(400, 431, 503)}}


def openapi_document(
    *, long_poll_max: float = 60.0, assets: Iterable[str] = DEFAULT_ASSETS
) -> dict[str, Any]:
    """The document for a node with these settings ([api] long_poll_max, [api] assets)."""
    schemas = {**SCHEMAS, "WithdrawalRequest": _withdrawal_request(sorted(set(assets)))}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "travelgate internal API",
            "version": __version__,
            "description": (
                "Withdrawal holds for the exchange's withdrawal service: a withdrawal to "
                "another VASP is held until the travel-rule exchange completes. Deposits: "
                "what other VASPs sent to our customers. API keys carry scopes "
                "(withdrawals, deposits, customers, reviews, admin for /v1/outbox and "
                "/v1/alerts); a path without its scope is 403 forbidden_scope."
            ),
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/v1/withdrawals": {
                "post": {
                    "summary": "Hold a withdrawal until the travel-rule exchange is done",
                    "description": (
                        "422 codes beyond the field checks: `invalid_originator` (field "
                        "`originator`: the stored or inline originator fails the IVMS101 "
                        "rules for an originator under the node's profile; nothing is stored "
                        "or sent), `own_vasp` (beneficiary_vasp names this node), "
                        "`unknown_customer`, `invalid_person`."
                    ),
                    "parameters": [_IDEMPOTENCY_KEY],
                    "requestBody": _body("WithdrawalRequest"),
                    "responses": {
                        "201": _json(_ref("Withdrawal"), "Created"),
                        "200": _json(_ref("Withdrawal"), "The same request again: the same hold"),
                        **_errors(*_BODY_CALL, 409),
                    },
                },
                "get": {
                    "summary": "List withdrawals, newest first",
                    "parameters": [*_WITHDRAWAL_FILTERS, *_PAGING],
                    "responses": {
                        "200": _json(_page("Withdrawal"), "A page"),
                        **_errors(*_ANY_CALL),
                    },
                },
            },
            "/v1/withdrawals/{id}": {
                "get": {
                    "summary": "One withdrawal; ?wait=SECONDS[&version=V] long-polls for news",
                    "parameters": [*_ID, *_wait(long_poll_max)],
                    "responses": {
                        "200": _json(_ref("Withdrawal"), "The withdrawal"),
                        **_errors(*_ANY_CALL, 404),
                    },
                }
            },
            "/v1/withdrawals/{id}/broadcast": {
                "post": {
                    "summary": "Record the broadcast and send the COMPLETED envelope with the txid",
                    "parameters": _ID,
                    "requestBody": _body("BroadcastRequest"),
                    "responses": {
                        "200": _json(_ref("Withdrawal"), "Released"),
                        **_errors(*_BODY_CALL, 404, 409),
                    },
                }
            },
            "/v1/withdrawals/{id}/cancel": {
                "post": {
                    "summary": "Cancel a withdrawal (the counterparty is told)",
                    "parameters": _ID,
                    "requestBody": _body("CancelRequest", required=False),
                    "responses": {
                        "200": _json(_ref("Withdrawal"), "Canceled"),
                        **_errors(*_BODY_CALL, 404, 409),
                    },
                }
            },
            "/v1/deposits": {
                "get": {
                    "summary": "Transfers other VASPs sent to our customers, newest first",
                    "parameters": [_state(_DEPOSIT_STATES), *_FILTERS, *_PAGING],
                    "responses": {"200": _json(_page("Deposit"), "A page"), **_errors(*_ANY_CALL)},
                }
            },
            "/v1/deposits/{id}": {
                "get": {
                    "summary": "One deposit (also the data of deposit.* webhooks)",
                    "parameters": _ID,
                    "responses": {
                        "200": _json(_ref("Deposit"), "The deposit"),
                        **_errors(*_ANY_CALL, 404),
                    },
                }
            },
            "/v1/customers": {
                "get": {
                    "summary": "Our customers, newest first",
                    "parameters": _PAGING,
                    "responses": {"200": _json(_page("Customer"), "A page"), **_errors(*_ANY_CALL)},
                }
            },
            "/v1/customers/{id}": {
                "put": {
                    "summary": "Create or replace a customer and their deposit addresses",
                    "parameters": _CUSTOMER_ID,
                    "requestBody": _body("Customer"),
                    "responses": {
                        "201": _json(_ref("Customer"), "Created"),
                        "200": _json(_ref("Customer"), "Replaced"),
                        **_errors(*_BODY_CALL),
                        "409": _json(
                            _ref("Error"),
                            "A deposit address belongs to another customer (address_taken)",
                        ),
                    },
                },
                "get": {
                    "summary": "One customer",
                    "parameters": _ID,
                    "responses": {
                        "200": _json(_ref("Customer"), "The customer"),
                        **_errors(*_ANY_CALL, 404),
                    },
                },
                "delete": {
                    "summary": "Delete a customer",
                    "parameters": _ID,
                    "responses": {"204": {"description": "Deleted"}, **_errors(*_ANY_CALL, 404)},
                },
            },
            "/v1/customers/{id}/travel-addresses": {
                "post": {
                    "summary": "Mint a Travel Address for one of the customer's addresses (TRP)",
                    "description": (
                        "Each call mints a new unguessable token routed by our TRP server; "
                        "inquiries to it are deposits to this customer's address. Body "
                        'optional: {"address": one of the customer\'s addresses} (default: '
                        "the first). 409 `trp_disabled` when [trp] is not enabled."
                    ),
                    "parameters": _ID,
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {"address": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _json(_ref("TravelAddress"), "Minted"),
                        **_errors(*_BODY_CALL, 404, 409),
                    },
                }
            },
            "/v1/reviews": {
                "get": {
                    "summary": "The review queue",
                    "parameters": [_state(_REVIEW_STATES), *_PAGING],
                    "responses": {"200": _json(_page("Review"), "A page"), **_errors(*_ANY_CALL)},
                }
            },
            "/v1/reviews/{id}/decision": {
                "post": {
                    "summary": "Accept or reject a held withdrawal or inbound transfer",
                    "description": (
                        "Accepting a withdrawal to a VASP starts or resumes the exchange "
                        "(awaiting_reply); it clears on a valid, policy-sufficient reply. "
                        "Acceptance clears a withdrawal only where no exchange is possible "
                        "(decision code REVIEW.ACCEPTED, the reason says why). 409 "
                        "`own_data_missing`: our originator data is still incomplete."
                    ),
                    "parameters": _ID,
                    "requestBody": _body("ReviewDecision"),
                    "responses": {
                        "200": _json(_ref("Review"), "Decided"),
                        **_errors(*_BODY_CALL, 404),
                        "409": _FOUR_EYES,
                    },
                }
            },
            "/v1/reviews/{id}": {
                "get": {
                    "summary": "One review item, with what it is about",
                    "parameters": _ID,
                    "responses": {
                        "200": _json(_ref("Review"), "The review"),
                        **_errors(*_ANY_CALL, 404),
                    },
                }
            },
            "/v1/outbox": {
                "get": {
                    "summary": "Outgoing envelopes and webhooks (state=dead shows dead letters)",
                    "parameters": [
                        _state(["pending", "delivered", "dead"]),
                        _query("withdrawal", "only this withdrawal's", {"type": "string"}),
                        _PAGING[0],
                    ],
                    "responses": {
                        "200": _json(_page("OutboxItem"), "Outbox rows (one page)"),
                        **_errors(*_ANY_CALL),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness: the API answers",
                    **_public(
                        {
                            "type": "object",
                            "required": ["status"],
                            "properties": {"status": {"type": "string", "const": "ok"}},
                        },
                        "Alive",
                    ),
                }
            },
            "/metrics": {
                "get": {
                    "summary": (
                        "Prometheus metrics: envelopes, exchange times, hold transitions, and "
                        "the gauges travelgate_holds{state}, travelgate_reviews_open, "
                        "travelgate_reviews_oldest_age_seconds, "
                        "travelgate_outbox_pending{target}, travelgate_outbox_dead{target}"
                    ),
                    **_public(
                        {"type": "string"}, "Prometheus text exposition format", "text/plain"
                    ),
                }
            },
            **_wallet_and_alert_paths(),
            "/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    **_public({"type": "object"}, "OpenAPI 3.1"),
                }
            },
        },
    }


def _wallet_and_alert_paths() -> dict[str, Any]:
    address = [
        *_ID,
        {"name": "address", "in": "path", "required": True, "schema": {"type": "string"}},
    ]
    return {
        "/v1/customers/{id}/wallets/challenge": {
            "get": {
                "summary": "A text for the customer to sign with a self-hosted wallet",
                "parameters": [
                    *_ID,
                    {
                        **_query("address", "the wallet's address", _text(MAX_TEXT)),
                        "required": True,
                    },
                    {
                        **_query("network", "e.g. ethereum, bitcoin", _text(MAX_TEXT)),
                        "required": True,
                    },
                ],
                "responses": {
                    "200": _json(_ref("WalletChallenge"), "The challenge"),
                    **_errors(*_ANY_CALL, 404, 422),
                },
            }
        },
        "/v1/customers/{id}/wallets": {
            "get": {
                "summary": (
                    "The customer's address book: verified self-hosted wallets and "
                    "destinations verified by an accepted exchange"
                ),
                "parameters": _ID,
                "responses": {
                    "200": _json(_page("BookEntry"), "The book"),
                    **_errors(*_ANY_CALL, 404),
                },
            },
            "post": {
                "summary": "Record a self-hosted wallet the customer proved to control",
                "description": (
                    "422 `invalid_proof`: the signature does not match the address or the "
                    "message, or the challenge is expired, reused or not ours. A manual "
                    "attestation needs a key with the reviews scope (403 forbidden_scope)."
                ),
                "parameters": _ID,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("WalletProof")}},
                },
                "responses": {
                    "201": _json(_ref("Wallet"), "Verified"),
                    **_errors(*_BODY_CALL, 404),
                },
            },
        },
        "/v1/customers/{id}/wallets/{address}": {
            "delete": {
                "summary": "Remove an address from the customer's book",
                "parameters": address,
                "responses": {"204": {"description": "Removed"}, **_errors(*_ANY_CALL, 404)},
            }
        },
        "/v1/alerts": {
            "get": {
                "summary": "Security alerts, newest first (admin scope)",
                "parameters": [
                    _query(
                        "type", "only alerts of this type", {"type": "string", "enum": ALERT_TYPES}
                    ),
                    *_PAGING,
                ],
                "responses": {"200": _json(_page("Alert"), "A page"), **_errors(*_ANY_CALL)},
            }
        },
    }
