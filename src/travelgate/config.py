"""Configuration: the TOML file of `travelgate serve --config`, with TRAVELGATE_* overrides.

The file layout is a contract with operators and test harnesses (issue 5): sections
`[node]`, `[tls]`, `[sealing]`, `[storage]`, `[directory]`, `[[customers]]`, plus the
gateway's own `[trisa]`, `[trp]`, `[api]`, `[webhooks]`, `[policy]` and `[logging]`. Every
value can also come from the environment as `TRAVELGATE_<SECTION>_<KEY>` (upper-cased), which wins
over the file. Relative paths resolve against the config file's folder (against the
working directory for values from the environment). Every mistake is a ConfigError that
names the key and says what is wrong; nothing is half-loaded.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from travelgate import durations
from travelgate.errors import ConfigError

ENV_PREFIX = "TRAVELGATE_"
DEFAULT_RETENTION = timedelta(days=5 * 365)
# Bounds that keep every value usable downstream: gRPC options are C ints, and event loop
# timers and timedeltas overflow long before a float does.
MAX_INTEGER = 2**31 - 1
MAX_SECONDS = 100 * 365 * 86400
_ASCII_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
# The TRAVELGATE_ names that are not TRAVELGATE_<SECTION>_<KEY> config keys. Any other
# name in that namespace is a typo as surely as an unknown key in the file is.
ENV_OTHER_NAMES = {
    "TRAVELGATE_CONFIG": "the config file of node commands run without --config",
    "TRAVELGATE_API_KEY": "the internal-API key that client commands and scripts send",
}
# Test harnesses set their own knobs under these prefixes; the node never reads them.
ENV_HARNESS_PREFIXES = ("TRAVELGATE_TEST_", "TRAVELGATE_FUZZ_")


@dataclass(frozen=True)
class NodeSection:
    name: str
    legal_name: str
    country: str
    lei: str
    trisa_listen: str
    api_listen: str
    database: Path | str  # a SQLite file, or a postgresql:// URL (checked, see _database)
    internal_listen: str


@dataclass(frozen=True)
class TlsSection:
    cert: Path
    key: Path
    trust: Path


@dataclass(frozen=True)
class SealingSection:
    cert: Path
    key: Path


@dataclass(frozen=True)
class StorageSection:
    key_file: Path
    retention: timedelta
    # Envelopes we could not open are kept as metadata only, capped per peer, and purged
    # after their own (short) retention.
    failed_per_peer: int = 10_000
    failed_retention: timedelta = timedelta(days=30)
    # The Ed25519 key that signs the audit trail and records exports (created 0600).
    audit_key_file: Path = Path("audit.key")


@dataclass(frozen=True)
class DatabaseSection:
    """How the node uses its database: connections in the pool (PostgreSQL), and how long a
    statement may run (PostgreSQL) or wait for another writer's lock (SQLite)."""

    pool_size: int = 10
    statement_timeout: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class DirectorySection:
    file: Path | None
    # The TRISA Global Directory Service ("HOST:PORT", "" = none): names peers.toml does
    # not list are looked up there, reached over mTLS with our [tls] identity and trust.
    gds: str = ""
    gds_ttl: timedelta = timedelta(hours=1)
    # Each Lookup call's deadline, and how long "not found" is remembered (at most gds_ttl).
    gds_timeout: float = 5.0
    gds_not_found_ttl: timedelta = timedelta(minutes=5)
    # CA bundle that certifies the directory's server (default: [tls] trust). The public
    # directories use public roots: point this at the system bundle for them.
    gds_trust: Path | None = None


@dataclass(frozen=True)
class TrisaSection:
    """Limits and behaviour of the TRISA server and client (grpc.aio limits)."""

    max_message_bytes: int
    max_concurrent_rpcs: int
    grace_seconds: float
    transfer_timeout: float
    key_ttl: timedelta
    ivms_profile: str
    crypto_threads: int
    confirm_address: bool
    confirm_address_per_minute: int
    pending_reply_after: timedelta
    pending_reply_before: timedelta
    # Per-peer admission: no single peer can hold the server's capacity.
    per_peer_streams: int = 8
    per_peer_rps: int = 50
    stream_idle_timeout: float = 60.0
    stream_max_age: float = 3600.0
    reserved_rpcs: int = 32
    # Envelopes in work at once (opening, deciding, sealing); 0: four per crypto thread.
    max_inflight_work: int = 0


