"""Admission to the TRISA server: who may call, with which key, how often, how many at once.

Every call passes here before it does any work. The caller is the CN of its verified
certificate (TRISA peer identity); a name that is not in the directory, or is blocked, is refused
before it holds anything; a name that is pinned must present the pinned public key, and a
known name that presents a new key raises a security alert either way. Each peer then has
its own token bucket (`per_peer_rps`) and its own share of concurrent calls
(`per_peer_streams`), so one peer at its limit is refused while every other peer is served.

Capacity comes in two pools. TRISANetwork calls (Transfer, TransferStream, ConfirmAddress)
share `max_concurrent_rpcs`; TRISAHealth and KeyExchange draw on a separate reserve
(`reserved_rpcs`), so health checks and key exchanges are answered while the network pool
is busy. grpc's own server-wide cap is set above both pools together (`grpc_limit`), so a
call is only ever refused by this module, per peer, never by grpc for everyone.

Past the pools, the work itself is bounded: at most `max_inflight_work` envelopes are
being opened, decided and answered at once, one peer holding at most three quarters of
them. One more Transfer is refused at once (RESOURCE_EXHAUSTED) rather than queued behind
the RSA threads, so overload sheds excess envelopes while admitted ones keep their latency;
a stream's messages wait their turn instead (its window already bounds them).
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import structlog
from cryptography import x509

from travelgate import metrics
from travelgate.errors import PeerIdentityError, RefusedError
from travelgate.trisa._directory import Directory, Peer, format_pin, spki_digest

log = structlog.get_logger("travelgate.security")

# Room above the two pools for calls that are being refused (each holds a grpc slot for
# the moment it takes to say no).
REFUSAL_HEADROOM = 64
# Bounded memory whatever the number of distinct names that call us.
MAX_TRACKED_NAMES = 10_000
# A repeated alert for the same name and key is logged at most this often (the counter
# counts every occurrence).
ALERT_LOG_INTERVAL = 60.0


class Pool(enum.Enum):
    NETWORK = "network"
    RESERVE = "reserve"


@dataclass(frozen=True)
class AdmissionSettings:
    per_peer_streams: int = 8
    per_peer_rps: int = 50
    stream_idle_timeout: float = 60.0
    stream_max_age: float = 3600.0
    max_concurrent_rpcs: int = 256
    reserved_rpcs: int = 32
    max_inflight_work: int = 8

    @property
    def grpc_limit(self) -> int:
        """grpc's server-wide cap: above everything admission lets in."""
        return self.max_concurrent_rpcs + self.reserved_rpcs + REFUSAL_HEADROOM


@dataclass(frozen=True)
class Caller:
    """Who is calling: the certificate's CN and the SHA-256 of its SPKI."""

    name: str
    key_digest: bytes


def caller_of(
    context: grpc.aio.ServicerContext[object, object], digests: _DigestCache | None = None
) -> Caller:
    """The caller's CN, required to be among its DNS SANs (stricter than the reference)."""
    auth = context.auth_context()
    names = list(auth.get("x509_common_name") or [])
    if not names:
        raise PeerIdentityError("no verified client certificate common name")
    try:
        name: str = names[0].decode("ascii")
    except UnicodeDecodeError:
        raise PeerIdentityError("client certificate common name is not ASCII") from None
    sans = {
        value.decode("ascii", "replace")
        for value in auth.get("x509_subject_alternative_name") or []
    }
    if name not in sans:
        raise PeerIdentityError("client certificate common name is not one of its DNS names")
    pems = list(auth.get("x509_pem_cert") or [])
    if not pems:
        raise PeerIdentityError("no verified client certificate")
    digest = (digests or _DigestCache()).digest(pems[0])
    return Caller(name, digest)


