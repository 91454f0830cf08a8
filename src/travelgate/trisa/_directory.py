"""The directory of counterparties we know: a static peers file, then the TRISA GDS.

Names are looked up in peers.toml first: a listed peer always wins. With `[directory] gds`
set, any other name is asked of the TRISA Global Directory Service (`_gds.py`) and, when
the directory knows it, treated exactly like a listed peer (endpoint, TLS pin on its
identity certificate, sealing key from its signing certificate). `get` never touches the
network (it sees what the directory last said); `resolve` asks it when the cache is stale.

```toml
[[peer]]
name = "bob.example"              # the peer's certificate common name
endpoint = "127.0.0.1:8101"       # where its TRISA server listens
cert = "bob/cert.pem"             # optional: pins its certificate; we seal to this key
                                  #   until a KeyExchange gives a fresher one
pin = "spki:<base64 SHA-256>"     # optional, instead of or beside cert: the SHA-256 of the
                                  #   DER SubjectPublicKeyInfo of its TLS key; a list of
                                  #   them allows a rotation
addresses = ["bc1q..."]           # optional: deposit addresses it is known to control
blocked = false                   # optional: refuse everything from and to it
ivms_profile = "interop"          # optional: IVMS101 profile for what it sends us
per_peer_streams = 32             # optional: this peer's own [trisa] per_peer_streams
per_peer_rps = 500                #   and per_peer_rps (a high-volume counterparty)

[[peer]]                          # a counterparty on no travel-rule network (sunrise)
name = "Carol Exchange"
email = "compliance@carol.example"  # instead of endpoint: answers by an emailed link
email_code = true                 # optional: a one-time code is emailed apart and asked for
addresses = ["bc1q..."]
```

An entry needs an endpoint (TRISA) or an email (sunrise), or both (then TRISA is used).

A peer with `cert` or `pin` must present exactly that public key in its TLS certificate;
any other certificate with its name, even from the trusted CA, is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from travelgate import envelope as env
from travelgate.config import is_plain_address, parse_listen
from travelgate.errors import ConfigError

_KEYS = {
    "name",
    "endpoint",
    "cert",
    "pin",
    "addresses",
    "blocked",
    "ivms_profile",
    "per_peer_streams",
    "per_peer_rps",
    "email",
    "email_code",
}
PIN_PREFIX = "spki:"
_PROFILES = {"strict", "standard", "interop"}
# Where a peer's entry comes from (the counterparty view's "source").
PEERS = "peers"
DIRECTORY = "directory"


@dataclass(frozen=True)
class Peer:
    name: str
    endpoint: str
    pinned_key: rsa.RSAPublicKey | None = None
    addresses: tuple[str, ...] = ()
    blocked: bool = False
    ivms_profile: str | None = None
    # SHA-256 digests of the SPKI DER of the TLS keys this peer may present (empty: any
    # key its name is certified for by the trusted CA).
    pins: frozenset[bytes] = frozenset()
    # This peer's own admission limits, instead of the [trisa] defaults.
    per_peer_streams: int | None = None
    per_peer_rps: int | None = None
    source: str = PEERS
    # Sunrise: the compliance address of a counterparty on no travel-rule network, and
    # whether its link needs a one-time code emailed apart. `endpoint` is "" without TRISA.
    email: str | None = None
    email_code: bool = False


@dataclass(frozen=True)
class Resolution:
    """What resolving a name gave: the peer, or why there is none."""

    peer: Peer | None
    # The TRISA directory could not tell (down, slow): not the same as "not found".
    unavailable: str | None = None
    # Why the directory's answer was not usable, when it gave one.
    detail: str | None = None


class PeerSource(Protocol):
    """A source of peers beyond the static file (the TRISA GDS)."""

    def cached(self, name: str) -> Peer | None: ...

    async def resolve(self, name: str) -> Resolution: ...

    async def close(self) -> None: ...


def spki_digest(key: PublicKeyTypes) -> bytes:
    """SHA-256 of a public key's DER SubjectPublicKeyInfo: what a pin names."""
    return hashlib.sha256(env.spki_der(key)).digest()


def format_pin(digest: bytes) -> str:
    return PIN_PREFIX + base64.b64encode(digest).decode("ascii")


def parse_pin(text: str) -> bytes:
    """`spki:<base64 SHA-256>` (padding optional) -> the 32-byte digest; ValueError else."""
    if not text.startswith(PIN_PREFIX):
        raise ValueError(f"a pin is written {PIN_PREFIX}<base64 SHA-256 of the SPKI>")
    encoded = text[len(PIN_PREFIX) :].strip()
    try:
        digest = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the pin is not valid base64") from None
    if len(digest) != hashlib.sha256().digest_size:
        raise ValueError(f"the pin is {len(digest)} bytes; a SHA-256 digest is 32")
    return digest