@dataclass(frozen=True)
class ApiSection:
    body_limit: int
    long_poll_max: float
    assets: tuple[str, ...]
    header_timeout: float
    max_inflight: int
    max_long_polls: int
    four_eyes: bool = True  # the key that created a withdrawal cannot decide its review


@dataclass(frozen=True)
class WebhooksSection:
    url: str
    secret_file: Path | None


@dataclass(frozen=True)
class OutboxSection:
    """Delivery of outgoing envelopes and webhooks (retries, backoff, concurrency)."""

    max_attempts: int
    webhook_max_attempts: int
    base_delay: float
    max_delay: float
    per_target: int
    expiry_interval: float
    lease: float = 30.0  # how long a process's claim on an outbox row lasts unless renewed


@dataclass(frozen=True)
class CustomerSeed:
    id: str
    addresses: tuple[str, ...]
    person: Mapping[str, Any]


@dataclass(frozen=True)
class LoggingSection:
    level: str
    format: str


@dataclass(frozen=True)
class ScreeningSection:
    """Sanctions lists and the optional chain-analytics provider (README "Screening")."""

    lists: tuple[Path, ...] = ()
    on_hit: str = "reject"
    provider_url: str = ""
    provider_secret_file: Path | None = None
    provider_timeout: float = 5.0
    risk_actions: Mapping[str, str] = field(
        default_factory=lambda: {"high": "review", "severe": "reject"}
    )
    fail_open: bool = False


@dataclass(frozen=True)
class AlertsSection:
    """Security alerts (README "Security alerts"): where they go and when they fire."""

    url: str = ""  # "" : the [webhooks] url
    review_age: timedelta = timedelta(hours=4)
    webhook_failures: int = 5
    check_interval: float = 60.0


@dataclass(frozen=True)
class TrpSection:
    """The TRP node (README "TRP"): server and client share one certificate and trust."""

    enabled: bool = False
    listen: str = "127.0.0.1:8200"
    # Where minted Travel Addresses and our callbacks point ("": https://<listen host:port>).
    public_url: str = ""
    cert: Path | None = None
    key: Path | None = None
    trust: Path | None = None
    # Answer decisions in the inquiry's 200 body instead of POSTing them to its callback.
    immediate: bool = False


@dataclass(frozen=True)
class EmailSection:
    """Outgoing email (README "Sunrise"): the SMTP server that relays sunrise links.

    `sender` is the file's `from` key (a Python keyword). `smtp_host` "" disables email.
    """

    smtp_host: str = ""
    smtp_port: int = 587
    sender: str = ""
    starttls: bool = True
    username: str = ""
    password_file: Path | None = None
    # Where links point: the API listener as the counterparty reaches it ("": this node's
    # api_listen over http, for development).
    public_url: str = ""
    timeout: float = 30.0

    @property
    def enabled(self) -> bool:
        return bool(self.smtp_host)


@dataclass(frozen=True)
class ConsoleSection:
    """The compliance console on the API listener (README "For the compliance team")."""

    enabled: bool | None = None  # None ("auto"): served as soon as any user exists
    idle_timeout: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=12)
    # Secure cookies: browsers keep them over plain HTTP on loopback (localhost is a
    # secure context), so only a console behind a plain-HTTP proxy needs false.
    secure_cookies: bool = True


@dataclass(frozen=True)
class Config:
    source: Path | None
    node: NodeSection
    tls: TlsSection
    sealing: SealingSection
    storage: StorageSection
    directory: DirectorySection
    trisa: TrisaSection
    api: ApiSection
    webhooks: WebhooksSection
    logging: LoggingSection
    outbox: OutboxSection
    customers: tuple[CustomerSeed, ...] = ()
    policy: Mapping[str, Any] = field(default_factory=dict)
    screening: ScreeningSection = field(default_factory=ScreeningSection)
    alerts: AlertsSection = field(default_factory=AlertsSection)
    # [policy] new_destination_hold: how long a withdrawal to an address new to the
    # customer waits in held (None: it does not wait).
    new_destination_hold: timedelta | None = None
    trp: TrpSection = field(default_factory=TrpSection)
    email: EmailSection = field(default_factory=EmailSection)
    console: ConsoleSection = field(default_factory=ConsoleSection)
    database: DatabaseSection = field(default_factory=DatabaseSection)