class _DigestCache:
    """Leaf PEM -> SPKI digest; peers reuse one certificate for many calls."""

    def __init__(self) -> None:
        self._digests: OrderedDict[bytes, bytes] = OrderedDict()

    def digest(self, pem: bytes) -> bytes:
        token = hashlib.sha256(pem).digest()
        found = self._digests.get(token)
        if found is not None:
            self._digests.move_to_end(token)
            return found
        try:
            certificate = x509.load_pem_x509_certificate(pem)
        except ValueError:
            raise PeerIdentityError("the client certificate cannot be parsed") from None
        found = spki_digest(certificate.public_key())
        self._digests[token] = found
        if len(self._digests) > MAX_TRACKED_NAMES:
            self._digests.popitem(last=False)
        return found


def _first_in_a_while(last_logged: OrderedDict[Any, float], key: object) -> bool:
    """True when `key` was not logged in the last ALERT_LOG_INTERVAL (and note it now)."""
    now = time.monotonic()
    last = last_logged.get(key)
    if last is not None and now - last < ALERT_LOG_INTERVAL:
        return False
    last_logged[key] = now
    last_logged.move_to_end(key)
    if len(last_logged) > MAX_TRACKED_NAMES:
        last_logged.popitem(last=False)
    return True


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class Slot:
    """One admitted call; `release` gives its place back (safe to call twice)."""

    admission: Admission
    pool: Pool
    name: str
    _released: bool = field(default=False)

    def release(self) -> None:
        if not self._released:
            self._released = True
            self.admission._leave(self.pool, self.name)

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class Admission:
    def __init__(self, settings: AdmissionSettings, directory: Directory) -> None:
        self.settings = settings
        self.directory = directory
        self._digests = _DigestCache()
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._active: dict[tuple[Pool, str], int] = {}
        self._totals = {Pool.NETWORK: 0, Pool.RESERVE: 0}
        self._work = 0
        self._work_of: dict[str, int] = {}
        self._work_freed = asyncio.Condition()
        self._seen_keys: OrderedDict[str, bytes] = OrderedDict()
        self._alerted: OrderedDict[tuple[str, bytes], float] = OrderedDict()
        self._logged_refusals: OrderedDict[tuple[str, str], float] = OrderedDict()
        # (peer, presented pin, pinned, action): raises the stored, delivered alert.
        self.on_key_alert: Callable[[str, str, bool, str], None] | None = None

    # -- identity -------------------------------------------------------------------------

    def caller(self, context: grpc.aio.ServicerContext[object, object]) -> Caller:
        return caller_of(context, self._digests)

    def known_peer(self, caller: Caller) -> Peer | None:
        """The caller's directory entry if it is allowed, else None; RefusedError when a
        known name presents a key other than its pinned one."""
        peer = self.directory.get(caller.name)
        if peer is None or peer.blocked:
            return None
        self.check_key(peer, caller.key_digest)
        return peer

    def check_key(self, peer: Peer, digest: bytes) -> None:
        """Pinned: that key or refused. Unpinned: any key, but a change is an alert."""
        if peer.pins:
            if digest not in peer.pins:
                self._alert(peer.name, digest, pinned=True, known=peer.pins, action="refused")
                raise RefusedError(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "pin_mismatch",
                    f"the certificate presented for {peer.name} does not carry its pinned key",
                    peer.name,
                )
            return
        last = self._seen_keys.get(peer.name)
        self._seen_keys[peer.name] = digest
        self._seen_keys.move_to_end(peer.name)
        if len(self._seen_keys) > MAX_TRACKED_NAMES:
            self._seen_keys.popitem(last=False)
        if last is not None and last != digest:
            self._alert(peer.name, digest, pinned=False, known={last}, action="accepted")

    def _alert(
        self,
        name: str,
        digest: bytes,
        *,
        pinned: bool,
        known: frozenset[bytes] | set[bytes],
        action: str,
    ) -> None:
        metrics.peer_key_alert(name, pinned=pinned)
        if self.on_key_alert is not None:
            self.on_key_alert(name, format_pin(digest), pinned, action)
        if not _first_in_a_while(self._alerted, (name, digest)):
            return
        log.warning(
            "security alert: a known peer presented a new key",
            alert="peer_key_changed",
            peer=name,
            presented=format_pin(digest),
            known=sorted(format_pin(d) for d in known),
            pinned=pinned,
            action=action,
        )

    def refused(self, name: str, reason: str) -> None:
        """Count a refusal; log it once a minute per name and reason (a flood stays quiet)."""
        metrics.trisa_refused(reason)
        if not _first_in_a_while(self._logged_refusals, (name, reason)):
            return
        log.warning("trisa call refused", peer=name or None, reason=reason)

    # -- rate -----------------------------------------------------------------------------

    def rate_of(self, name: str) -> int:
        peer = self.directory.get(name)
        override = peer.per_peer_rps if peer is not None else None
        return override or self.settings.per_peer_rps

    def streams_of(self, name: str) -> int:
        peer = self.directory.get(name)
        override = peer.per_peer_streams if peer is not None else None
        return override or self.settings.per_peer_streams

    def take_token(self, name: str) -> bool:
        """One request's worth of the peer's bucket (burst of one second's allowance)."""
        rate = float(self.rate_of(name))
        now = time.monotonic()
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = _Bucket(rate, now)
            if len(self._buckets) > MAX_TRACKED_NAMES:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(name)
            bucket.tokens = min(rate, bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def require_token(self, name: str) -> None:
        if not self.take_token(name):
            raise RefusedError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "rate",
                f"{name} is over its rate of {self.rate_of(name)} requests per second; retry later",
                name,
            )

    # -- concurrency ----------------------------------------------------------------------

    def enter(self, name: str, pool: Pool) -> Slot:
        """A place for one call of `name` in `pool`, or RefusedError (RESOURCE_EXHAUSTED)."""
        per_peer = self.streams_of(name)
        total = (
            self.settings.max_concurrent_rpcs
            if pool is Pool.NETWORK
            else self.settings.reserved_rpcs
        )
        held = self._active.get((pool, name), 0)
        if held >= per_peer:
            raise RefusedError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "peer_streams",
                f"{name} already has {held} calls open (limit {per_peer}); retry later",
                name,
            )
        if self._totals[pool] >= total:
            raise RefusedError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "capacity",
                "the server is at capacity; retry later",
                name,
            )
        self._active[(pool, name)] = held + 1
        self._totals[pool] += 1
        return Slot(self, pool, name)

    def _leave(self, pool: Pool, name: str) -> None:
        held = self._active.get((pool, name), 0) - 1
        if held > 0:
            self._active[(pool, name)] = held
        else:
            self._active.pop((pool, name), None)
        self._totals[pool] = max(0, self._totals[pool] - 1)

    def open_calls(self, name: str, pool: Pool = Pool.NETWORK) -> int:
        return self._active.get((pool, name), 0)

    # -- work -----------------------------------------------------------------------------

    def _work_cap(self) -> int:
        """One peer may hold at most three quarters of the work places, so others get in."""
        total = self.settings.max_inflight_work
        return max(1, total - total // 4)

    def _may_work(self, name: str) -> bool:
        return (
            self._work < self.settings.max_inflight_work
            and self._work_of.get(name, 0) < self._work_cap()
        )

    def _take_work(self, name: str) -> None:
        self._work += 1
        self._work_of[name] = self._work_of.get(name, 0) + 1

    def try_work(self, name: str) -> bool:
        """A place for one envelope's work now; False when the node (or this peer's share
        of it) is at capacity."""
        if not self._may_work(name):
            return False
        self._take_work(name)
        return True

    async def wait_work(self, name: str) -> None:
        """A place for one envelope of a stream: the stream's window already bounds how
        many wait, so they queue (in order) instead of being refused."""
        async with self._work_freed:
            await self._work_freed.wait_for(lambda: self._may_work(name))
            self._take_work(name)

    async def end_work(self, name: str) -> None:
        self._work = max(0, self._work - 1)
        held = self._work_of.get(name, 0) - 1
        if held > 0:
            self._work_of[name] = held
        else:
            self._work_of.pop(name, None)
        async with self._work_freed:
            self._work_freed.notify_all()

    @property
    def work_in_progress(self) -> int:
        return self._work
