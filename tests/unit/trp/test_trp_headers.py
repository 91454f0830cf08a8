"""TRP headers, content types and the discoverability answers (trp.md 4.1, 5.5, 7)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from travelgate.errors import TrpBodyError, TrpHeaderError, TrpMediaTypeError
from travelgate.trp import (
    API_VERSION,
    ExtensionsInfo,
    IdentityInfo,
    RequestHeaders,
    VersionInfo,
    check_content_type,
    dumps,
    emit_discovery,
    emit_uptime,
    is_semver,
    new_request_identifier,
    parse_extension_names,
    parse_extensions,
    parse_identity,
    parse_request_headers,
    parse_uptime,
    parse_version,
    request_headers,
    response_headers,
)

EXAMPLES = json.loads(
    (Path(__file__).parents[2] / "vectors" / "trp" / "examples.json").read_text()
)["exchanges"]
CLIENT_FIXTURES = (
    Path(__file__).parents[2] / "vectors" / "trisa" / "pkg" / "openvasp" / "client" / "testdata"
)

RID = "129f6013-9125-4beb-9e86-bb20c440e164"


def test_every_worked_request_carries_valid_headers() -> None:
    for exchange in EXAMPLES:
        if not exchange["start_line"].startswith("POST"):
            continue
        headers = parse_request_headers(exchange["headers"], accepted_versions={"3.1.0", "3.2.1"})
        assert headers.request_identifier in (RID, "4f3c8e0a-2b1d-4c5e-9f60-7a8b9c0d1e2f")
        check_content_type(exchange["headers"]["content-type"])


def test_worked_responses_echo_the_identifier() -> None:
    for exchange in EXAMPLES:
        if (
            exchange["start_line"].startswith("HTTP/1.1")
            and "request-identifier" in exchange["headers"]
        ):
            version = exchange["headers"]["api-version"]
            expected = response_headers(
                exchange["headers"]["request-identifier"],
                api_version=version,
                with_json=exchange["headers"]
                .get("content-type", "")
                .startswith("application/json"),
            )
            # Error answers of the reference are text/plain; ours are built by the server.
            received = {
                k: v for k, v in exchange["headers"].items() if not v.startswith("text/plain")
            }
            assert expected == received


def test_the_reference_version_only_by_default() -> None:
    assert parse_request_headers({"api-version": "3.1.0", "request-identifier": RID}) == (
        RequestHeaders("3.1.0", RID, ())
    )
    with pytest.raises(TrpHeaderError, match=r"must specify api version header 3\.1\.0") as caught:
        parse_request_headers({"api-version": "3.2.1", "request-identifier": RID})
    assert caught.value.status == 400
    with pytest.raises(TrpHeaderError, match="api version"):
        parse_request_headers({"request-identifier": RID})


def test_accepted_versions_are_configurable() -> None:
    parsed = parse_request_headers(
        {"API-Version": "3.2.1", "Request-Identifier": RID}, accepted_versions={"3.1.0", "3.2.1"}
    )
    assert parsed.api_version == "3.2.1"


@pytest.mark.parametrize("identifier", ["", "   ", "has space", "x" * 257, "caf\u00e9"])
def test_bad_request_identifiers(identifier: str) -> None:
    with pytest.raises(TrpHeaderError, match="request identifier"):
        parse_request_headers({"api-version": "3.1.0", "request-identifier": identifier})


def test_gets_may_omit_the_identifier() -> None:
    parsed = parse_request_headers({"api-version": "3.1.0"}, require_identifier=False)
    assert parsed.request_identifier == ""


@pytest.mark.parametrize(
    ("value", "names"),
    [
        (
            "request-signing,beneficiary-details-response",
            ("request-signing", "beneficiary-details-response"),
        ),
        ("message-signing, acme-risk-score", ("message-signing", "acme-risk-score")),
        (" a ,, b , a", ("a", "b")),
        ("", ()),
    ],
)
def test_extension_header_splitting(value: str, names: tuple[str, ...]) -> None:
    assert parse_extension_names(value) == names


def test_request_headers_we_send() -> None:
    headers = request_headers(RID, extensions=("a", "b"))
    assert headers == {
        "api-version": API_VERSION,
        "request-identifier": RID,
        "accept": "application/json",
        "api-extensions": "a, b",
        "content-type": "application/json; charset=utf-8",
    }
    assert "content-type" not in request_headers(RID, with_body=False)
    assert uuid.UUID(new_request_identifier()).version == 4
    assert API_VERSION == "3.1.0"
    assert is_semver(API_VERSION)
    assert not is_semver("3.1")


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
    ],
)
def test_json_content_types(value: str | None) -> None:
    check_content_type(value)


@pytest.mark.parametrize(
    "value", ["text/plain", "application/xml", "application/json; charset=latin-1", "json"]
)
def test_other_content_types_are_415(value: str) -> None:
    with pytest.raises(TrpMediaTypeError) as caught:
        check_content_type(value)
    assert caught.value.status == 415


def test_dumps_writes_plain_decimals_and_utf8() -> None:
    assert dumps({"a": Decimal("1E-7"), "b": [Decimal("-0"), 2, None, True], "c": "é"}) == (
        '{"a":0.0000001,"b":[0,2,null,true],"c":"é"}'.encode()
    )


def test_discovery_fixtures_and_our_answers() -> None:
    version = parse_version((CLIENT_FIXTURES / "version.json").read_bytes())
    assert version == VersionInfo("1.2.0", "21Analytics")
    extensions = parse_extensions((CLIENT_FIXTURES / "extensions.json").read_bytes())
    assert extensions == ExtensionsInfo(
        required=("message-signing",), supported=("extended-ivms101", "deterministic-transfer")
    )
    identity = parse_identity((CLIENT_FIXTURES / "identity.json").read_bytes())
    assert identity.name == "Acme VASP"
    assert identity.lei == "TVYD005I7Q5IJK0EMI53"
    assert identity.x509.startswith("-----BEGIN CERTIFICATE-----")
    assert parse_identity(b'{"name": "X", "registrationNumber": "1"}') == IdentityInfo(name="X")
    assert parse_extensions(b"{}") == ExtensionsInfo()
    assert emit_discovery(VersionInfo(API_VERSION)) == b'{"version":"3.1.0","vendor":"travelgate"}'
    assert emit_discovery(ExtensionsInfo()) == b'{"required":[],"supported":[]}'
    assert emit_discovery(IdentityInfo(name="Bob VASP", lei="")) == b'{"name":"Bob VASP"}'


def test_uptime_is_whole_seconds_as_text() -> None:
    assert emit_uptime(420.9) == b"420"
    assert parse_uptime(b"420\n") == 420
    with pytest.raises(TrpBodyError):
        parse_uptime(b"-1")
    with pytest.raises(TrpBodyError):
        parse_version(b'{"vendor": "x"}')
    with pytest.raises(TrpBodyError):
        parse_extensions(b'{"required": "message-signing"}')
