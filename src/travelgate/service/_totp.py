"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1, 6 digits, 30 s.

The parameters every authenticator app understands by default; the provisioning URI is the
`otpauth://totp/...` form those apps read from a QR code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

DIGITS = 6
PERIOD = 30
SECRET_BYTES = 20  # 160 bits, the size RFC 4226 recommends for HMAC-SHA1


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def hotp(secret: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226 section 5.3: HMAC-SHA1 of the counter, dynamically truncated."""
    mac = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp(secret: bytes, at: float | None = None, digits: int = DIGITS) -> str:
    moment = time.time() if at is None else at
    return hotp(secret, int(moment // PERIOD), digits)


def totp_matches(secret: bytes, code: str, at: float | None = None, drift: int = 1) -> bool:
    """True when `code` is the code of now or of `drift` periods either side (clock skew)."""
    moment = time.time() if at is None else at
    step = int(moment // PERIOD)
    cleaned = code.strip().replace(" ", "")
    return any(
        hmac.compare_digest(hotp(secret, step + delta), cleaned)
        for delta in range(-drift, drift + 1)
    )


def provisioning_uri(secret: bytes, *, account: str, issuer: str) -> str:
    """The `otpauth://totp/ISSUER:ACCOUNT?secret=...` URI an authenticator app enrols."""
    encoded = base64.b32encode(secret).decode("ascii").rstrip("=")
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode(
        {
            "secret": encoded,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": PERIOD,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"
