"""Sunrise configuration: peers reached by email, the `[email]` section, routing, the form."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from travelgate.config import load_config
from travelgate.errors import ConfigError
from travelgate.service._requests import parse_withdrawal
from travelgate.service._routing import route
from travelgate.sunrise import read_password
from travelgate.sunrise._form import form_from_person, read_form, validate_form
from travelgate.trisa import Directory

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
ADDRESS = "bc1qcarol0customer000000000000000000000000"


def _load(tmp_path: Path, extra: str = "", env: dict[str, str] | None = None) -> Any:
    path = tmp_path / "alice.toml"
    path.write_text(BASE + extra)
    return load_config(path, env=env or {})


def _peers(tmp_path: Path, text: str) -> Directory:
    path = tmp_path / "peers.toml"
    path.write_text(text)
    return Directory.load(path)


def test_a_peer_with_an_email_and_no_endpoint_routes_by_email(tmp_path: Path) -> None:
    directory = _peers(
        tmp_path,
        '[[peer]]\nname = "carol.example"\nemail = "compliance@carol.example"\n'
        f'addresses = ["{ADDRESS}"]\nemail_code = true\n'
        '[[peer]]\nname = "bob.example"\nendpoint = "127.0.0.1:8101"\n'
        'email = "compliance@bob.example"\n',
    )
    carol = directory.get("carol.example")
    assert carol is not None
    assert carol.endpoint == ""
    assert carol.email == "compliance@carol.example"
    assert carol.email_code is True
    body: dict[str, Any] = {
        "asset": "BTC",
        "network": "bitcoin",
        "amount": "1",
        "destination": {"address": ADDRESS},
        "originator": {"customer_id": "c"},
        "beneficiary": {"name": "Carl Brown"},
    }
    by_address = route(parse_withdrawal(body, assets=frozenset({"BTC"})), directory)
    assert by_address.protocol == "email"
    assert by_address.reachable
    named = route(
        parse_withdrawal({**body, "beneficiary_vasp": "carol.example"}, assets=frozenset({"BTC"})),
        directory,
    )
    assert (named.name, named.protocol) == ("carol.example", "email")
    both = route(
        parse_withdrawal({**body, "beneficiary_vasp": "bob.example"}, assets=frozenset({"BTC"})),
        directory,
    )
    assert both.protocol == "trisa"  # an endpoint wins: the exchange is real TRISA


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('name = "c"', "endpoint host:port (TRISA) or email"),
        ('name = "c"\nendpoint = ""', "endpoint host:port (TRISA) or email"),
        ('name = "c"\nemail = "compliance"', "one plain address"),
        ('name = "c"\nemail = "Carol <c@carol.example>"', "one plain address"),
        ('name = "c"\nemail = "c@carol.example\\nBcc: x@y.example"', "one plain address"),
        ('name = "c"\nemail = 7', "one plain address"),
        ('name = "c"\nendpoint = "127.0.0.1:1"\nemail_code = true', "email_code needs email"),
        ('name = "c"\nemail = "c@carol.example"\nemail_code = "yes"', "true or false"),
    ],
)
def test_bad_peer_entries_are_clear_config_errors(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        _peers(tmp_path, f"[[peer]]\n{entry}\n")


def test_email_section_defaults_off_and_reads_every_key(tmp_path: Path) -> None:
    assert _load(tmp_path).email.enabled is False
    config = _load(
        tmp_path,
        '[email]\nsmtp_host = "smtp.alice.example"\nsmtp_port = 2525\n'
        'from = "travel-rule@alice.example"\nstarttls = false\nusername = "gw"\n'
        'password_file = "smtp.password"\npublic_url = "https://gw.alice.example/"\n',
    )
    email = config.email
    assert email.enabled
    assert (email.smtp_host, email.smtp_port, email.sender) == (
        "smtp.alice.example",
        2525,
        "travel-rule@alice.example",
    )
    assert email.starttls is False
    assert email.username == "gw"
    assert email.password_file == tmp_path / "smtp.password"
    assert email.public_url == "https://gw.alice.example"


def test_email_keys_come_from_the_environment_too(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        '[email]\nsmtp_host = "smtp.alice.example"\nfrom = "tr@alice.example"\n',
        env={"TRAVELGATE_EMAIL_SMTP_PORT": "465", "TRAVELGATE_EMAIL_STARTTLS": "false"},
    )
    assert config.email.smtp_port == 465
    assert config.email.starttls is False


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('smtp_host = "smtp.x"', "needs from"),
        ('smtp_host = "smtp.x"\nfrom = "not an address"', "one plain address"),
        ('smtp_host = "smtp.x"\nfrom = "a@x.example"\nusername = "u"', "both username"),
        ('smtp_host = "smtp.x"\nfrom = "a@x.example"\npassword_file = "p"', "both username"),
        ("smtp_port = 70000", "1 to 65535"),
        ('public_url = "smtp.x"', "http"),
        ('smtp_hostname = "x"', "unknown key"),
    ],
)
def test_bad_email_sections_are_clear_config_errors(
    tmp_path: Path, section: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        _load(tmp_path, f"[email]\n{section}\n")


def test_the_password_file_is_read_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="password_file not found"):
        read_password(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        read_password(empty)
    good = tmp_path / "good"
    good.write_text("s3cret\n")
    good.chmod(0o600)
    assert read_password(good) == "s3cret"


def test_the_form_maps_ivms101_violations_to_its_fields() -> None:
    form = read_form(
        {
            "kind": "natural",
            "family_name": "",
            "date_of_birth": "31/01/1980",
            "place_of_birth": "Leeds",
            "town": "Leeds",
            "address_country": "zz",
        }
    )
    assert validate_form(form, "standard") is None
    assert set(form.errors) >= {"family_name", "date_of_birth", "address_country", "street"}
    assert form.values["address_country"] == "ZZ"

    legal = read_form({"kind": "legal", "legal_name": "Carol Trading Ltd", "country": "gb"})
    person = validate_form(legal, "standard")
    assert person == {
        "legalPerson": {
            "name": {
                "nameIdentifier": [
                    {
                        "legalPersonName": "Carol Trading Ltd",
                        "legalPersonNameIdentifierType": "LEGL",
                    }
                ]
            },
            "countryOfRegistration": "GB",
        }
    }
    strange = read_form({"kind": "robot"})
    assert validate_form(strange, "standard") is None
    assert "kind" in strange.errors


def test_the_form_starts_from_the_beneficiary_as_sent() -> None:
    assert form_from_person(None, "Carl Brown").values["family_name"] == "Carl Brown"
    sent = {
        "naturalPerson": {
            "name": {
                "nameIdentifier": [
                    {
                        "primaryIdentifier": "Brown",
                        "secondaryIdentifier": "Carl",
                        "nameIdentifierType": "LEGL",
                    }
                ]
            },
            "countryOfResidence": "GB",
        }
    }
    values = form_from_person(sent, "ignored").values
    assert (values["family_name"], values["given_names"], values["country"]) == (
        "Brown",
        "Carl",
        "GB",
    )
