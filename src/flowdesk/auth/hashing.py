"""Password and token hashing with the standard library only.

Passwords: scrypt (memory-hard, in hashlib), a per-password salt, parameters stored with the hash
so they can be raised later. API keys and session tokens are 32 random bytes, so a plain SHA-256
is enough to store them (no brute force is possible); lookups go by a short public prefix.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _secrets

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = _secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    computed = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(computed, base64.b64decode(digest))


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
