"""Password and token hashing with the standard library only.

Passwords: scrypt (memory-hard, in hashlib) at OWASP's recommended strength (N=2^17, r=8, p=1:
128 MiB per hash), a per-password salt, parameters stored with the hash; a hash made with
weaker parameters is replaced at the next successful login (`needs_rehash`). API keys and
session tokens are 32 random bytes, so a plain SHA-256
is enough to store them (no brute force is possible); lookups go by a short public prefix.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets as _secrets

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
#: The test suite lowers N (to the 2^14 of earlier versions) so that thousands of test logins
#: stay fast; a deployment leaves it alone. Hashes record their own N, so either verifies.
COST_ENV = "FLOWDESK_SCRYPT_N"


def _n() -> int:
    value = os.environ.get(COST_ENV)
    return int(value) if value and value.isdigit() and int(value) >= 2**10 else SCRYPT_N


_MAXMEM = 256 * 1024 * 1024  # 128 * N * r bytes, with room


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM)


def hash_password(password: str) -> str:
    salt = _secrets.token_bytes(16)
    n = _n()
    digest = _scrypt(password, salt, n, SCRYPT_R, SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


@functools.lru_cache(maxsize=4)
def shared_hash(password: str) -> str:
    """One hash of a password that many accounts share (the demo's, which is public anyway)."""
    return hash_password(password)


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    if int(n) > 2**20 or int(r) > 16 or int(p) > 4:
        return False  # not a hash this code made: refuse rather than spend the memory
    computed = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    return hmac.compare_digest(computed, base64.b64decode(digest))


def needs_rehash(stored: str) -> bool:
    """Whether a verified hash was made with weaker parameters than today's."""
    try:
        scheme, n, r, p, _salt, _digest = stored.split("$")
        return scheme != "scrypt" or (int(n), int(r), int(p)) < (_n(), SCRYPT_R, SCRYPT_P)
    except ValueError:
        return True


def new_token(kind: str) -> tuple[str, str]:
    """A token `fd<kind>_<prefix>_<secret>` and its lookup prefix."""
    prefix = _secrets.token_hex(4)
    return f"fd{kind}_{prefix}_{_secrets.token_urlsafe(32)}", prefix


def token_prefix(token: str) -> str | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or not parts[0].startswith("fd"):
        return None
    return parts[1]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hmac_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