# ---------------------------------------------------------------------------------------
# value parsers: each takes the raw value and the base folder, returns the typed value


def _string(value: object, _base: Path) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_kind(value)}")
    return value.strip()


def _nonempty(value: object, base: Path) -> str:
    text = _string(value, base)
    if not text:
        raise ValueError("must not be empty")
    return text


def _path(value: object, base: Path) -> Path:
    text = _nonempty(value, base)
    try:
        path = Path(text).expanduser()
    except RuntimeError:  # "~name" of a user this system does not know
        raise ValueError(f"cannot expand {text.split('/')[0]!r}: no such user") from None
    return path if path.is_absolute() else (base / path).resolve()


def _database(value: object, base: Path) -> Path | str:
    """A SQLite file path, or a postgresql:// URL (its password never shown in an error)."""
    from travelgate.store._url import check_url, is_url

    text = _nonempty(value, base)
    return check_url(text) if is_url(text) else _path(text, base)


def _optional_path(value: object, base: Path) -> Path | None:
    return None if value in ("", None) else _path(value, base)


def _integer(value: object, _base: Path) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    number = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ASCII_INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None:
        raise ValueError(f"expected an integer, got {_kind(value)}")
    if abs(number) > MAX_INTEGER:
        raise ValueError(f"must be from -{MAX_INTEGER} to {MAX_INTEGER}")
    return number


def _positive(value: object, base: Path) -> int:
    number = _integer(value, base)
    if number <= 0:
        raise ValueError("must be a positive integer")
    return number


def _seconds(value: object, base: Path) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        number = parse_duration(_nonempty(value, base)).total_seconds()
    if not number > 0:  # also refuses nan
        raise ValueError("must be a positive duration")
    if number > MAX_SECONDS:
        raise ValueError("must be at most 100 years")
    return number


def _duration(value: object, base: Path) -> timedelta:
    return timedelta(seconds=_seconds(value, base))


def _boolean(value: object, _base: Path) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {_kind(value)}")


def _boolean_or_auto(value: object, base: Path) -> bool | None:
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    try:
        return _boolean(value, base)
    except ValueError:
        raise ValueError(f'expected true, false or "auto", got {_kind(value)}') from None


def _string_list(value: object, base: Path) -> tuple[str, ...]:
    if value is None:
        from travelgate.service._requests import DEFAULT_ASSETS

        return DEFAULT_ASSETS
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not value:
        raise ValueError("expected a non-empty list of strings")
    return tuple(_nonempty(item, base) for item in value)


def _listen(value: object, base: Path) -> str:
    text = _nonempty(value, base)
    parse_listen(text)
    return text


def _optional_listen(value: object, base: Path) -> str:
    return "" if value in ("", None) else _listen(value, base)


def _country(value: object, base: Path) -> str:
    text = _nonempty(value, base)
    if len(text) != 2 or not text.isascii() or not text.isalpha() or not text.isupper():
        raise ValueError(f"expected an ISO 3166-1 alpha-2 code such as GB, got {text!r}")
    return text


def _choice(*choices: str) -> Callable[[object, Path], str]:
    def parse(value: object, base: Path) -> str:
        text = _nonempty(value, base).lower()
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {text!r}")
        return text

    return parse


def _url(value: object, base: Path) -> str:
    text = _string(value, base)
    if text and not text.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return text


def _https_base_url(value: object, base: Path) -> str:
    """`https://host[:port]`, no path, query or credentials ("" for none)."""
    from urllib.parse import urlsplit

    text = _string(value, base).rstrip("/")
    if not text:
        return ""
    parts = urlsplit(text)
    try:
        _ = parts.port
    except ValueError:
        raise ValueError(f"invalid port in {text!r}") from None
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"expected https://host[:port], got {text!r}")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"expected https://host[:port] without path or query, got {text!r}")
    return text


