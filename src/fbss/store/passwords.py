"""Password hashing with the standard library's scrypt and a random salt per user; constant-time checking."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

# RFC 7914 parameters: N = 2^14, r = 8, p = 1 use 16 MiB of memory and about 50 ms per check on one core.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
KEY_BYTES = 32
SALT_BYTES = 16
PREFIX = "scrypt"
MIN_PASSWORD = 10
MAX_PASSWORD = 200


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=KEY_BYTES)


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$key` (base64); the parameters are stored so they can be raised later."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{PREFIX}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True when the password matches the stored hash; False for a wrong password or a malformed hash."""
    try:
        prefix, n, r, p, salt, key = stored.split("$")
        if prefix != PREFIX:
            return False
        expected = base64.b64decode(key)
        actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@cache
def dummy_hash() -> str:
    """A hash of a random password, checked when the user does not exist: a wrong user name then takes as long
    as a wrong password, so response times do not reveal which accounts exist."""
    return hash_password(secrets.token_urlsafe(16))


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"password: at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"password: at most {MAX_PASSWORD} characters"
    return None
