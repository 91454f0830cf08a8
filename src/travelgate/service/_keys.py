"""API keys of the internal API: made once, shown once, stored only as a keyed hash.

The hash is an HMAC keyed from the node's storage key, so a copy of the database alone
cannot be used to test guesses. Keys stored by earlier versions as a bare SHA-256 are
re-hashed the first time they are used.

A key is `tgk_<id>_<secret>`; `tgk_<id>` is its prefix, safe to show and to name the key
by (`apikey list`, `apikey revoke`). Each key carries scopes; an endpoint needs its scope.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from travelgate.errors import NotPermittedError
from travelgate.store import ApiKey, Store, Tx, now_text
from travelgate.timestamps import parse_stored

PREFIX = "tgk"
# Keys are managed on the node's own host (the CLI, `make run`): the audit names that.
ADMIN_ACTOR = "operator"
SCOPES = ("withdrawals", "deposits", "customers", "reviews", "admin")
DEFAULT_SCOPES = tuple(scope for scope in SCOPES if scope != "admin")
# Recording each use would make every read a write: once a minute is enough to tell
# an unused key from a live one.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def key_hash(tx: Tx, key: str) -> str:
    return tx.sealer.digest(key.encode("ascii"))


def _legacy_hash(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def key_prefix(key_id: str) -> str:
    return f"{PREFIX}_{key_id}"


def check_scopes(scopes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The scopes, de-duplicated in their canonical order; ValueError names an unknown one."""
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}; scopes are {', '.join(SCOPES)}")
    return tuple(scope for scope in SCOPES if scope in scopes)


async def create_api_key(
    db: Store,
    label: str = "",
    scopes: tuple[str, ...] | None = None,
    *,
    actor: str = ADMIN_ACTOR,
) -> tuple[str, str]:
    """A new key: (key id, the key itself). The key is not recoverable afterwards.

    Without `scopes` the key gets every scope but `admin`; `actor` is who the audit names
    (a console person, or the node's operator)."""
    granted = check_scopes(scopes) if scopes else DEFAULT_SCOPES
    key_id = secrets.token_hex(6)
    key = f"{key_prefix(key_id)}_{secrets.token_urlsafe(32)}"
    stamp = now_text()

    def insert(tx: Tx) -> None:
        tx.insert_scoped_api_key(key_id, key_hash(tx, key), label, granted, stamp)
        tx.audit(
            actor=actor,
            action="apikey.created",
            subject=f"apikey:{key_id}",
            detail={"name": label, "scopes": list(granted)},
            stamp=stamp,
        )

    await db.write(insert)
    return key_id, key


async def check_api_key(db: Store, key: str) -> ApiKey | None:
    """The key's record if it is known and not revoked (its last use is noted)."""
    if not key.startswith(f"{PREFIX}_") or len(key) > 200 or not key.isascii():
        return None
    record, legacy = await db.read(lambda tx: _find(tx, key))
    if record is None or record.revoked_at is not None:
        return None
    if legacy:
        key_id = record.id
        await db.write(lambda tx: tx.rehash_api_key(key_id, key_hash(tx, key)))
    now = datetime.now(UTC)
    if (
        record.last_used_at is None
        or parse_stored(record.last_used_at) < now - _LAST_USED_RESOLUTION
    ):
        stamp = now_text()
        await db.write(lambda tx: tx.api_key_used(record.id, stamp))
    return record


def _find(tx: Tx, key: str) -> tuple[ApiKey | None, bool]:
    """The key's record, and whether it is still stored under the legacy bare hash."""
    record = tx.api_key_by_hash(key_hash(tx, key))
    if record is not None:
        return record, False
    legacy = tx.api_key_by_hash(_legacy_hash(key))
    return legacy, legacy is not None


def require_scope(record: ApiKey, scope: str) -> None:
    if scope not in record.scopes:
        raise NotPermittedError(
            "forbidden_scope",
            f"this API key lacks the {scope!r} scope (create one with "
            f"`travelgate apikey create --scope {scope}`)",
            field="Authorization",
        )


async def list_api_keys(db: Store) -> list[ApiKey]:
    return await db.read(lambda tx: tx.api_keys())


async def revoke_api_key(db: Store, prefix: str, *, actor: str = ADMIN_ACTOR) -> ApiKey | None:
    """Revoke the key named by its prefix (`tgk_<id>`, or the id alone); the record, or None
    when no key has that prefix. Revoking a revoked key again changes nothing."""
    key_id = prefix.strip()
    if key_id.startswith(f"{PREFIX}_"):
        key_id = key_id[len(PREFIX) + 1 :]
    key_id = key_id.split("_", 1)[0]  # a whole key names its own prefix too
    stamp = now_text()

    def revoke(tx: Tx) -> ApiKey | None:
        found = [key for key in tx.api_keys() if key.id == key_id]
        if not found:
            return None
        if tx.revoke_api_key(key_id, stamp):
            tx.audit(
                actor=actor,
                action="apikey.revoked",
                subject=f"apikey:{key_id}",
                detail={"name": found[0].label},
                stamp=stamp,
            )
        return next(key for key in tx.api_keys() if key.id == key_id)

    return await db.write(revoke)
