"""The `[trp]` section, the withdrawal's `destination.travel_address`, and protocol routing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from travelgate.config import load_config
from travelgate.errors import ConfigError, InvalidRequestError
from travelgate.service._requests import parse_withdrawal
from travelgate.service._routing import route
from travelgate.transfers import CounterpartyKind
from travelgate.trisa import Directory, Peer

BASE = """
[node]
name = "alice.example"
legal_name = "Alice VASP Ltd"
country = "GB"

[tls]
cert = "certs/alice/cert.pem"
key = "certs/alice/key.pem"
trust = "certs/ca.pem"
"""
TRAVEL_ADDRESS = "ta2W2HPKfHxgSgrzY178knqXHg1H3jfeQrwQ9JrKBs9wv"  # beneficiary.com/x/12345
ASSETS = frozenset({"BTC"})


def _load(tmp_path: Path, extra: str = "") -> Any:
    path = tmp_path / "alice.toml"
    path.write_text(BASE + extra)
    return load_config(path, env={})


def test_trp_is_off_by_default_and_uses_the_tls_pair(tmp_path: Path) -> None:
    config = _load(tmp_path)
    assert config.trp.enabled is False
    assert config.trp.immediate is False
    assert config.trp.listen == "127.0.0.1:8200"
    assert config.trp.public_url == ""
    assert config.trp.cert == config.tls.cert
    assert config.trp.key == config.tls.key
    assert config.trp.trust == config.tls.trust


def test_trp_section_is_read(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        '[trp]\nenabled = true\nlisten = "0.0.0.0:8443"\npublic_url = "https://trp.alice.example/"\n'
        'cert = "trp/cert.pem"\nkey = "trp/key.pem"\ntrust = "trp/ca.pem"\nimmediate = true\n',
    )
    assert config.trp.enabled is True
    assert config.trp.immediate is True
    assert config.trp.public_url == "https://trp.alice.example"
    assert config.trp.cert == tmp_path / "trp" / "cert.pem"
    assert config.trp.trust == tmp_path / "trp" / "ca.pem"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[trp]\npublic_url = "http://trp.alice.example"\n', "https://host[:port]"),
        ('[trp]\npublic_url = "https://trp.alice.example/x?y=1"\n', "without path"),
        ('[trp]\ncert = "trp/cert.pem"\n', "both cert and key"),
        ("[trp]\nenabled = 3\n", "true or false"),
        ('[trp]\nlisten = "nowhere"\n', "[trp] listen"),
        ("[trp]\nsecret = 1\n", "unknown key [trp] secret"),
    ],
)
def test_trp_mistakes_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, extra)
    assert message in raised.value.message


def _withdrawal(**destination: Any) -> dict[str, Any]:
    return {
        "asset": "BTC",
        "network": "bitcoin",
        "amount": "0.5",
        "destination": destination,
        "originator": {"customer_id": "cust-1"},
        "beneficiary": {"name": "Bob Jones"},
    }


def test_a_travel_address_makes_the_address_optional() -> None:
    request = parse_withdrawal(_withdrawal(travel_address=TRAVEL_ADDRESS), assets=ASSETS)
    assert request.travel_address == TRAVEL_ADDRESS
    assert request.address == ""
    assert request.beneficiary_vasp is None


@pytest.mark.parametrize(
    ("destination", "code"),
    [
        ({"travel_address": "tanotatraveladdress"}, "invalid_travel_address"),
        ({"travel_address": 7}, "invalid_field"),
        ({"travel_address": TRAVEL_ADDRESS, "kind": "self_hosted"}, "invalid_field"),
        ({}, "invalid_field"),
    ],
)
def test_bad_travel_addresses_are_422(destination: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:  # the API answers it 422
        parse_withdrawal(_withdrawal(**destination), assets=ASSETS)
    assert raised.value.code == code


def test_routing_in_one_place() -> None:
    bob = Peer("bob.example", "127.0.0.1:1", addresses=("bc1qbob",))
    blocked = Peer("eve.example", "127.0.0.1:2", addresses=("bc1qeve",), blocked=True)
    directory = Directory([bob, blocked])

    def counterparty(**changes: Any) -> Any:
        body = _withdrawal(address="bc1qsomewhere")
        body.update(changes)
        return route(parse_withdrawal(body, assets=ASSETS), directory)

    trp = counterparty(destination={"travel_address": TRAVEL_ADDRESS, "address": "bc1qbob"})
    assert (trp.kind, trp.name, trp.protocol) == (CounterpartyKind.VASP, "beneficiary.com", "trp")
    named = counterparty(beneficiary_vasp="bob.example")
    assert (named.name, named.protocol) == ("bob.example", "trisa")
    listed = counterparty(destination={"address": "bc1qbob"})
    assert (listed.name, listed.protocol) == ("bob.example", "trisa")
    assert counterparty(destination={"address": "bc1qeve"}).kind is CounterpartyKind.UNKNOWN
    unknown = counterparty()
    assert (unknown.kind, unknown.protocol) == (CounterpartyKind.UNKNOWN, None)
    hosted = counterparty(destination={"address": "bc1qx", "kind": "self_hosted"})
    assert (hosted.kind, hosted.protocol) == (CounterpartyKind.SELF_HOSTED, None)
    not_listed = counterparty(beneficiary_vasp="carol.example")
    assert (not_listed.name, not_listed.protocol) == ("carol.example", None)
