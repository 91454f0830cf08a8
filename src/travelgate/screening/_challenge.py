"""The text a customer signs to prove control of a self-hosted wallet.

The challenge names our VASP, the customer reference, the address and network, a random
nonce and its validity window (15 minutes), one "Label: value" per line, so a person reading
it in a wallet's signing prompt sees what they attest, and the server can parse back what
was signed. Storing the nonce and refusing a reused one is the caller's job.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from travelgate.envelope import format_timestamp_seconds, parse_timestamp
from travelgate.errors import BadRequestError, InvalidProofError
from travelgate.screening._addresses import address_key

CHALLENGE_VALIDITY = timedelta(minutes=15)
_CLOCK_SKEW = timedelta(minutes=1)
_TITLE = "Wallet ownership proof"
_FIELDS = ("VASP", "Customer", "Address", "Network", "Nonce", "Issued at", "Expires at")


@dataclass(frozen=True)
class Challenge:
    vasp: str
    customer: str
    address: str
    network: str
    nonce: str
    issued_at: datetime
    expires_at: datetime

    @property
    def message(self) -> str:
        values = (
            self.vasp,
            self.customer,
            self.address,
            self.network,
            self.nonce,
            format_timestamp_seconds(self.issued_at),
            format_timestamp_seconds(self.expires_at),
        )
        lines = [
            _TITLE,
            "",
            f"I control the address below and ask {self.vasp} to record it as my own wallet.",
            "",
            *(f"{label}: {value}" for label, value in zip(_FIELDS, values, strict=True)),
        ]
        return "\n".join(lines)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def new_challenge(
    *, vasp: str, customer: str, address: str, network: str, now: datetime
) -> Challenge:
    """A fresh challenge with a 128-bit nonce, valid for 15 minutes from `now`."""
    for label, value in (("VASP", vasp), ("customer", customer), ("address", address)):
        if not value or "\n" in value or "\r" in value:
            raise InvalidProofError(f"the {label} must be a non-empty single line")
    issued = now.replace(microsecond=0)
    return Challenge(
        vasp=vasp,
        customer=customer,
        address=address.strip(),
        network=network,
        nonce=secrets.token_hex(16),
        issued_at=issued,
        expires_at=issued + CHALLENGE_VALIDITY,
    )


def parse_challenge(message: str) -> Challenge:
    """Read back a challenge message; InvalidProofError if it is not one of ours."""
    values: dict[str, str] = {}
    for line in message.replace("\r\n", "\n").split("\n"):
        label, separator, value = line.partition(": ")
        if separator and label in _FIELDS:
            if label in values:
                raise InvalidProofError(f"the challenge names {label} twice")
            values[label] = value
    missing = [label for label in _FIELDS if label not in values]
    if missing or not message.startswith(_TITLE):
        raise InvalidProofError("the message is not a wallet ownership challenge")
    try:
        issued = parse_timestamp(values["Issued at"], field="Issued at")
        expires = parse_timestamp(values["Expires at"], field="Expires at")
    except BadRequestError as exc:
        raise InvalidProofError(f"the challenge's {exc.message}") from None
    challenge = Challenge(
        vasp=values["VASP"],
        customer=values["Customer"],
        address=values["Address"],
        network=values["Network"],
        nonce=values["Nonce"],
        issued_at=issued,
        expires_at=expires,
    )
    if challenge.message != message.replace("\r\n", "\n"):
        raise InvalidProofError("the message differs from the challenge it claims to be")
    return challenge


def check_challenge(
    message: str, *, vasp: str, customer: str, address: str, network: str, now: datetime
) -> Challenge:
    """The challenge in `message` if it was issued to this customer for this address and is
    still valid; InvalidProofError otherwise. Whether its nonce was issued by us and not yet
    used is for the caller's store to say.
    """
    challenge = parse_challenge(message)
    if challenge.vasp != vasp:
        raise InvalidProofError("the challenge was issued by another VASP")
    if challenge.customer != customer:
        raise InvalidProofError("the challenge was issued to another customer")
    if challenge.network != network or address_key(challenge.address) != address_key(address):
        raise InvalidProofError("the challenge names another address or network")
    if challenge.expired(now):
        raise InvalidProofError(
            f"the challenge expired at {format_timestamp_seconds(challenge.expires_at)}; "
            "ask for a new one"
        )
    if challenge.issued_at > now + _CLOCK_SKEW:
        raise InvalidProofError("the challenge is dated in the future")
    return challenge
