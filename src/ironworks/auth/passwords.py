"""Password hashing with bcrypt (the scheme of Ironic's http_basic htpasswd files), and a verification cache.

bcrypt costs about a quarter second per check by design; clients such as openstacksdk send the password on
every request. ``Verifier`` remembers successful checks for a while, keyed by an HMAC of (user, password,
stored hash) under a key that lives only in this process, so the cache holds no password and a changed hash
invalidates it at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

import bcrypt

#: bcrypt only looks at the first 72 bytes; longer passwords are refused rather than silently cut
MAX_PASSWORD_BYTES = 72
DEFAULT_ROUNDS = 12
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


class PasswordRejected(ValueError):
    pass


def hash_password(password: str, rounds: int = DEFAULT_ROUNDS) -> str:
    raw = password.encode()
    if not raw:
        raise PasswordRejected("The password must not be empty.")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise PasswordRejected(f"The password is longer than {MAX_PASSWORD_BYTES} bytes (bcrypt's limit).")
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds)).decode()


def is_bcrypt_hash(value: str) -> bool:
    return value[:4] in BCRYPT_PREFIXES


def check_password(password: bytes, hashed: str) -> bool:
    if not password or len(password) > MAX_PASSWORD_BYTES or not is_bcrypt_hash(hashed):
        return False
    try:
        return bcrypt.checkpw(password, hashed.encode())
    except ValueError:
        return False


class Verifier:
    """``check_password`` with a bounded, expiring memory of successes."""

    def __init__(self, ttl: float = 300.0, size: int = 1024) -> None:
        self._key = secrets.token_bytes(32)
        self._ttl = ttl
        self._size = size
        self._ok: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def _digest(self, user: str, password: bytes, hashed: str) -> bytes:
        msg = b"\0".join((user.encode(), password, hashed.encode()))
        return hmac.new(self._key, msg, hashlib.sha256).digest()

    def verify(self, user: str, password: bytes, hashed: str) -> bool:
        digest = self._digest(user, password, hashed)
        now = time.monotonic()
        with self._lock:
            expires = self._ok.get(digest)
            if expires is not None and expires > now:
                return True
        if not check_password(password, hashed):
            return False
        with self._lock:
            if len(self._ok) >= self._size:
                self._ok = {k: v for k, v in self._ok.items() if v > now}
                if len(self._ok) >= self._size:
                    self._ok.clear()
            self._ok[digest] = now + self._ttl
        return True
