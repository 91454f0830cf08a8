"""Fuzz the sunrise beneficiary form: any posted fields give a valid IVMS101 Person or
errors by field, never an exception; what validates always encodes to protobuf."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from travelgate.sunrise._form import FIELDS, read_form, validate_form
from travelgate.trisa import person_from_json

from ._harness import FUZZ, time_bound

VALUES = st.text(max_size=60) | st.sampled_from(
    ["natural", "legal", "GB", "XX", "1980-01-31", "2024-02-30", "", " ", "\x00", "7"]
)
FORMS = st.dictionaries(st.sampled_from([*FIELDS, "csrf", "decision"]), VALUES, max_size=14)


@FUZZ
@given(FORMS, st.sampled_from(["strict", "standard", "interop"]))
@example({"kind": "natural", "family_name": "x" * 10_000}, "standard")
@example({"kind": "legal", "legal_name": "Ltd", "country": "gb"}, "strict")
def test_any_posted_form_is_a_person_or_errors_by_field(
    posted: dict[str, str], profile: str
) -> None:
    with time_bound():
        form = read_form(posted)
        person = validate_form(form, profile)
        if person is None:
            assert form.errors
            assert set(form.errors) <= set(FIELDS)
        else:
            assert not form.errors
            person_from_json(person)
