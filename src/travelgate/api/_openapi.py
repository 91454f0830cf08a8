"""The OpenAPI 3.1 description of the internal API, served at /v1/openapi.json."""

from __future__ import annotations

from typing import Any

from travelgate import __version__
from travelgate.transfers import DECISION_CODE_MEANINGS


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    str(status): _json(_ref("Error"), text)
    for status, text in (
        (
            400,
            "Malformed JSON, a missing Idempotency-Key, a bad query parameter, or one the "
            "endpoint does not take (unknown_parameter) or given twice (repeated_parameter)",
        ),
        (401, "No or wrong API key"),
        (403, "The API key lacks the scope of this endpoint (forbidden_scope)"),
        (404, "Unknown id"),
        (409, "Idempotency conflict or illegal state change"),
        (413, "Body over the limit"),
        (422, "Well-formed but invalid"),
    )
}

_DECIMAL = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "description": "exact decimal"}
_PERSON = {"type": "object", "description": "an IVMS101 Person in the standard JSON shape"}

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
            "enum": ["trisa", "trp", None],
            "description": "how we exchange with it; null when no exchange is possible",
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
    "WithdrawalRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["asset", "network", "amount", "destination", "originator", "beneficiary"],
        "properties": {
            "asset": {"type": "string", "example": "BTC"},
            "network": {"type": "string", "example": "bitcoin"},
            "amount": _DECIMAL,
            "value": {
                "type": ["object", "null"],
                "required": ["amount", "currency"],
                "properties": {
                    "amount": _DECIMAL,
                    "currency": {"type": "string", "example": "USD"},
                },
            },
            "destination": {
                "type": "object",
                "anyOf": [{"required": ["address"]}, {"required": ["travel_address"]}],
                "properties": {
                    "address": {
                        "type": "string",
                        "description": "optional with travel_address: then the address the "
                        "beneficiary VASP approves must equal it (else review, "
                        "TRP.ADDRESS_MISMATCH)",
                    },
                    "travel_address": {
                        "type": "string",
                        "example": "ta2W2HPKfHxgSgrzY178knqXHg1H3jfeQrwQ9JrKBs9wv",
                        "description": "the beneficiary VASP's Travel Address: the exchange "
                        "runs over TRP and beneficiary_vasp is not needed",
                    },
                    "tag": {"type": ["string", "null"]},
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
                        "required": ["customer_id"],
                        "properties": {"customer_id": {"type": "string"}},
                    },
                    {
                        "type": "object",
                        "required": ["person", "account"],
                        "properties": {"person": _PERSON, "account": {"type": "string"}},
                    },
                ]
            },
            "beneficiary": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"}},
                    },
                    {"type": "object", "required": ["person"], "properties": {"person": _PERSON}},
                ]
            },
            "beneficiary_vasp": {
                "type": ["string", "null"],
                "description": (
                    'the VASP\'s TRISA name, "self-hosted", or omitted to resolve by address; '
                    "never this node's own name (422 own_vasp)"
                ),
            },
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
            "person": _PERSON,
            "addresses": {
                "type": "array",
                "items": {"type": "string"},
                "description": "the customer's deposit addresses; required, possibly empty",
            },
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
        "required": ["id", "state", "counterparty", "envelope_id", "version"],
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
            "reason": {
                "type": "string",
                "maxLength": 1000,
                "description": "why, recorded on the withdrawal and in the audit trail",
            }
        },
    },
    "ReviewDecision": {
        "type": "object",
        "required": ["decision", "reason"],
        "properties": {
            "decision": {
                "type": "string",
                "enum": ["accept", "reject"],
                "description": "any other value is 422 invalid_value",
            },
            "reason": {"type": "string"},
        },
    },
}


