"""API keys at rest: a keyed hash (useless without the key file), legacy hashes upgraded."""

from __future__ import annotations

import hashlib

from support.stores import StoreFactory
from travelgate.service import check_api_key, create_api_key


def _stored(stores: StoreFactory) -> list[str]:
    return [row[0] for row in stores.sql("a", "SELECT hash FROM api_keys")]


async def test_a_key_is_stored_as_a_keyed_hash_only(stores: StoreFactory) -> None:
    db = await stores.open()
    _id, key = await create_api_key(db, "ops")
    assert await check_api_key(db, key) is not None
    await db.close()
    [stored] = _stored(stores)
    assert stored != hashlib.sha256(key.encode()).hexdigest()
    assert key not in stored
    # With another storage key the same database recognises no key.
    other = await stores.open(key=b"x" * 32)
    assert await check_api_key(other, key) is None
    await other.close()


async def test_a_legacy_bare_hash_still_works_and_is_upgraded_on_use(stores: StoreFactory) -> None:
    db = await stores.open()
    key = "tgk_0123456789ab_" + "s" * 43
    legacy = hashlib.sha256(key.encode()).hexdigest()
    await db.write(
        lambda tx: tx.insert_scoped_api_key("0123456789ab", legacy, "old", ("withdrawals",), "t")
    )
    record = await check_api_key(db, key)
    assert record is not None
    assert record.id == "0123456789ab"
    assert await check_api_key(db, key) is not None
    await db.close()
    assert _stored(stores) != [legacy]


async def test_keys_that_are_not_ascii_are_unknown(stores: StoreFactory) -> None:
    db = await stores.open()
    assert await check_api_key(db, "tgk_\udcff") is None
    assert await check_api_key(db, "tgk_é") is None
    await db.close()