def _port(value: object, base: Path) -> int:
    number = _integer(value, base)
    if not 1 <= number <= 65535:
        raise ValueError(f"a port is a number from 1 to 65535, got {number}")
    return number


def _base_url(value: object, base: Path) -> str:
    """An http(s) URL that paths are appended to ("" for none)."""
    return _url(value, base).rstrip("/")


def _path_list(value: object, base: Path) -> tuple[Path, ...]:
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        raise ValueError("expected a list of file names")
    return tuple(_path(item, base) for item in value)


RISK_LEVELS = ("low", "medium", "high", "severe")
RISK_ACTIONS = ("allow", "review", "reject")


def _risk_actions(value: object, _base: Path) -> dict[str, str]:
    """`{ high = "review", severe = "reject" }`, or "high=review,severe=reject" from the env."""
    if isinstance(value, str):
        pairs = [part.partition("=") for part in value.split(",") if part.strip()]
        value = {level.strip(): action.strip() for level, _eq, action in pairs}
    if not isinstance(value, dict):
        raise ValueError('expected a table such as { high = "review", severe = "reject" }')
    actions = {}
    for level, action in value.items():
        if level not in RISK_LEVELS:
            raise ValueError(f"unknown risk level {level!r}; known: {', '.join(RISK_LEVELS)}")
        if action not in RISK_ACTIONS:
            raise ValueError(
                f"risk {level}: expected one of {', '.join(RISK_ACTIONS)}, got {action!r}"
            )
        actions[level] = action
    return actions


def _kind(value: object) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )


def is_plain_address(text: str) -> bool:
    """One `local@domain` address: no display name, no spaces or line breaks (headers)."""
    local, at, domain = text.partition("@")
    return bool(
        at
        and local
        and "." in domain.strip(".")
        and "@" not in domain
        and text.isprintable()
        and not any(c.isspace() or c in '<>,;"()[]' for c in text)
        and len(text) <= 254
    )


def parse_duration(text: str) -> timedelta:
    """Durations such as "30s", "90m", "24h", "7d", "5y" or a bare number of seconds."""
    try:
        value = durations.parse_duration(text, loose=True)
    except ValueError:
        value = None
    if value is None or abs(value.total_seconds()) > MAX_SECONDS:
        raise ValueError(
            "expected a duration of at most 100 years such as 30s, 15m, 24h or 5y, "
            f"got {text.strip().lower()!r}"
        )
    return value


