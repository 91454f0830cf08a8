"""People of the compliance console: create, list, disable, enable, reset; every change
audited by reference (`user:<id>`), never by email.

A new or reset person gets a one-time password (argon2id-hashed at once) and a fresh TOTP
secret; both are shown once, to the admin who runs the command.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import argon2

from travelgate.errors import TravelgateError, UsageError
from travelgate.service._totp import new_secret, provisioning_uri
from travelgate.store import ROLES, Database, Tx, User, now_text

# argon2-cffi's defaults are RFC 9106's second recommendation (argon2id, 64 MiB, t=3).
_HASHER = argon2.PasswordHasher()
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
TOTP_ISSUER = "travelgate"


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
    db: Database, email: str, role: str, *, actor: str, issuer: str = TOTP_ISSUER, **who: Any
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


async def list_users(db: Database) -> list[User]:
    return await db.read(lambda tx: tx.users())


def _found(tx: Tx, email: str) -> User:
    user = tx.user_by_email(email)
    if user is None:
        raise TravelgateError(f"no user has the email {email!r} (see `user list`)")
    return user


async def set_user_disabled(
    db: Database, email: str, *, disabled: bool, actor: str, **who: Any
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
    db: Database, email: str, *, actor: str, issuer: str = TOTP_ISSUER, **who: Any
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
