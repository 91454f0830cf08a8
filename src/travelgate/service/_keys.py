"""API keys of the internal API: made once, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from travelgate.store import ApiKey, Database, now_text

PREFIX = "tgk"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


async def create_api_key(db: Database, label: str = "") -> tuple[str, str]:
    """A new key: (key id, the key itself). The key is not recoverable afterwards."""
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    await db.write(lambda tx: tx.insert_api_key(key_id, key_hash(key), label, now_text()))
    return key_id, key


async def check_api_key(db: Database, key: str) -> ApiKey | None:
    """The key's record if it is known and not revoked."""
    if not key.startswith(f"{PREFIX}_") or len(key) > 200:
        return None
    record = await db.read(lambda tx: tx.api_key_by_hash(key_hash(key)))
    if record is None or record.revoked_at is not None:
        return None
    return record
