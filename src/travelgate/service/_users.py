"""People of the compliance console: create, list, disable, enable, reset; every change
audited by reference (`user:<id>`), never by email.

A new or reset person gets a one-time password (argon2id-hashed at once) and a fresh TOTP
secret; both are shown once, to the admin who runs the command.
"""

from __future__ import annotations

import functools
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import argon2

from travelgate.errors import TravelgateError, UsageError
from travelgate.service._totp import new_secret, provisioning_uri, totp_matches
from travelgate.store import ROLES, Store, Tx, User, now_text
from travelgate.timestamps import format_timestamp

# argon2-cffi's defaults are RFC 9106's second recommendation (argon2id, 64 MiB, t=3).
_HASHER = argon2.PasswordHasher()
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
TOTP_ISSUER = "travelgate"
# Five wrong tries lock a person out for a quarter of an hour (an admin's `user reset`
# lifts it sooner); a TOTP code alone gives an attacker 1 in 10^6 per try.
MAX_FAILED_SIGN_INS = 5
LOCK_OUT = timedelta(minutes=15)


@dataclass(frozen=True)
class Enrolment:
    """What an admin hands to the person, once: never stored in clear."""

    user: User
    one_time_password: str
    totp_uri: str


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def check_email(email: str) -> str:
    cleaned = email.strip()
    if len(cleaned) > 254 or not _EMAIL.fullmatch(cleaned):
        raise UsageError(f"not an email address: {email!r}")
    return cleaned


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


def _credentials(email: str, issuer: str) -> tuple[str, str, bytes, str]:
    password = secrets.token_urlsafe(15)
    secret = new_secret()
    return (
        password,
        hash_password(password),
        secret,
        provisioning_uri(secret, account=email, issuer=issuer),
    )


async def create_user(
    db: Store, email: str, role: str, *, actor: str, issuer: str = TOTP_ISSUER, **who: Any
) -> Enrolment:
    email, role = check_email(email), check_role(role)
    password, password_hash, secret, uri = _credentials(email, issuer)
    user_id = str(uuid.uuid4())

    def insert(tx: Tx) -> User:
        stamp = now_text()
        if not tx.insert_user(
            user_id,
            email=email,
            role=role,
            password_hash=password_hash,
            totp_secret=secret,
            stamp=stamp,
        ):
            raise TravelgateError("a user with this email exists already (see `user list`)")
        tx.audit(
            actor=actor,
            action="user.created",
            subject=f"user:{user_id}",
            detail={"role": role, **who},
            stamp=stamp,
        )
        user = tx.user(user_id)
        assert user is not None
        return user

    return Enrolment(await db.write(insert), password, uri)


async def list_users(db: Store) -> list[User]:
    return await db.read(lambda tx: tx.users())


def _found(tx: Tx, email: str) -> User:
    user = tx.user_by_email(email)
    if user is None:
        raise TravelgateError(f"no user has the email {email!r} (see `user list`)")
    return user


async def set_user_disabled(
    db: Store, email: str, *, disabled: bool, actor: str, **who: Any
) -> tuple[User, bool]:
    """Disable (or enable) a person; the flag says whether anything changed."""

    def change(tx: Tx) -> tuple[User, bool]:
        user = _found(tx, email)
        stamp = now_text()
        changed = tx.set_user_disabled(user.id, disabled=disabled, stamp=stamp)
        if changed:
            tx.audit(
                actor=actor,
                action="user.disabled" if disabled else "user.enabled",
                subject=f"user:{user.id}",
                detail=dict(who),
                stamp=stamp,
            )
        updated = tx.user(user.id)
        assert updated is not None
        return updated, changed

    return await db.write(change)


async def reset_user(
    db: Store, email: str, *, actor: str, issuer: str = TOTP_ISSUER, **who: Any
) -> Enrolment:
    """A new one-time password and TOTP secret; the old ones stop working at once."""

    def reset(tx: Tx) -> Enrolment:
        user = _found(tx, email)
        password, password_hash, secret, uri = _credentials(user.email, issuer)
        stamp = now_text()
        tx.set_user_credentials(
            user.id, password_hash=password_hash, totp_secret=secret, stamp=stamp
        )
        tx.audit(
            actor=actor,
            action="user.reset",
            subject=f"user:{user.id}",
            detail=dict(who),
            stamp=stamp,
        )
        updated = tx.user(user.id)
        assert updated is not None
        return Enrolment(updated, password, uri)

    return await db.write(reset)


