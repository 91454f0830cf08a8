"""Sign-in on a real SQLite store: argon2id password and TOTP code, lock-out, audit."""

from __future__ import annotations

from support.stores import StoreFactory
from travelgate.audit._trail import verify_trail
from travelgate.service import create_user, reset_user, set_user_disabled, sign_in, totp
from travelgate.service._totp import provisioning_uri
from travelgate.service._users import MAX_FAILED_SIGN_INS
from travelgate.store import Store


async def _secret(db: Store, email: str) -> bytes:
    def read(tx: object) -> bytes:
        user = tx.user_by_email(email)  # type: ignore[attr-defined]
        return bytes(tx.user_secrets(user.id).totp_secret)  # type: ignore[attr-defined]

    return await db.read(read)


async def test_sign_in_needs_password_and_code_and_locks_out(stores: StoreFactory) -> None:
    db = await stores.open()
    enrolment = await create_user(db, "ann@example.com", "compliance", actor="operator")
    secret = await _secret(db, "ann@example.com")
    assert enrolment.totp_uri == provisioning_uri(
        secret, account="ann@example.com", issuer="travelgate"
    )
    password = enrolment.one_time_password

    ok = await sign_in(db, "ANN@example.com", password, totp(secret))
    assert ok.user is not None
    assert ok.user.last_sign_in_at is not None
    assert (await sign_in(db, "ann@example.com", password, "000000")).user is None
    assert (await sign_in(db, "nobody@example.com", password, totp(secret))).refusal == (
        "wrong email, password or code"
    )

    for _ in range(MAX_FAILED_SIGN_INS):
        await sign_in(db, "ann@example.com", "wrong", totp(secret))
    locked = await sign_in(db, "ann@example.com", password, totp(secret))
    assert locked.user is None
    assert locked.refusal is not None
    assert "too many failed sign-ins" in locked.refusal

    reset = await reset_user(db, "ann@example.com", actor="operator")
    secret = await _secret(db, "ann@example.com")
    assert (await sign_in(db, "ann@example.com", reset.one_time_password, totp(secret))).user

    await set_user_disabled(db, "ann@example.com", disabled=True, actor="operator")
    assert (
        await sign_in(db, "ann@example.com", reset.one_time_password, totp(secret))
    ).user is None

    actions = await db.read(
        lambda tx: [r.action for r in tx.audit_records() if r.action.startswith("user.sign")]
    )
    assert actions.count("user.signed_in") == 2
    assert actions.count("user.sign_in_failed") == 1 + MAX_FAILED_SIGN_INS + 1 + 1
    assert (await verify_trail(db)).intact
    await db.close()
