"""The TRP transfer messages as frozen values, parsed from and emitted to JSON (TRP v3).

Inquiry (originator -> beneficiary), its 200 answer (acknowledgement or immediate decision),
the resolution at the inquiry's callback (approval or rejection) and the confirmation at the
approval's callback (txid or cancel). Requests we receive are parsed strictly like the
reference server (an unknown member is a 400); answers we receive are read leniently.
Key names match exactly first, then case-insensitively, as the reference's JSON decoder does.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from travelgate.errors import TravelgateError, TrpBodyError, TrpExtensionError, TrpInvalidError
from travelgate.ivms101 import IdentityPayload, Profile, rejection_message, validate
from travelgate.trp._headers import API_VERSION
from travelgate.trp._json import dumps, parse_object

# Advertised on /extensions and accepted without complaint; other extensions are ignored.
SUPPORTED_EXTENSIONS: tuple[str, ...] = ()
MAX_URL_LENGTH = 2048
MAX_TEXT_LENGTH = 4096
# Far beyond any asset's precision (18 decimals for ether); bounds what we store and print.
MAX_AMOUNT_DECIMALS = 30
MAX_AMOUNT_INTEGER_DIGITS = 30

_DTI = re.compile(r"[0-9A-Z]{9}")
_COIN_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9.$_-]{0,31}")

_INQUIRY_FIELDS = ("asset", "amount", "callback", "IVMS101", "extensions")
_REQUIRED_INQUIRY_FIELDS = ("asset", "amount", "callback", "IVMS101")


@dataclass(frozen=True)
class Asset:
    """What is sent: a Digital Token Identifier and/or a SLIP-0044 coin symbol."""

    dti: str | None = None
    slip0044: str | None = None


@dataclass(frozen=True)
class Inquiry:
    """A Transfer Inquiry. `ivms101` is the IdentityPayload in IVMS101 JSON as it travelled;
    `extensions` the body's extension data by name, kept raw; `identity` the decoded
    IdentityPayload when the inquiry was parsed with validation.
    """

    asset: Asset
    amount: Decimal
    callback: str
    ivms101: Mapping[str, Any]
    extensions: Mapping[str, Any] = field(default_factory=dict)
    identity: IdentityPayload | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Acknowledgement:
    """The 200 answer to an inquiry when the decision follows at the callback."""

    version: str = API_VERSION


@dataclass(frozen=True)
class Approval:
    """The beneficiary's approval: the deposit address and its confirmation callback."""

    address: str
    callback: str


@dataclass(frozen=True)
class Rejection:
    reason: str


@dataclass(frozen=True)
class Confirmation:
    """The originator's transaction id, sent after broadcast."""

    txid: str


@dataclass(frozen=True)
class Cancellation:
    reason: str


Resolution: TypeAlias = Approval | Rejection
InquiryResponse: TypeAlias = Acknowledgement | Approval | Rejection
ConfirmationMessage: TypeAlias = Confirmation | Cancellation
Message: TypeAlias = Inquiry | Acknowledgement | Approval | Rejection | Confirmation | Cancellation


def parse_inquiry(
    body: bytes | str,
    *,
    profile: Profile | None = "standard",
    supported_extensions: Collection[str] = SUPPORTED_EXTENSIONS,
) -> Inquiry:
    """A received inquiry, checked: 400 for shape and types, 422 for content. With a
    `profile` the IVMS101 identity must be valid under it (None: the caller validates).
    """
    members = _members(parse_object(body), _INQUIRY_FIELDS, strict=True)
    extensions = members.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise _invalid_value("extensions")
    missing = [name for name in _REQUIRED_INQUIRY_FIELDS if name not in members]
    if missing:
        unsupported = [name for name in extensions or {} if name not in supported_extensions]
        if unsupported:
            raise TrpExtensionError(
                f"inquiry lacks {', '.join(missing)} and relies on extension(s) "
                f"{', '.join(unsupported)}, which this node does not implement; "
                "send the core fields"
            )
        raise TrpInvalidError(f"inquiry must specify {', '.join(missing)}")
    asset = _asset(members["asset"])
    amount = _amount(members["amount"])
    callback = _https_url(members["callback"], "callback", TrpInvalidError)
    identity_document = members["IVMS101"]
    if not isinstance(identity_document, dict):
        raise _invalid_value("IVMS101")
    identity = None if profile is None else validate_identity(identity_document, profile)
    return Inquiry(
        asset=asset,
        amount=amount,
        callback=callback,
        ivms101=identity_document,
        extensions=extensions or {},
        identity=identity,
    )


