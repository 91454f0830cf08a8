"""Envelope ids (TRISA envelope ids) and RFC 3339 timestamps (4.9)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from travelgate import envelope as env
from travelgate.errors import BadRequestError, InvalidEnvelopeIdError

CANONICAL = "1e7bb3cc-53ff-41b8-870f-4c22110e6f04"


@pytest.mark.parametrize(
    "given",
    [
        CANONICAL,
        CANONICAL.upper(),
        CANONICAL.replace("-", ""),
        "{" + CANONICAL + "}",
        "urn:uuid:" + CANONICAL,
        "URN:UUID:" + CANONICAL.upper(),
    ],
)
def test_accepted_id_shapes_normalize_to_canonical(given: str) -> None:
    assert env.normalize_envelope_id(given) == CANONICAL


@pytest.mark.parametrize(
    "given",
    [
        "",
        "not-a-uuid",
        "1e7bb3cc53ff-41b8-870f-4c22110e6f04-",
        "1e7bb3cc-53ff-41b8-870f4c22110e6f04",
        "{" + CANONICAL,
        "urn:uuid:" + CANONICAL[:-1],
        "1e7bb3cc-53ff-41b8-870f-4c22110e6f0g",
        CANONICAL + " ",
    ],
)
def test_rejected_id_shapes(given: str) -> None:
    with pytest.raises(InvalidEnvelopeIdError):
        env.normalize_envelope_id(given)


def test_new_ids_are_canonical_uuid4() -> None:
    envelope_id = env.new_envelope_id()
    assert env.normalize_envelope_id(envelope_id) == envelope_id
    assert envelope_id[14] == "4"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-01-27T08:21:43Z", datetime(2022, 1, 27, 8, 21, 43, tzinfo=UTC)),
        ("2022-03-29T09:16:29.755212-05:00", datetime(2022, 3, 29, 14, 16, 29, 755212, tzinfo=UTC)),
        ("2025-07-15T10:46:38.123456789Z", datetime(2025, 7, 15, 10, 46, 38, 123456, tzinfo=UTC)),
        ("2025-07-15t10:46:38z", datetime(2025, 7, 15, 10, 46, 38, tzinfo=UTC)),
        ("2025-07-15T10:46:38.1+02:00", datetime(2025, 7, 15, 8, 46, 38, 100000, tzinfo=UTC)),
    ],
)
def test_rfc3339_timestamps_parse(text: str, expected: datetime) -> None:
    assert env.parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2022-01-27T08:21:43",
        "2022-01-27 08:21:43Z",
        "20220127T082143Z",
        "2022-01-27T08:21:43.1234567890Z",
        "2022-13-27T08:21:43Z",
        "2022-02-30T08:21:43Z",
        "2022-01-27T25:21:43Z",
        "2022-01-27",
    ],
)
def test_non_rfc3339_timestamps_are_refused(text: str) -> None:
    with pytest.raises(BadRequestError):
        env.parse_timestamp(text)


def test_emitted_timestamps_are_utc_with_microseconds() -> None:
    moment = datetime(2025, 7, 15, 10, 46, 38, 123456, tzinfo=UTC)
    assert env.format_timestamp(moment) == "2025-07-15T10:46:38.123456Z"
    assert env.format_timestamp_seconds(moment) == "2025-07-15T10:46:38Z"
    assert env.parse_timestamp(env.format_timestamp()) <= datetime.now(UTC)