MIN_PASSWORD = 12
MAX_PASSWORD = 256


def password_problem(password: str, *, email: str) -> str | None:
    """Why a chosen password is refused, or None (length first: NIST SP 800-63B 5.1.1)."""
    if len(password) < MIN_PASSWORD:
        return f"choose a password of at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"choose a password of at most {MAX_PASSWORD} characters"
    if password.strip().lower() in (email.lower(), email.split("@")[0].lower()):
        return "the password must not be your email"
    if len(set(password)) < 4:
        return "the password repeats too few characters"
    return None


async def change_password(
    db: Store, user_id: str, current: str, new: str, *, actor: str, **who: Any
) -> None:
    """A person replaces their password (the one-time one first of all); TravelgateError
    says why not. Audited as `user.password_changed`."""
    found = await db.read(lambda tx: (tx.user(user_id), tx.user_secrets(user_id)))
    user, secrets_ = found
    if user is None or secrets_ is None:
        raise TravelgateError("no such person")
    if not password_matches(secrets_.password_hash, current):
        raise TravelgateError("the current password is wrong")
    if new == current:
        raise TravelgateError("choose a password other than the current one")
    problem = password_problem(new, email=user.email)
    if problem is not None:
        raise TravelgateError(problem)
    new_hash = hash_password(new)

    def write(tx: Tx) -> None:
        stamp = now_text()
        tx.set_user_password(user_id, password_hash=new_hash, stamp=stamp)
        tx.audit(
            actor=actor,
            action="user.password_changed",
            subject=f"user:{user_id}",
            detail=dict(who),
            stamp=stamp,
        )

    await db.write(write)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the person when it succeeded, else why not (one reason
    for every wrong input, so the answer does not tell which part was wrong)."""

    user: User | None
    refusal: str | None = None


async def sign_in(
    db: Store, email: str, password: str, code: str, *, source: str = "console"
) -> SignIn:
    """Check password and TOTP code; count failures, lock out after repeated ones; every
    attempt on a known person is audited (success and failure alike)."""
    found = await db.read(lambda tx: tx.user_by_email(email))
    if found is None:
        password_matches(_dummy_hash(), password)  # the same work as for a real person
        return SignIn(None, "wrong email, password or code")
    secrets_ = await db.read(lambda tx: tx.user_secrets(found.id))
    assert secrets_ is not None
    now = datetime.now(UTC)
    stamp = now_text()
    locked = found.locked_until is not None and found.locked_until > stamp
    good = (
        not locked
        and found.disabled_at is None
        and password_matches(secrets_.password_hash, password)
        and totp_matches(secrets_.totp_secret, code)
    )

    def record(tx: Tx) -> User | None:
        user = tx.user(found.id)
        assert user is not None
        lock_until = None
        if not good and not locked and user.failed_sign_ins + 1 >= MAX_FAILED_SIGN_INS:
            lock_until = format_timestamp(now + LOCK_OUT)
        tx.record_sign_in(user.id, succeeded=good, stamp=stamp, lock_until=lock_until)
        detail: dict[str, Any] = {"source": source}
        if not good:
            detail["why"] = (
                "locked" if locked else "disabled" if user.disabled_at else "credentials"
            )
            if lock_until is not None:
                detail["locked_until"] = lock_until
        tx.audit(
            actor=f"user:{user.id}",
            action="user.signed_in" if good else "user.sign_in_failed",
            subject=f"user:{user.id}",
            detail=detail,
            stamp=stamp,
        )
        return tx.user(user.id)

    user = await db.write(record)
    if good:
        return SignIn(user)
    if locked:
        return SignIn(None, "too many failed sign-ins: try again later or ask an admin")
    return SignIn(None, "wrong email, password or code")


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
