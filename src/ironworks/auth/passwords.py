"""Password hashing with bcrypt (the scheme of Ironic's http_basic htpasswd files), the threads that run it,
and a verification cache.

bcrypt costs about a quarter second per check by design, and holds a CPU while it runs. ``BcryptPool`` runs
every check on a few dedicated threads (``auth_bcrypt_workers``): the API awaits the result without holding a
thread of the shared request pool, so clients guessing passwords queue behind each other for those threads
while every other request (including logins answered from the cache) is served as usual.

Clients such as openstacksdk send the password on every request. ``Verifier`` remembers successful checks for
a while, keyed by an HMAC of (user, password, stored hash) under a key that lives only in this process, so the
cache holds no password, only the right password for that user and hash finds an entry (a wrong one always
goes to bcrypt, never to the cache), and a changed hash invalidates it at once.

A user name that does not exist is checked against a dummy hash of the same bcrypt cost as the stored ones
(``DummyHashes``), so an unknown user costs the same as a wrong password and the time of a 401 does not tell
which names exist.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

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


def cost_of(hashed: str) -> int | None:
    """The cost (log2 rounds) of a bcrypt hash, ``$2b$12$…`` -> 12; None if it is not one."""
    if not is_bcrypt_hash(hashed) or hashed[6:7] != "$" or not hashed[4:6].isdigit():
        return None
    return int(hashed[4:6])


def check_password(password: bytes, hashed: str) -> bool:
    if not password or len(password) > MAX_PASSWORD_BYTES or not is_bcrypt_hash(hashed):
        return False
    try:
        return bcrypt.checkpw(password, hashed.encode())
    except ValueError:
        return False


def default_workers() -> int:
    """Half the CPUs, at least one: the rest stay free for everything else under a guessing storm."""
    return max(1, (os.cpu_count() or 2) // 2)


def _lower_priority() -> None:
    """Run this thread at a lower CPU priority (Linux: a thread has its own nice value), best effort: when the
    CPUs are all busy, request threads get them first and password checks wait (see BcryptPool)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, os.getpriority(os.PRIO_PROCESS, 0) + 5))


class BcryptPool:
    """The dedicated, bounded threads on which every bcrypt check runs (``check`` is awaited, not blocked on),
    at a slightly lower CPU priority (nice +5) than the threads that serve requests.

    ``checks`` counts the checks asked for, by cost: what a test (or an operator) can observe of the work.
    """

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers if workers > 0 else default_workers()
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="bcrypt", initializer=_lower_priority)
        self.checks: collections.Counter[int | None] = collections.Counter()

    async def check(self, password: bytes, hashed: str) -> bool:
        self.checks[cost_of(hashed)] += 1
        return await asyncio.wrap_future(self._executor.submit(check_password, password, hashed))

    async def hash(self, password: bytes, rounds: int) -> str:
        future = self._executor.submit(lambda: bcrypt.hashpw(password, bcrypt.gensalt(rounds)).decode())
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class DummyHashes:
    """A bcrypt hash of a random password per cost, made once (on the pool) when first needed; concurrent
    first callers share the one computation."""

    def __init__(self, pool: BcryptPool) -> None:
        self._pool = pool
        self._by_cost: dict[int, asyncio.Future[str]] = {}

    async def for_cost(self, cost: int) -> str:
        cost = min(max(cost, 4), 31)
        made = self._by_cost.get(cost)
        if made is None:
            made = self._by_cost[cost] = asyncio.ensure_future(self._pool.hash(secrets.token_bytes(24), cost))
        try:
            return await asyncio.shield(made)
        except Exception:
            self._by_cost.pop(cost, None)
            raise


class Verifier:
    """A bounded, expiring memory of successful checks (never of failures)."""

    def __init__(self, ttl: float = 300.0, size: int = 1024) -> None:
        self._key = secrets.token_bytes(32)
        self._ttl = ttl
        self._size = size
        self._ok: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def key(self, user: str, password: bytes, hashed: str) -> bytes:
        """The cache key of these credentials (an HMAC under this process's key: no password in it)."""
        return self._digest(user, password, hashed)

    def _digest(self, user: str, password: bytes, hashed: str) -> bytes:
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        for part in (user.encode(), password, hashed.encode()):  # length-prefixed: no two triples collide
            mac.update(len(part).to_bytes(4, "big") + part)
        return mac.digest()

    def cached(self, user: str, password: bytes, hashed: str) -> bool:
        """Was exactly this password checked right against exactly this hash within ``ttl``?"""
        digest = self._digest(user, password, hashed)
        with self._lock:
            expires = self._ok.get(digest)
            return expires is not None and expires > time.monotonic()

    def remember(self, user: str, password: bytes, hashed: str) -> None:
        """Call only after bcrypt said ``password`` matches ``hashed``."""
        digest = self._digest(user, password, hashed)
        now = time.monotonic()
        with self._lock:
            if len(self._ok) >= self._size:
                self._ok = {k: v for k, v in self._ok.items() if v > now}
                if len(self._ok) >= self._size:
                    self._ok.clear()
            self._ok[digest] = now + self._ttl

    def verify(self, user: str, password: bytes, hashed: str) -> bool:
        """Blocking check (the cache, then bcrypt on the calling thread): for scripts, not the API."""
        if self.cached(user, password, hashed):
            return True
        if not check_password(password, hashed):
            return False
        self.remember(user, password, hashed)
        return True