def parse_listen(text: str) -> tuple[str, int]:
    """Split "host:port" (IPv6 in brackets); ValueError with a clear message otherwise."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"expected host:port, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        ipaddress.IPv6Address(host)
    if not (port_text.isascii() and port_text.isdigit()) or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"port must be a number from 0 to 65535, got {port_text!r}")
    return host, int(port_text)


# API requests in work at once: one SQLite writer and one event loop serve them, so more
# would only queue (bench/overload.py: at 4, admitted p99 stays within 3x of unloaded).
DEFAULT_API_INFLIGHT = 4

# Envelopes in work per crypto thread: enough to keep every thread busy while replies are
# written, few enough that an admitted envelope never waits long behind the others.
WORK_PER_CRYPTO_THREAD = 4

Parser = Callable[[object, Path], Any]
# section -> key -> (parser, default); a default of ... marks a required key.
_SCHEMA: dict[str, dict[str, tuple[Parser, Any]]] = {
    "node": {
        "name": (_nonempty, ...),
        "legal_name": (_nonempty, ...),
        "country": (_country, ...),
        "lei": (_string, ""),
        "trisa_listen": (_listen, "127.0.0.1:8100"),
        "api_listen": (_listen, "127.0.0.1:8000"),
        "database": (_database, "travelgate.db"),
        "internal_listen": (_optional_listen, ""),
    },
    "tls": {"cert": (_path, ...), "key": (_path, ...), "trust": (_path, ...)},
    "sealing": {"cert": (_optional_path, None), "key": (_optional_path, None)},
    "storage": {
        "key_file": (_path, "storage.key"),
        "retention": (_duration, "5y"),
        "failed_per_peer": (_positive, 10_000),
        "failed_retention": (_duration, "30d"),
        "audit_key_file": (_path, "audit.key"),
    },
    "database": {"pool_size": (_positive, 10), "statement_timeout": (_duration, "30s")},
    "directory": {
        "file": (_optional_path, None),
        "gds": (_optional_listen, ""),
        "gds_ttl": (_duration, "1h"),
        "gds_timeout": (_seconds, 5),
        "gds_not_found_ttl": (_duration, "5m"),
        "gds_trust": (_optional_path, None),
    },
    "trisa": {
        "max_message_bytes": (_positive, 4 * 1024 * 1024),
        "max_concurrent_rpcs": (_positive, 256),
        "grace_seconds": (_seconds, 10),
        "transfer_timeout": (_seconds, 30),
        "key_ttl": (_duration, "1h"),
        "ivms_profile": (_choice("strict", "standard", "interop"), "standard"),
        "crypto_threads": (_integer, 0),
        "confirm_address": (_boolean, False),
        "confirm_address_per_minute": (_positive, 30),
        "pending_reply_after": (_duration, "24h"),
        "pending_reply_before": (_duration, "5m"),
        "per_peer_streams": (_positive, 8),
        "per_peer_rps": (_positive, 50),
        "stream_idle_timeout": (_seconds, 60),
        "stream_max_age": (_seconds, "1h"),
        "reserved_rpcs": (_positive, 32),
        "max_inflight_work": (_integer, 0),
    },
    "api": {
        "body_limit": (_positive, 1024 * 1024),
        "long_poll_max": (_seconds, 60),
        "assets": (_string_list, None),
        "header_timeout": (_seconds, 10),
        "max_inflight": (_positive, DEFAULT_API_INFLIGHT),
        "max_long_polls": (_positive, 1024),
        "four_eyes": (_boolean, True),
    },
    "webhooks": {"url": (_url, ""), "secret_file": (_optional_path, None)},
    "outbox": {
        "max_attempts": (_positive, 12),
        "webhook_max_attempts": (_positive, 30),
        "base_delay": (_seconds, 1),
        "max_delay": (_seconds, 3600),
        "per_target": (_positive, 4),
        "expiry_interval": (_seconds, 1),
        "lease": (_seconds, 30),
    },
    "screening": {
        "lists": (_path_list, []),
        "on_hit": (_choice("reject", "review"), "reject"),
        "provider_url": (_url, ""),
        "provider_secret_file": (_optional_path, None),
        "provider_timeout": (_seconds, 5),
        "risk_actions": (_risk_actions, {"high": "review", "severe": "reject"}),
        "fail_open": (_boolean, False),
    },
    "alerts": {
        "url": (_url, ""),
        "review_age": (_duration, "4h"),
        "webhook_failures": (_positive, 5),
        "check_interval": (_seconds, 60),
    },
    "trp": {
        "enabled": (_boolean, False),
        "listen": (_listen, "127.0.0.1:8200"),
        "public_url": (_https_base_url, ""),
        "cert": (_optional_path, None),
        "key": (_optional_path, None),
        "trust": (_optional_path, None),
        "immediate": (_boolean, False),
    },
    "email": {
        "smtp_host": (_string, ""),
        "smtp_port": (_port, 587),
        "from": (_string, ""),
        "starttls": (_boolean, True),
        "username": (_string, ""),
        "password_file": (_optional_path, None),
        "public_url": (_base_url, ""),
        "timeout": (_seconds, 30),
    },
    "console": {
        "enabled": (_boolean_or_auto, None),
        "idle_timeout": (_duration, "30m"),
        "session_lifetime": (_duration, "12h"),
        "secure_cookies": (_boolean, True),
    },
    "logging": {
        "level": (_choice("debug", "info", "warning", "error"), "info"),
        "format": (_choice("json", "console"), "json"),
    },
}
_FREE_SECTIONS = {"policy"}
_LIST_SECTIONS = {"customers"}


def load_config(path: str | Path | None, env: Mapping[str, str] | None = None) -> Config:
    """Read, merge and validate the configuration; ConfigError names the faulty key."""
    env = os.environ if env is None else env
    check_environment(env)
    raw: dict[str, Any] = {}
    source: Path | None = None
    base = Path.cwd()
    if path is not None:
        source = Path(path).expanduser().resolve()
        raw = _read_toml(source)
        base = source.parent
    where = source.name if source else "environment"
    _check_sections(raw, where)
    values = {name: _section(raw, name, base, env, where) for name in _SCHEMA}
    node = NodeSection(**values["node"])
    tls = TlsSection(**values["tls"])
    sealing_values = values["sealing"]
    if (sealing_values["cert"] is None) != (sealing_values["key"] is None):
        raise ConfigError(f"{where}: [sealing] needs both cert and key, or neither")
    sealing = SealingSection(
        cert=sealing_values["cert"] or tls.cert, key=sealing_values["key"] or tls.key
    )
    trisa_values = values["trisa"]
    if trisa_values["crypto_threads"] <= 0:
        trisa_values["crypto_threads"] = max(1, os.cpu_count() or 1)
    if trisa_values["max_inflight_work"] <= 0:
        trisa_values["max_inflight_work"] = WORK_PER_CRYPTO_THREAD * trisa_values["crypto_threads"]
    webhooks = WebhooksSection(**values["webhooks"])
    if webhooks.url and webhooks.secret_file is None:
        raise ConfigError(f"{where}: [webhooks] url needs secret_file (the signing secret)")
    if values["alerts"]["url"] and webhooks.secret_file is None:
        raise ConfigError(
            f"{where}: [alerts] url needs [webhooks] secret_file (alerts are signed like webhooks)"
        )
    screening = ScreeningSection(**values["screening"])
    if screening.provider_url and screening.provider_secret_file is None:
        raise ConfigError(
            f"{where}: [screening] provider_url needs provider_secret_file (the signing secret)"
        )
    trp_values = values["trp"]
    if (trp_values["cert"] is None) != (trp_values["key"] is None):
        raise ConfigError(f"{where}: [trp] needs both cert and key, or neither")
    trp = TrpSection(
        **{
            **trp_values,
            "cert": trp_values["cert"] or tls.cert,
            "key": trp_values["key"] or tls.key,
            "trust": trp_values["trust"] or tls.trust,
        }
    )
    email = _email_section(values["email"], where)
    policy = raw.get("policy", {})
    if not isinstance(policy, dict):
        raise ConfigError(f"{where}: [policy] must be a table")
    policy = dict(policy)
    new_destination_hold = None
    if "new_destination_hold" in policy:
        try:
            new_destination_hold = _duration(policy.pop("new_destination_hold"), base)
        except ValueError as exc:
            raise ConfigError(f"{where}: [policy] new_destination_hold: {exc}") from None
    return Config(
        source=source,
        node=node,
        tls=tls,
        sealing=sealing,
        storage=StorageSection(**values["storage"]),
        directory=DirectorySection(**values["directory"]),
        trisa=TrisaSection(**trisa_values),
        api=ApiSection(**values["api"]),
        webhooks=webhooks,
        logging=LoggingSection(**values["logging"]),
        outbox=OutboxSection(**values["outbox"]),
        customers=_customers(raw.get("customers", []), where),
        policy=policy,
        screening=screening,
        alerts=AlertsSection(**values["alerts"]),
        new_destination_hold=new_destination_hold,
        trp=trp,
        email=email,
        console=ConsoleSection(**values["console"]),
        database=DatabaseSection(**values["database"]),
    )


def _email_section(values: dict[str, Any], where: str) -> EmailSection:
    values = dict(values)
    email = EmailSection(sender=values.pop("from"), **values)
    if not email.enabled:
        return email
    if not email.sender:
        raise ConfigError(f"{where}: [email] smtp_host needs from (the sender address)")
    if not is_plain_address(email.sender):
        raise ConfigError(
            f"{where}: [email] from must be one plain address such as travel-rule@example.com"
        )
    if bool(email.username) != (email.password_file is not None):
        raise ConfigError(f"{where}: [email] needs both username and password_file, or neither")
    return email


def environment_names() -> list[str]:
    """Every TRAVELGATE_ variable a node reads: one per config key, plus ENV_OTHER_NAMES."""
    keys = [
        f"{ENV_PREFIX}{section}_{key}".upper() for section in _SCHEMA for key in _SCHEMA[section]
    ]
    return [*keys, *ENV_OTHER_NAMES]


def check_environment(env: Mapping[str, str]) -> None:
    """ConfigError for a TRAVELGATE_ variable that nothing reads (a typo would be ignored)."""
    known = set(environment_names())
    unknown = sorted(
        name
        for name in env
        if name.startswith(ENV_PREFIX)
        and name not in known
        and not name.startswith(ENV_HARNESS_PREFIXES)
    )
    if not unknown:
        return
    name = unknown[0]
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ConfigError(
        f"environment: unknown variable {name}{hint}; TRAVELGATE_ variables are config keys "
        f"as TRAVELGATE_<SECTION>_<KEY>, or {', '.join(ENV_OTHER_NAMES)}"
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config path is a directory: {path}") from None
    except PermissionError:
        raise ConfigError(f"config file is not readable: {path}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: not UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    except ValueError:  # tomllib's int() of a literal beyond the interpreter's digit limit
        raise ConfigError(f"{path.name}: an integer has too many digits") from None


def _check_sections(raw: Mapping[str, Any], where: str) -> None:
    known = set(_SCHEMA) | _FREE_SECTIONS | _LIST_SECTIONS
    for name, value in raw.items():
        if name not in known:
            raise ConfigError(
                f"{where}: unknown section [{name}]; known sections: {', '.join(sorted(known))}"
            )
        if name in _SCHEMA and not isinstance(value, dict):
            raise ConfigError(f"{where}: [{name}] must be a table")


def _section(
    raw: Mapping[str, Any], name: str, base: Path, env: Mapping[str, str], where: str
) -> dict[str, Any]:
    schema = _SCHEMA[name]
    table = raw.get(name, {})
    for key in table:
        if key not in schema:
            raise ConfigError(
                f"{where}: unknown key [{name}] {key}; known keys: {', '.join(schema)}"
            )
    result: dict[str, Any] = {}
    for key, (parser, default) in schema.items():
        env_name = f"{ENV_PREFIX}{name}_{key}".upper()
        if env_name in env:
            value, origin, folder = env[env_name], env_name, Path.cwd()
        elif key in table:
            value, origin, folder = table[key], f"{where}: [{name}] {key}", base
        elif default is ...:
            raise ConfigError(
                f"{where}: [{name}] {key} is required (or set {env_name} in the environment)"
            )
        else:
            value, origin, folder = default, f"default [{name}] {key}", base
        try:
            result[key] = parser(value, folder)
        except ValueError as exc:
            raise ConfigError(f"{origin}: {exc}") from None
    return result


def _customers(raw: object, where: str) -> tuple[CustomerSeed, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: customers must be written as [[customers]] tables")
    seeds = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        label = f"{where}: [[customers]] #{index + 1}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{label}: must be a table")
        unknown = set(entry) - {"id", "addresses", "person"}
        if unknown:
            raise ConfigError(f"{label}: unknown key {sorted(unknown)[0]}")
        customer_id = entry.get("id")
        if not isinstance(customer_id, str) or not customer_id.strip():
            raise ConfigError(f"{label}: id is required and must be a string")
        if customer_id in seen:
            raise ConfigError(f"{label}: customer id {customer_id!r} appears twice")
        seen.add(customer_id)
        addresses = entry.get("addresses", [])
        if not isinstance(addresses, list) or not all(isinstance(a, str) and a for a in addresses):
            raise ConfigError(f"{label}: addresses must be a list of non-empty strings")
        person = entry.get("person")
        if not isinstance(person, dict):
            raise ConfigError(f"{label}: person (an IVMS101 Person table) is required")
        seeds.append(CustomerSeed(customer_id, tuple(addresses), person))
    return tuple(seeds)