_WALLET_FIELDS = {
    "address": {"type": "string"},
    "network": {"type": "string", "example": "ethereum"},
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
                "proof": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"type": "string", "enum": ["eip191", "bip137", "manual"]},
                        "message": {
                            "type": "string",
                            "description": "eip191, bip137: the challenge exactly as issued",
                        },
                        "signature": {
                            "type": "string",
                            "description": (
                                "eip191: 65 bytes hex (personal_sign); bip137: base64 "
                                "(P2PKH, P2SH-P2WPKH, P2WPKH)"
                            ),
                        },
                        "evidence": {
                            "type": "string",
                            "description": (
                                "manual: what the person checked (e.g. a Satoshi test's "
                                "txid); needs a key with the reviews scope"
                            ),
                        },
                    },
                },
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
                    "enum": [
                        "alert.peer_key_changed",
                        "alert.certificate_expiring",
                        "alert.dead_letter",
                        "alert.screening_hit",
                        "alert.webhook_failing",
                        "alert.review_backlog",
                    ],
                },
                "severity": {"type": "string", "enum": ["info", "warning", "critical"]},
                "subject": {"type": "string", "example": "peer:bob.example"},
                "created_at": {"type": "string", "format": "date-time"},
                "detail": {"type": "object"},
            },
        },
    }
)


def _page(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": {"type": ["string", "null"]},
        },
    }


_PAGING = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
]
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _query(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": schema or {"type": "string"},
    }


_FILTERS = [
    _query("customer_id", "only this customer's"),
    _query("counterparty", "only with this counterparty (its TRISA name)"),
]
_WITHDRAWAL_FILTERS = [
    _query("state", "only in this state"),
    *_FILTERS,
    _query("created_after", "created after this RFC 3339 time", type="string", format="date-time"),
    _query(
        "created_before", "created before this RFC 3339 time", type="string", format="date-time"
    ),
]
_WAIT = [
    _query(
        "wait",
        "long poll up to this many seconds: the hold at once unless it is held or "
        "awaiting_reply, else at its first state change",
        type="number",
        minimum=0,
    ),
    _query(
        "version",
        "with wait: return as soon as the hold's version differs from this one",
        type="integer",
        minimum=0,
    ),
]
_FOUR_EYES = _json(
    _ref("Error"),
    "The review is already decided (illegal_state), or the API key that created the "
    "withdrawal tries to decide its review (four_eyes; [api] four_eyes = false turns it off)",
)


