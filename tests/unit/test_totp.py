"""TOTP against the test vectors of RFC 6238 appendix B (SHA-1) and the URI apps read."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from travelgate.service import provisioning_uri, totp, totp_matches
from travelgate.service._totp import hotp

SECRET = b"12345678901234567890"


@pytest.mark.parametrize(
    ("moment", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_rfc_6238_vectors(moment: int, code: str) -> None:
    assert totp(SECRET, moment, digits=8) == code


def test_rfc_4226_vectors() -> None:
    assert [hotp(SECRET, n) for n in range(3)] == ["755224", "287082", "359152"]


def test_a_code_matches_within_one_period_either_side_only() -> None:
    code = totp(SECRET, 1_000_000)
    assert totp_matches(SECRET, code, at=1_000_000)
    assert totp_matches(SECRET, code, at=1_000_000 + 30)
    assert not totp_matches(SECRET, code, at=1_000_000 + 90)
    assert not totp_matches(SECRET, "000000x", at=1_000_000)


def test_the_provisioning_uri_carries_the_secret_and_issuer() -> None:
    uri = provisioning_uri(SECRET, account="ann@example.com", issuer="travelgate alice")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parts.path == "/travelgate%20alice:ann@example.com"
    query = parse_qs(parts.query)
    secret = query["secret"][0]
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == SECRET
    assert query["issuer"] == ["travelgate alice"]
    assert (query["digits"], query["period"], query["algorithm"]) == (["6"], ["30"], ["SHA1"])
