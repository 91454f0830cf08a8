"""Fuzz how the node reads the amount of a peer's Transaction (the double `amount`, or the
exact text in `extra_json`'s `amount_exact`): an amount in the grammar, or VALIDATION_ERROR.

Found by this target: a deeply nested `extra_json` escaped as a RecursionError and `"1_0"`
was read as ten.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.errors import ValidationError
from travelgate.transfers import parse_amount, transaction_amount

from ._harness import FUZZ, json_values, only

EXTRA_JSON = st.one_of(
    st.just(""),
    st.text(max_size=30),
    json_values(8).map(lambda v: json.dumps(v)),
    st.builds(lambda a: json.dumps({"amount_exact": a}), json_values(2)),
)


@FUZZ
@given(EXTRA_JSON, st.floats(min_value=0, exclude_min=True))
@example("[" * 100_000, 0.5)
@example('{"amount_exact": "1_0"}', 0.5)
def test_peer_amounts_are_in_the_grammar_or_validation_errors(extra: str, amount: float) -> None:
    transaction = transaction_pb2.Transaction(extra_json=extra, amount=amount)
    with only(ValidationError):
        value: Any = transaction_amount(transaction.amount, transaction.extra_json)
        assert isinstance(value, Decimal)
        assert parse_amount(format(value, "f")) == value