def openapi_document() -> dict[str, Any]:
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
            "schemas": SCHEMAS,
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
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("WithdrawalRequest")}},
                    },
                    "responses": {
                        "201": _json(_ref("Withdrawal"), "Created"),
                        "200": _json(_ref("Withdrawal"), "The same request again: the same hold"),
                        **_ERRORS,
                    },
                },
                "get": {
                    "summary": "List withdrawals, newest first",
                    "parameters": [*_WITHDRAWAL_FILTERS, *_PAGING],
                    "responses": {"200": _json(_page("Withdrawal"), "A page"), **_ERRORS},
                },
            },
            "/v1/withdrawals/{id}": {
                "get": {
                    "summary": "One withdrawal; ?wait=SECONDS[&version=V] long-polls for news",
                    "parameters": [*_ID, *_WAIT],
                    "responses": {"200": _json(_ref("Withdrawal"), "The withdrawal"), **_ERRORS},
                }
            },
            "/v1/withdrawals/{id}/broadcast": {
                "post": {
                    "summary": "Record the broadcast and send the COMPLETED envelope with the txid",
                    "parameters": _ID,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["txid"],
                                    "properties": {"txid": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "responses": {"200": _json(_ref("Withdrawal"), "Released"), **_ERRORS},
                }
            },
            "/v1/withdrawals/{id}/cancel": {
                "post": {
                    "summary": "Cancel a withdrawal (the counterparty is told)",
                    "parameters": _ID,
                    "requestBody": {
                        "required": False,
                        "content": {"application/json": {"schema": _ref("CancelRequest")}},
                    },
                    "responses": {"200": _json(_ref("Withdrawal"), "Canceled"), **_ERRORS},
                }
            },
            "/v1/deposits": {
                "get": {
                    "summary": "Transfers other VASPs sent to our customers, newest first",
                    "parameters": [_query("state", "only in this state"), *_FILTERS, *_PAGING],
                    "responses": {"200": _json(_page("Deposit"), "A page"), **_ERRORS},
                }
            },
            "/v1/deposits/{id}": {
                "get": {
                    "summary": "One deposit (also the data of deposit.* webhooks)",
                    "parameters": _ID,
                    "responses": {"200": _json(_ref("Deposit"), "The deposit"), **_ERRORS},
                }
            },
            "/v1/customers": {
                "get": {
                    "summary": "Our customers, newest first",
                    "parameters": _PAGING,
                    "responses": {"200": _json(_page("Customer"), "A page"), **_ERRORS},
                }
            },
            "/v1/customers/{id}": {
                "put": {
                    "summary": "Create or replace a customer and their deposit addresses",
                    "parameters": _ID,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("Customer")}},
                    },
                    "responses": {
                        "201": _json(_ref("Customer"), "Created"),
                        "200": _json(_ref("Customer"), "Replaced"),
                        **_ERRORS,
                    },
                },
                "get": {
                    "summary": "One customer",
                    "parameters": _ID,
                    "responses": {"200": _json(_ref("Customer"), "The customer"), **_ERRORS},
                },
                "delete": {
                    "summary": "Delete a customer",
                    "parameters": _ID,
                    "responses": {"204": {"description": "Deleted"}, **_ERRORS},
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
                        **_ERRORS,
                    },
                }
            },
            "/v1/reviews": {
                "get": {
                    "summary": "The review queue",
                    "parameters": [_query("state", "open, accepted, rejected or closed"), *_PAGING],
                    "responses": {"200": _json(_page("Review"), "A page"), **_ERRORS},
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
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("ReviewDecision")}},
                    },
                    "responses": {
                        "200": _json(_ref("Review"), "Decided"),
                        **_ERRORS,
                        "409": _FOUR_EYES,
                    },
                }
            },
            "/v1/reviews/{id}": {
                "get": {
                    "summary": "One review item, with what it is about",
                    "parameters": _ID,
                    "responses": {"200": _json(_ref("Review"), "The review"), **_ERRORS},
                }
            },
            "/v1/outbox": {
                "get": {
                    "summary": "Outgoing envelopes and webhooks (state=dead shows dead letters)",
                    "parameters": [
                        {"name": "state", "in": "query", "schema": {"type": "string"}},
                        {"name": "withdrawal", "in": "query", "schema": {"type": "string"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    ],
                    "responses": {"200": {"description": "Outbox rows"}, **_ERRORS},
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness: the API answers",
                    "security": [],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"status": {"type": "string", "const": "ok"}},
                            },
                            "Alive",
                        )
                    },
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
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "Prometheus text exposition format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            **_wallet_and_alert_paths(),
            "/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI"}},
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
                    {**_query("address", "the wallet's address"), "required": True},
                    {**_query("network", "e.g. ethereum, bitcoin"), "required": True},
                ],
                "responses": {"200": _json(_ref("WalletChallenge"), "The challenge"), **_ERRORS},
            }
        },
        "/v1/customers/{id}/wallets": {
            "get": {
                "summary": (
                    "The customer's address book: verified self-hosted wallets and "
                    "destinations verified by an accepted exchange"
                ),
                "parameters": _ID,
                "responses": {"200": _json(_page("BookEntry"), "The book"), **_ERRORS},
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
                "responses": {"201": _json(_ref("Wallet"), "Verified"), **_ERRORS},
            },
        },
        "/v1/customers/{id}/wallets/{address}": {
            "delete": {
                "summary": "Remove an address from the customer's book",
                "parameters": address,
                "responses": {"204": {"description": "Removed"}, **_ERRORS},
            }
        },
        "/v1/alerts": {
            "get": {
                "summary": "Security alerts, newest first (admin scope)",
                "parameters": [_query("type", "only alerts of this type"), *_PAGING],
                "responses": {"200": _json(_page("Alert"), "A page"), **_ERRORS},
            }
        },
    }
