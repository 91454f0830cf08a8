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
        (400, "Malformed JSON, a missing Idempotency-Key or a bad query parameter"),
        (401, "No or wrong API key"),
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
        "name": {"type": ["string", "null"], "description": "the VASP's TRISA name"},
        "protocol": {
            "type": ["string", "null"],
            "enum": ["trisa", None],
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
                "required": ["address"],
                "properties": {
                    "address": {"type": "string"},
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
        },
    },
    "Customer": {
        "type": "object",
        "required": ["person", "addresses"],
        "properties": {
            "person": _PERSON,
            "addresses": {"type": "array", "items": {"type": "string"}},
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
    "Violation": _VIOLATION,
    "Review": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string", "enum": ["withdrawal", "deposit"]},
            "subject_id": {"type": "string"},
            "rule": {"type": ["string", "null"]},
            "reason": {"type": ["string", "null"]},
            "state": {"type": "string", "enum": ["open", "accepted", "rejected", "closed"]},
        },
    },
    "ReviewDecision": {
        "type": "object",
        "required": ["decision", "reason"],
        "properties": {
            "decision": {"type": "string", "enum": ["accept", "reject"]},
            "reason": {"type": "string"},
        },
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


_PAGING = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
]
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "travelgate internal API",
            "version": __version__,
            "description": (
                "Withdrawal holds for the exchange's withdrawal service: a withdrawal to "
                "another VASP is held until the travel-rule exchange completes."
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
                    "parameters": [
                        {"name": "state", "in": "query", "schema": {"type": "string"}},
                        *_PAGING,
                    ],
                    "responses": {"200": _json(_page("Withdrawal"), "A page"), **_ERRORS},
                },
            },
            "/v1/withdrawals/{id}": {
                "get": {
                    "summary": "One withdrawal; ?wait=SECONDS long-polls for a state change",
                    "parameters": [
                        *_ID,
                        {"name": "wait", "in": "query", "schema": {"type": "number"}},
                    ],
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
                    "responses": {"200": _json(_ref("Withdrawal"), "Canceled"), **_ERRORS},
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
            "/v1/reviews": {
                "get": {
                    "summary": "The review queue",
                    "parameters": [
                        {"name": "state", "in": "query", "schema": {"type": "string"}},
                        *_PAGING,
                    ],
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
                    "responses": {"200": _json(_ref("Review"), "Decided"), **_ERRORS},
                }
            },
            "/v1/outbox": {
                "get": {
                    "summary": "Outgoing envelopes and webhooks (state=dead shows dead letters)",
                    "parameters": [
                        {"name": "state", "in": "query", "schema": {"type": "string"}},
                        {"name": "withdrawal", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {"200": {"description": "Outbox rows"}, **_ERRORS},
                }
            },
            "/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI"}},
                }
            },
        },
    }
