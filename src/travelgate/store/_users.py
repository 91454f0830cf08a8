"""People who use the console: their role, argon2id password hash and TOTP secret.

A mixin of `Tx`. An email names a person, so it is sealed at rest like every identity; a
keyed digest of its lower-cased form finds the row and keeps it unique. The TOTP secret is
sealed too; the password is only ever a hash.
"""

from __future__ import annotations

from dataclasses import dataclass

from travelgate.store._connection import Connection, Row
from travelgate.store._sealer import Sealer

ROLES = ("admin", "compliance", "observer")


@dataclass(frozen=True)
class User:
    id: str
    email: str
    role: str
    must_change_password: bool
    failed_sign_ins: int
    locked_until: str | None
    created_at: str
    updated_at: str
    disabled_at: str | None
    last_sign_in_at: str | None


@dataclass(frozen=True)
class UserSecrets:
    """What checks a sign-in: never shown, never logged."""

    password_hash: str
    totp_secret: bytes


class UserOps:
    db: Connection
    sealer: Sealer

    def _email_digest(self, email: str) -> str:
        return self.sealer.digest(b"user email\x00" + email.strip().lower().encode("utf-8"))

    def insert_user(
        self,
        user_id: str,
        *,
        email: str,
        role: str,
        password_hash: str,
        totp_secret: bytes,
        stamp: str,
    ) -> bool:
        """Add a person; False when the email is taken already."""
        cursor = self.db.execute(
            "INSERT INTO users (id, email_digest, email, role, password_hash, totp_secret, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (email_digest) DO NOTHING",
            (
                user_id,
                self._email_digest(email),
                self.sealer.seal(email.strip().encode("utf-8")),
                role,
                password_hash,
                self.sealer.seal(totp_secret),
                stamp,
                stamp,
            ),
        )
        return cursor.rowcount > 0

    def user_by_email(self, email: str) -> User | None:
        row = self.db.execute(
            "SELECT * FROM users WHERE email_digest = ?", (self._email_digest(email),)
        ).fetchone()
        return None if row is None else self._user(row)

    def user(self, user_id: str) -> User | None:
        row = self.db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return None if row is None else self._user(row)

    def users(self) -> list[User]:
        rows = self.db.execute("SELECT * FROM users ORDER BY created_at, id").fetchall()
        return [self._user(row) for row in rows]

    def user_secrets(self, user_id: str) -> UserSecrets | None:
        row = self.db.execute(
            "SELECT password_hash, totp_secret FROM users WHERE id = ?", (user_id,)
        ).fetchone()
        if row is None:
            return None
        return UserSecrets(row[0], self.sealer.open(row[1]))

    def set_user_credentials(
        self, user_id: str, *, password_hash: str, totp_secret: bytes, stamp: str
    ) -> None:
        """New one-time password and TOTP secret; the lock-out is lifted."""
        self.db.execute(
            "UPDATE users SET password_hash = ?, totp_secret = ?, must_change_password = 1, "
            "failed_sign_ins = 0, locked_until = NULL, updated_at = ? WHERE id = ?",
            (password_hash, self.sealer.seal(totp_secret), stamp, user_id),
        )

    def set_user_password(self, user_id: str, *, password_hash: str, stamp: str) -> None:
        """The person's own password replaces the one-time one."""
        self.db.execute(
            "UPDATE users SET password_hash = ?, must_change_password = 0, updated_at = ? "
            "WHERE id = ?",
            (password_hash, stamp, user_id),
        )

    def set_user_disabled(self, user_id: str, *, disabled: bool, stamp: str) -> bool:
        """Disable or enable a person; False when that changed nothing."""
        if disabled:
            sql = (
                "UPDATE users SET disabled_at = ?, updated_at = ? "
                "WHERE id = ? AND disabled_at IS NULL"
            )
            parameters: tuple[object, ...] = (stamp, stamp, user_id)
        else:
            sql = (
                "UPDATE users SET disabled_at = NULL, updated_at = ? "
                "WHERE id = ? AND disabled_at IS NOT NULL"
            )
            parameters = (stamp, user_id)
        return self.db.execute(sql, parameters).rowcount > 0

    def record_sign_in(
        self, user_id: str, *, succeeded: bool, stamp: str, lock_until: str | None = None
    ) -> None:
        """Count a failure (locking until `lock_until` when given), or reset the count."""
        if succeeded:
            self.db.execute(
                "UPDATE users SET failed_sign_ins = 0, locked_until = NULL, "
                "last_sign_in_at = ? WHERE id = ?",
                (stamp, user_id),
            )
        else:
            self.db.execute(
                "UPDATE users SET failed_sign_ins = failed_sign_ins + 1, "
                "locked_until = coalesce(?, locked_until) WHERE id = ?",
                (lock_until, user_id),
            )

    def _user(self, row: Row) -> User:
        return User(
            id=row["id"],
            email=self.sealer.open(row["email"]).decode("utf-8"),
            role=row["role"],
            must_change_password=bool(row["must_change_password"]),
            failed_sign_ins=int(row["failed_sign_ins"]),
            locked_until=row["locked_until"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            disabled_at=row["disabled_at"],
            last_sign_in_at=row["last_sign_in_at"],
        )