def validate_identity(document: Mapping[str, Any], profile: Profile) -> IdentityPayload:
    """The IdentityPayload of an inquiry, valid under `profile`, or TrpInvalidError (422)."""
    result = validate(dict(document), profile=profile)
    if result.model is None:
        reason = result.violations[0].message if result.violations else "unreadable"
        raise TrpInvalidError(f"IVMS101 identity cannot be parsed: {reason}")
    if not result.valid:
        first = result.errors[0]
        raise TrpInvalidError(f"{rejection_message(result)} (first: {first.message})")
    assert isinstance(result.model, IdentityPayload)
    return result.model


def unsupported_extensions(
    inquiry: Inquiry,
    header_names: Collection[str] = (),
    supported: Collection[str] = SUPPORTED_EXTENSIONS,
) -> tuple[str, ...]:
    """Extension names used (header and body) that this node ignores, in order of appearance.

    They are recorded with the transfer and never fail an inquiry whose core fields are
    valid (TRP v3).
    """
    names = dict.fromkeys([*header_names, *inquiry.extensions])
    return tuple(name for name in names if name not in supported)


def parse_inquiry_response(body: bytes | str) -> InquiryResponse:
    """The 200 answer to our inquiry: empty or `{}` is an acknowledgement (TRP v3)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not raw.strip():
        return Acknowledgement(version="")
    members = _members(parse_object(raw), ("version", "approved", "rejected"), strict=False)
    if len(members) > 1:
        raise TrpBodyError("version, approved and rejected are mutually exclusive")
    if "approved" in members:
        return _approval(members["approved"])
    if "rejected" in members:
        return Rejection(_optional_text(members["rejected"], "rejected"))
    version = members.get("version", "")
    if not isinstance(version, str):
        raise _invalid_value("version")
    return Acknowledgement(version=version)


def parse_resolution(body: bytes | str) -> Resolution:
    """An approval or rejection POSTed to our inquiry callback (400 when malformed)."""
    members = _members(parse_object(body), ("version", "approved", "rejected"), strict=True)
    if "version" in members:
        raise TrpBodyError("invalid: a resolution carries approved or rejected, not version")
    if "approved" in members and "rejected" in members:
        raise TrpBodyError("invalid: cannot specify both approved and rejected in resolution")
    if "approved" in members:
        return _approval(members["approved"])
    if "rejected" in members:
        return Rejection(_optional_text(members["rejected"], "rejected"))
    raise TrpBodyError("invalid: must specify either approved or rejected in resolution")


def parse_confirmation(body: bytes | str) -> ConfirmationMessage:
    """A txid or cancel POSTed to our approval callback (400 when malformed)."""
    members = _members(parse_object(body), ("txid", "canceled"), strict=True)
    txid = members.get("txid")
    if txid is not None and not isinstance(txid, str):
        raise _invalid_value("txid")
    has_txid = bool(txid)
    if has_txid and "canceled" in members:
        raise TrpBodyError("invalid: cannot specify both txid and canceled in confirmation")
    if "canceled" in members:
        return Cancellation(_optional_text(members["canceled"], "canceled"))
    if not has_txid:
        raise TrpBodyError("invalid: must specify either txid or canceled in confirmation")
    assert isinstance(txid, str)
    if len(txid) > MAX_TEXT_LENGTH:
        raise TrpBodyError(f"invalid: txid is longer than {MAX_TEXT_LENGTH} characters")
    return Confirmation(txid)


def to_json(message: Message) -> dict[str, Any]:
    """The JSON object of a message, members named exactly as the protocol spells them."""
    match message:
        case Inquiry():
            asset = {
                key: value
                for key, value in (("dti", message.asset.dti), ("slip0044", message.asset.slip0044))
                if value is not None
            }
            document: dict[str, Any] = {
                "asset": asset,
                "amount": message.amount,
                "callback": message.callback,
                "IVMS101": dict(message.ivms101),
            }
            if message.extensions:
                document["extensions"] = dict(message.extensions)
            return document
        case Acknowledgement():
            return {"version": message.version}
        case Approval():
            return {"approved": {"address": message.address, "callback": message.callback}}
        case Rejection():
            return {"rejected": message.reason}
        case Confirmation():
            return {"txid": message.txid}
        case Cancellation():
            return {"canceled": message.reason}
    raise TypeError(f"not a TRP message: {type(message).__name__}")


def emit(message: Message) -> bytes:
    """The JSON body of a message; amounts as plain decimals (`0.0000001`)."""
    return dumps(to_json(message))


def _members(
    document: Mapping[str, Any], known: tuple[str, ...], *, strict: bool, where: str = ""
) -> dict[str, Any]:
    by_folded = {name.lower(): name for name in known}
    found: dict[str, Any] = {}
    for key, value in document.items():
        name = key if key in known else by_folded.get(key.lower())
        if name is None:
            if strict:
                inside = f" in {where}" if where else ""
                raise TrpBodyError(f'request body contains unknown field "{key[:80]}"{inside}')
            continue
        if name in found:
            raise TrpBodyError(f'request body contains the field "{name}" twice')
        found[name] = value
    return found


def _invalid_value(name: str) -> TrpBodyError:
    return TrpBodyError(f'request body contains an invalid value for the "{name}" field')


def _asset(value: Any) -> Asset:
    if not isinstance(value, dict):
        raise _invalid_value("asset")
    members = _members(value, ("dti", "slip0044"), strict=True, where="asset")
    dti, symbol = members.get("dti"), members.get("slip0044")
    if dti is not None and not isinstance(dti, str):
        raise _invalid_value("dti")
    if symbol is not None and not isinstance(symbol, str):
        raise TrpBodyError(
            'request body contains an invalid value for the "slip0044" field: '
            'a SLIP-0044 coin symbol string such as "BTC" is expected'
        )
    dti, symbol = dti or None, symbol or None
    if dti is None and symbol is None:
        raise TrpInvalidError("asset must name a dti or a slip0044 coin symbol")
    if dti is not None and not _DTI.fullmatch(dti):
        raise TrpInvalidError(f"asset dti {dti[:40]!r} is not a 9-character Digital Token Id")
    if symbol is not None and not _COIN_SYMBOL.fullmatch(symbol):
        raise TrpInvalidError(f"asset slip0044 {symbol[:40]!r} is not a SLIP-0044 coin symbol")
    return Asset(dti=dti, slip0044=symbol)


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _invalid_value("amount")
    amount = Decimal(value)
    if amount <= 0:
        raise TrpInvalidError("amount must be greater than zero")
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: JSON has no NaN or Infinity
    if exponent < -MAX_AMOUNT_DECIMALS:
        raise TrpInvalidError(f"amount has more than {MAX_AMOUNT_DECIMALS} decimal places")
    if amount.adjusted() >= MAX_AMOUNT_INTEGER_DIGITS:
        raise TrpInvalidError(f"amount has more than {MAX_AMOUNT_INTEGER_DIGITS} integer digits")
    return amount


def _approval(value: Any) -> Approval:
    if not isinstance(value, dict):
        raise _invalid_value("approved")
    members = _members(value, ("address", "callback"), strict=True, where="approved")
    address = members.get("address")
    if not isinstance(address, str) or not address.strip():
        raise TrpBodyError("invalid: approved must specify a non-empty address")
    if len(address) > MAX_TEXT_LENGTH:
        raise TrpBodyError(f"invalid: approved address is longer than {MAX_TEXT_LENGTH}")
    callback = _https_url(members.get("callback"), "approved.callback", TrpBodyError)
    return Approval(address=address, callback=callback)


def _optional_text(value: Any, name: str) -> str:
    """A reason whose presence is what counts: null and "" are empty reasons (TRP v3)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid_value(name)
    return value[:MAX_TEXT_LENGTH]


def _https_url(value: Any, name: str, error: type[TravelgateError]) -> str:
    if not isinstance(value, str):
        if value is None:
            raise error(f"{name} must specify an https URL")
        raise _invalid_value(name)
    parts = urlsplit(value)
    try:
        _ = parts.port
    except ValueError:
        raise error(f"{name} has an invalid port: {value[:80]!r}") from None
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise error(f"{name} must be an absolute https URL, not {value[:80]!r}")
    if parts.username is not None or parts.password is not None:
        raise error(f"{name} must not carry user credentials")
    if len(value) > MAX_URL_LENGTH or any(ord(char) <= 0x20 for char in value):
        raise error(f"{name} must be a URL of at most {MAX_URL_LENGTH} visible characters")
    return value