class Directory:
    """Peers by common name, and the peer that controls a given address."""

    def __init__(self, peers: list[Peer], source: PeerSource | None = None) -> None:
        self._by_name = {peer.name: peer for peer in peers}
        self._by_address = {address: peer for peer in peers for address in peer.addresses}
        self.source = source

    def get(self, name: str) -> Peer | None:
        """The listed peer, else what the directory last said of `name` (no network)."""
        peer = self._by_name.get(name)
        if peer is None and self.source is not None:
            return self.source.cached(name)
        return peer

    async def resolve(self, name: str) -> Resolution:
        """The listed peer, else the directory's (asked again once its answer is stale)."""
        peer = self._by_name.get(name)
        if peer is not None or self.source is None:
            return Resolution(peer)
        return await self.source.resolve(name)

    async def close(self) -> None:
        if self.source is not None:
            await self.source.close()

    def for_address(self, address: str) -> Peer | None:
        return self._by_address.get(address)

    def put(self, peer: Peer) -> None:
        """Add or replace a peer (a refreshed directory entry, a test's real port)."""
        old = self._by_name.get(peer.name)
        if old is not None:
            for address in old.addresses:
                self._by_address.pop(address, None)
        self._by_name[peer.name] = peer
        self._by_address.update(dict.fromkeys(peer.addresses, peer))

    def __iter__(self) -> Iterator[Peer]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    @classmethod
    def load(cls, path: Path | None) -> Directory:
        if path is None:
            return cls([])
        try:
            with path.open("rb") as handle:
                raw = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"[directory] file not found: {path}") from None
        except OSError as exc:
            raise ConfigError(f"[directory] file {path} is not readable: {exc.strerror}") from None
        except ValueError as exc:  # TOMLDecodeError, bad UTF-8, an integer of 4,300+ digits
            raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
        unknown = set(raw) - {"peer"}
        if unknown:
            raise ConfigError(f"{path.name}: unknown key {sorted(unknown)[0]}; expected [[peer]]")
        entries = raw.get("peer", [])
        if not isinstance(entries, list):
            raise ConfigError(f"{path.name}: peers must be written as [[peer]] tables")
        peers = [_peer(entry, index, path) for index, entry in enumerate(entries)]
        names = [p.name for p in peers]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise ConfigError(f"{path.name}: peer {duplicate!r} is listed twice")
        return cls(peers)


def _peer(entry: object, index: int, path: Path) -> Peer:
    label = f"{path.name}: [[peer]] #{index + 1}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{label}: must be a table")
    unknown = set(entry) - _KEYS
    if unknown:
        raise ConfigError(f"{label}: unknown key {sorted(unknown)[0]}")
    name, endpoint = entry.get("name"), entry.get("endpoint")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{label}: name (the peer's certificate common name) is required")
    email, email_code = _email(entry, f"{label} ({name})")
    if endpoint is None and email is not None:
        endpoint = ""  # reached by email only (sunrise)
    elif not isinstance(endpoint, str) or not endpoint:
        raise ConfigError(
            f"{label} ({name}): endpoint host:port (TRISA) or email (a compliance address "
            "for sunrise links) is required"
        )
    else:
        try:
            parse_listen(endpoint)
        except ValueError as exc:
            raise ConfigError(f"{label} ({name}): endpoint: {exc}") from None
    pinned = None
    cert = entry.get("cert")
    if cert is not None:
        if not isinstance(cert, str):
            raise ConfigError(f"{label} ({name}): cert must be a path")
        cert_path = Path(cert) if Path(cert).is_absolute() else path.parent / cert
        try:
            pinned = env.require_sealing_key(env.load_public_key(cert_path.read_bytes()))
        except FileNotFoundError:
            raise ConfigError(f"{label} ({name}): cert not found: {cert_path}") from None
        except (OSError, ValueError) as exc:  # a folder, no permission, a NUL in the path
            raise ConfigError(
                f"{label} ({name}): cert {cert_path} is not readable: {exc}"
            ) from None
        except env.KeyLoadError as exc:
            raise ConfigError(f"{label} ({name}): cert {cert_path}: {exc.message}") from None
    pins = _pins(entry.get("pin"), f"{label} ({name})")
    if pinned is not None:
        certified = spki_digest(pinned)
        if pins and certified not in pins:
            raise ConfigError(f"{label} ({name}): cert and pin name different keys")
        pins = pins | {certified}
    addresses = entry.get("addresses", [])
    if not isinstance(addresses, list) or not all(isinstance(a, str) and a for a in addresses):
        raise ConfigError(f"{label} ({name}): addresses must be a list of strings")
    blocked = entry.get("blocked", False)
    if not isinstance(blocked, bool):
        raise ConfigError(f"{label} ({name}): blocked must be true or false")
    profile = entry.get("ivms_profile")
    if profile is not None and profile not in _PROFILES:
        raise ConfigError(f"{label} ({name}): ivms_profile must be one of {sorted(_PROFILES)}")
    limits = {key: _limit(entry.get(key), f"{label} ({name}): {key}") for key in _LIMITS}
    return Peer(
        name,
        endpoint,
        pinned,
        tuple(addresses),
        blocked,
        profile,
        pins,
        per_peer_streams=limits["per_peer_streams"],
        per_peer_rps=limits["per_peer_rps"],
        email=email,
        email_code=email_code,
    )


def _email(entry: dict[str, object], label: str) -> tuple[str | None, bool]:
    """`email` (one plain address) and `email_code` (a boolean that needs an email)."""
    email, code = entry.get("email"), entry.get("email_code", False)
    if not isinstance(code, bool):
        raise ConfigError(f"{label}: email_code must be true or false")
    if email is None:
        if code:
            raise ConfigError(f"{label}: email_code needs email (the compliance address)")
        return None, False
    if not isinstance(email, str) or not is_plain_address(email):
        raise ConfigError(
            f"{label}: email must be one plain address such as compliance@example.com"
        )
    return email, code


_LIMITS = ("per_peer_streams", "per_peer_rps")


def _limit(value: object, label: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{label} must be a positive integer")
    return value


def _pins(value: object, label: str) -> frozenset[bytes]:
    if value is None:
        return frozenset()
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise ConfigError(f'{label}: pin must be "{PIN_PREFIX}<base64>" or a list of them')
    try:
        return frozenset(parse_pin(text) for text in texts)
    except ValueError as exc:
        raise ConfigError(f"{label}: pin: {exc}") from None
