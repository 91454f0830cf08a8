"""The TRP wire model against the worked examples of trp.md 11 and the reference fixtures."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from travelgate.errors import (
    TrpBodyError,
    TrpExtensionError,
    TrpInvalidError,
    TrpTooLargeError,
)
from travelgate.ivms101 import IdentityPayload
from travelgate.trp import (
    Acknowledgement,
    Approval,
    Asset,
    Cancellation,
    Confirmation,
    Inquiry,
    Rejection,
    emit,
    parse_confirmation,
    parse_inquiry,
    parse_inquiry_response,
    parse_request_headers,
    parse_resolution,
    to_json,
    unsupported_extensions,
)

VECTORS = Path(__file__).parents[2] / "vectors"
EXAMPLES: dict[str, dict[str, Any]] = {
    exchange["name"]: exchange
    for exchange in json.loads((VECTORS / "trp" / "examples.json").read_text())["exchanges"]
}
OPENVASP = VECTORS / "trisa" / "pkg" / "openvasp"
CLIENT_FIXTURES = OPENVASP / "client" / "testdata"


def body(name: str) -> str:
    text: str = EXAMPLES[name]["body"]
    return text


def fixture(name: str) -> bytes:
    return (CLIENT_FIXTURES / name).read_bytes()


def inquiry_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(body("11.1 inquiry"))
    document.update(changes)
    return {key: value for key, value in document.items() if value is not None}


# --- inquiry ---------------------------------------------------------------------------


def test_worked_inquiry_parses_with_its_identity_validated() -> None:
    inquiry = parse_inquiry(body("11.1 inquiry"))
    assert inquiry.asset == Asset(dti="4H95J0R2X", slip0044="BTC")
    assert inquiry.amount == Decimal("0.00206412")
    assert inquiry.callback.endswith("/129f6013-9125-4beb-9e86-bb20c440e164/resolve")
    assert isinstance(inquiry.identity, IdentityPayload)
    assert inquiry.ivms101["originator"]["accountNumber"] == ["14HmBSwec8XrcWge9Zi1ZngNia64u3Wd2v"]
    assert inquiry.extensions == {}


def test_inquiry_round_trips_with_a_plain_decimal_amount() -> None:
    inquiry = parse_inquiry(body("11.1 inquiry"))
    emitted = emit(inquiry)
    assert b'"amount":0.00206412,' in emitted
    assert parse_inquiry(emitted) == inquiry
    assert json.loads(emitted) == json.loads(body("11.1 inquiry"))


@pytest.mark.parametrize(
    ("sent", "written"),
    [
        ("1e-07", "0.0000001"),
        ("1E+2", "100"),
        ("1", "1"),
        ("0.000021", "0.000021"),
        ("12.50", "12.50"),
    ],
)
def test_amounts_are_exact_and_never_use_exponents(sent: str, written: str) -> None:
    text = body("11.1 inquiry").replace("0.00206412", sent)
    inquiry = parse_inquiry(text)
    assert inquiry.amount == Decimal(sent)
    assert f'"amount":{written},'.encode() in emit(inquiry)


def test_reference_inquiry_fixtures_parse() -> None:
    server_side = parse_inquiry((OPENVASP / "testdata" / "inquiry.json").read_bytes())
    assert server_side.asset == Asset(slip0044="BTC")
    assert server_side.amount == 1
    assert server_side.callback == "https://beneficiary.com/transferConfirmation?q=3454366424"
    client_side = parse_inquiry(fixture("inquiry.json"))
    assert client_side.asset == Asset(dti="4H95J0R2X")
    assert client_side.amount == Decimal("0.000021")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": 0}, "greater than zero"),
        ({"amount": -1}, "greater than zero"),
        ({"amount": None}, "must specify amount"),
        ({"callback": None}, "must specify callback"),
        ({"IVMS101": None}, "must specify IVMS101"),
        ({"asset": {}}, "asset must name a dti or a slip0044"),
        ({"asset": {"dti": "not a dti"}}, "Digital Token"),
        ({"asset": {"slip0044": "B T C"}}, "coin symbol"),
        ({"callback": "http://trp.originator.com/cb"}, "absolute https URL"),
        ({"callback": "/relative"}, "absolute https URL"),
        ({"callback": "https://user:pw@trp.originator.com/cb"}, "credentials"),
        ({"amount": 1e-40}, "decimal places"),
        ({"amount": 10**40}, "integer digits"),
    ],
)
def test_unacceptable_content_is_422(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(TrpInvalidError, match=message) as caught:
        parse_inquiry(json.dumps(inquiry_document(**changes)))
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must not be empty"),
        ('{"data: "foo"}', r"badly-formed JSON \(at position 10\)"),
        ("[]", "must be a JSON object"),
        ('{"amount": NaN}', "badly-formed JSON"),
        ('{"a": 1, "a": 2}', "duplicate key"),
        ("{} {}", "single JSON object"),
        (b"\xff".decode("latin-1"), "badly-formed"),
    ],
)
def test_malformed_bodies_are_400(text: str, message: str) -> None:
    with pytest.raises(TrpBodyError, match=message) as caught:
        parse_inquiry(text)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": "0.5"}, '"amount" field'),
        ({"amount": True}, '"amount" field'),
        ({"asset": "BTC"}, '"asset" field'),
        ({"asset": {"slip0044": 0}}, "coin symbol string"),
        ({"callback": 7}, '"callback" field'),
        ({"IVMS101": "text"}, '"IVMS101" field'),
        ({"extensions": []}, '"extensions" field'),
        ({"acmeRiskScore": {"score": 12}}, 'unknown field "acmeRiskScore"'),
        ({"asset": {"dti": "4H95J0R2X", "chain": "x"}}, 'unknown field "chain" in asset'),
    ],
)
def test_wrong_types_and_unknown_fields_are_400_like_the_reference(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(TrpBodyError, match=message):
        parse_inquiry(json.dumps(inquiry_document(**changes)))


def test_key_case_variants_are_accepted_as_the_reference_decoder_does() -> None:
    document = inquiry_document()
    document["ivms101"] = document.pop("IVMS101")
    document["Callback"] = document.pop("callback")
    inquiry = parse_inquiry(json.dumps(document))
    assert inquiry.callback.startswith("https://trp.originator.com/")
    assert "IVMS101" in to_json(inquiry)
    document["IVMS101"] = document["ivms101"]
    with pytest.raises(TrpBodyError, match="twice"):
        parse_inquiry(json.dumps(document))


def test_body_over_the_limit_is_413() -> None:
    from travelgate.trp import parse_object

    with pytest.raises(TrpTooLargeError) as caught:
        parse_object(b" " * 101, limit=100)
    assert caught.value.status == 413


def test_invalid_identity_is_422_with_the_rule() -> None:
    document = inquiry_document()
    person = document["IVMS101"]["originator"]["originatorPersons"][0]["naturalPerson"]
    person["name"]["nameIdentifier"][0]["nameIdentifierType"] = "XXXX"
    with pytest.raises(TrpInvalidError, match="IVMS101 standard") as caught:
        parse_inquiry(json.dumps(document))
    assert caught.value.status == 422
    assert parse_inquiry(json.dumps(document), profile=None).identity is None


# --- extensions (trp.md 8, example 11.4) ------------------------------------------------


def test_unknown_extensions_are_recorded_and_ignored() -> None:
    example = EXAMPLES["11.4 inquiry with unknown extension"]
    headers = parse_request_headers(
        example["headers"], accepted_versions={"3.1.0", "3.2.0", "3.2.1"}
    )
    assert headers.api_version == "3.2.1"
    assert headers.extensions == ("message-signing", "acme-risk-score")
    # The example's originator has only a name, which IVMS101 rule C1 refuses; the core
    # fields and the extension handling are what this example is about.
    inquiry = parse_inquiry(example["body"], profile=None)
    assert inquiry.extensions == {"acme-risk-score": {"score": 12}}
    assert inquiry.amount == Decimal("0.5")
    assert unsupported_extensions(inquiry, headers.extensions) == (
        "message-signing",
        "acme-risk-score",
    )
    assert json.loads(emit(inquiry))["extensions"] == {"acme-risk-score": {"score": 12}}
    with pytest.raises(TrpInvalidError, match="C1"):
        parse_inquiry(example["body"])


def test_an_inquiry_that_only_works_through_an_extension_names_it() -> None:
    sealed = {"extensions": {"sealed-trisa-envelope": {"envelope": "{}"}}}
    with pytest.raises(TrpExtensionError, match="sealed-trisa-envelope") as caught:
        parse_inquiry(json.dumps(sealed))
    assert caught.value.status == 422


# --- answers, resolutions, confirmations ---------------------------------------------


def test_acknowledgements() -> None:
    assert parse_inquiry_response(body("11.1 acknowledgement")) == Acknowledgement("3.1.0")
    assert parse_inquiry_response(fixture("acknowledged.json")) == Acknowledgement("3.2.1")
    assert parse_inquiry_response(b"") == Acknowledgement("")
    assert parse_inquiry_response(b"{}") == Acknowledgement("")
    assert parse_inquiry_response(b'{"version": "3.1.0", "note": 1}') == Acknowledgement("3.1.0")
    assert emit(Acknowledgement()) == b'{"version":"3.1.0"}'


def test_immediate_decisions_in_the_200_body() -> None:
    approval = parse_inquiry_response(fixture("approved.json"))
    assert approval == Approval(
        "some payment address",
        "https://beneficiary.com/implementation/defined/path/for/transferConfirmation",
    )
    rejection = parse_inquiry_response(body("11.2 immediate rejection"))
    assert rejection == Rejection("beneficiary name does not match the account holder")
    with pytest.raises(TrpBodyError, match="mutually exclusive"):
        parse_inquiry_response(b'{"version": "3.1.0", "rejected": "no"}')


def test_resolutions_at_the_inquiry_callback() -> None:
    approval = parse_resolution(body("11.1 approval"))
    assert approval == Approval(
        "14WU745djqecaJ1gmtWQGeMCFim1W5MNp3",
        "https://beneficiary.com/transfers/7d1e0b5c-5f4a-4c43-9a57-3f0f8c0c2a11/confirm",
    )
    assert emit(approval) == body("11.1 approval").encode()
    rejection = parse_resolution(body("11.2 rejection"))
    assert rejection == Rejection("beneficiary name does not match the account holder")
    assert emit(rejection) == body("11.2 rejection").encode()
    assert parse_resolution(fixture("rejected.json")) == Rejection("human readable comment")


@pytest.mark.parametrize("reason", ["null", '""'])
def test_the_presence_of_rejected_is_a_rejection(reason: str) -> None:
    assert parse_resolution('{"rejected": ' + reason + "}") == Rejection("")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "must specify either approved or rejected"),
        ('{"version": "3.1.0"}', "not version"),
        ('{"approved": {"address": "a", "callback": "https://b.com/c"}, "rejected": "x"}', "both"),
        ('{"approved": {"address": "", "callback": "https://b.com/c"}}', "non-empty address"),
        ('{"approved": {"address": "a"}}', "approved.callback must specify"),
        ('{"approved": {"address": "a", "callback": "ftp://b.com"}}', "https URL"),
        ('{"approved": {"address": "a", "callback": "https://b.com", "memo": 1}}', "unknown field"),
        ('{"approved": "yes"}', '"approved" field'),
        ('{"rejected": 5}', '"rejected" field'),
    ],
)
def test_bad_resolutions_are_400(text: str, message: str) -> None:
    with pytest.raises(TrpBodyError, match=message):
        parse_resolution(text)


def test_confirmations_at_the_approval_callback() -> None:
    confirmation = parse_confirmation(body("11.1 confirmation"))
    assert confirmation == Confirmation(
        "05d9dc3fcbf48771c8ee9e95200877ef08e2766a780d4e44eee397633eb164d0"
    )
    assert emit(confirmation) == body("11.1 confirmation").encode()
    cancel = parse_confirmation(body("11.3 cancel"))
    assert cancel == Cancellation("broadcast failed; transfer abandoned")
    assert emit(cancel) == body("11.3 cancel").encode()
    assert parse_confirmation(fixture("confirmation.json")) == Confirmation(
        "[some asset-specific tx identifier]"
    )
    assert parse_confirmation(fixture("canceled.json")) == Cancellation("human readable comment")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"txid": "foo", "canceled": "reason"}', body("11.3 both members answer (Go)")),
        ("{}", "invalid: must specify either txid or canceled in confirmation"),
        ('{"txid": ""}', "must specify either txid or canceled"),
        ('{"txid": [1, 2, 3]}', 'invalid value for the "txid" field'),
        ('{"txid": "foo"}{"canceled": "reason"}', "must only contain a single JSON object"),
        ('{"txid": "foo", "amount": 1}', 'unknown field "amount"'),
    ],
)
def test_bad_confirmations_are_400_with_the_reference_texts(text: str, message: str) -> None:
    with pytest.raises(TrpBodyError) as caught:
        parse_confirmation(text)
    assert message in caught.value.message


def test_messages_are_frozen_values() -> None:
    inquiry = Inquiry(Asset(dti="4H95J0R2X"), Decimal("1"), "https://o.com/cb", {})
    with pytest.raises(AttributeError):
        inquiry.amount = Decimal(2)  # type: ignore[misc]
    assert inquiry == Inquiry(Asset(dti="4H95J0R2X"), Decimal("1"), "https://o.com/cb", {})
