"""From an ``Authorization`` header to an ``Identity``: the users table first, then the htpasswd file.

Ironic's rules for the header apply: no header is 401 "Authorization required", a header that is not
``Basic <base64 of user:password>`` is 400, an unknown user or a wrong password is 401; the message never
says which of the two was wrong, and neither does the time it takes:

1. the throttle (``throttle.py``) is asked first: a user name or address with too many recent failures is
   answered 429 at once, with no password check;
2. the user is looked up (users table, then htpasswd file);
3. a password checked right within the last minutes is recognised from the cache (``passwords.Verifier``);
4. otherwise bcrypt runs on its own bounded threads (``passwords.BcryptPool``), against the user's hash or, for
   a name that does not exist, against a dummy hash of the cost the stored hashes have: the same work either
   way. Each source address may have ``pending_per_address`` checks waiting or running; one more is answered
   429 at once (before step 2, so a flood of retries costs nothing), so one guessing address cannot fill the
   queue in front of everybody else's logins. Concurrent requests with the same credentials (a client's
   parallel first requests) share one check;
5. a failure is counted for the name and the address, and answered 401.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import logging
import time
from collections.abc import Callable, Iterator

from starlette.concurrency import run_in_threadpool

from ironworks import errors
from ironworks.auth.htpasswd import HtpasswdFile
from ironworks.auth.identity import NOAUTH, Identity, NotAuthenticated, Role
from ironworks.auth.passwords import DEFAULT_ROUNDS, BcryptPool, DummyHashes, Verifier, cost_of
from ironworks.auth.throttle import LoginsBusy, LoginThrottle
from ironworks.db.repos.users import UserRepo

LOG = logging.getLogger(__name__)

STRATEGIES = ("noauth", "http_basic")
#: how long the typical bcrypt cost of the stored hashes (for dummy checks) is remembered
COST_REFRESH_SECONDS = 60.0


def parse_basic(header: str | None) -> tuple[str, bytes]:
    if header is None:
        raise NotAuthenticated("Authorization required")
    try:
        scheme, token = header.strip().split(maxsplit=1)
    except ValueError:
        raise errors.Invalid("Could not parse Authorization header") from None
    if scheme.lower() != "basic":
        raise errors.Invalid(f'Unsupported authorization type "{scheme}"')
    try:
        user, password = base64.b64decode(token.strip(), validate=True).split(b":", 1)
        return user.decode(), password
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise errors.Invalid("Could not decode authorization token") from None


class Authenticator:
    def __init__(
        self,
        strategy: str,
        users: UserRepo,
        htpasswd: HtpasswdFile | None = None,
        *,
        throttle: LoginThrottle | None = None,
        pool: BcryptPool | None = None,
        pending_per_address: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"auth_strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
        self.strategy = strategy
        self.users = users
        self.htpasswd = htpasswd
        self.throttle = throttle or LoginThrottle(per_user=0, per_address=0, window=0.0)
        self.pool = pool or BcryptPool()
        self.verifier = Verifier()
        self.dummies = DummyHashes(self.pool)
        self.pending_per_address = pending_per_address
        self._pending: collections.Counter[str | None] = collections.Counter()
        self._inflight: dict[bytes, asyncio.Future[bool]] = {}
        self._clock = clock
        self._cost: tuple[int, float] | None = None

    @property
    def enabled(self) -> bool:
        return self.strategy != "noauth"

    async def authenticate(self, header: str | None, address: str | None = None) -> Identity:
        """The caller named by ``header``, calling from ``address``; raises 401, 400 or 429."""
        if not self.enabled:
            return NOAUTH
        name, password = parse_basic(header)
        self.throttle.check(name, address)
        if self._address_busy(address):  # before any work: a flood of retries costs no database read
            raise LoginsBusy(retry_after=1)
        found = await run_in_threadpool(self._find, name) if name else None
        if found is not None:
            hashed, identity = found
            if self.verifier.cached(name, password, hashed):
                return identity
            if await self._check(name, password, hashed, address):
                self.verifier.remember(name, password, hashed)
                return identity
        else:
            with self._check_slot(address):
                dummy = await self.dummies.for_cost(await self._typical_cost())
                await self.pool.check(password, dummy)  # the same work as for a real user; never a success
        self.throttle.failed(name, address)
        LOG.info("Rejected HTTP basic credentials for user %r from %s", name[:64], address or "-")
        raise NotAuthenticated()

    async def _check(self, name: str, password: bytes, hashed: str, address: str | None) -> bool:
        """bcrypt, once for concurrent requests with the same credentials (a client's parallel first requests
        share one check and one queue place)."""
        key = self.verifier.key(name, password, hashed)
        shared = self._inflight.get(key)
        if shared is not None:
            return await asyncio.shield(shared)
        with self._check_slot(address):
            shared = self._inflight[key] = asyncio.ensure_future(self.pool.check(password, hashed))
            try:
                return await asyncio.shield(shared)
            finally:
                self._inflight.pop(key, None)

    def _address_busy(self, address: str | None) -> bool:
        return 0 < self.pending_per_address <= self._pending.get(address, 0)

    @contextlib.contextmanager
    def _check_slot(self, address: str | None) -> Iterator[None]:
        """One of ``address``'s places in the bcrypt queue, or 429 (all on the event loop: no lock needed)."""
        if self._address_busy(address):
            raise LoginsBusy(retry_after=1)
        self._pending[address] += 1
        try:
            yield
        finally:
            self._pending[address] -= 1
            if not self._pending[address]:
                del self._pending[address]

    def _find(self, name: str) -> tuple[str, Identity] | None:
        """(stored hash, who that is) of ``name``, or None (blocking: a database read, a file stat)."""
        # no stored name holds a NUL (auth/users.py), and PostgreSQL would refuse one in the query; the request
        # layer already answers 400 for it, this keeps a bypass from turning it into a 500
        record = self.users.find(name) if "\x00" not in name else None
        if record is not None:
            identity = Identity(user=name, project=record["project"], role=Role(record["role"]), source="db")
            return record["password_hash"], identity
        hashed = self.htpasswd.lookup(name) if self.htpasswd is not None else None
        if hashed is not None:
            return hashed, Identity(user=name, project=None, role=Role.ADMIN, source="htpasswd")
        return None

    async def _typical_cost(self) -> int:
        """The most common bcrypt cost of the stored hashes (users table and htpasswd file), re-read each minute."""
        now = self._clock()
        if self._cost is not None and self._cost[1] > now:
            return self._cost[0]
        cost = await run_in_threadpool(self._count_costs)
        self._cost = (cost, now + COST_REFRESH_SECONDS)
        return cost

    def _count_costs(self) -> int:
        counts: collections.Counter[int] = collections.Counter()
        for field, count in self.users.hash_costs().items():
            if field.isdigit():
                counts[int(field)] += count
        if self.htpasswd is not None:
            for hashed in self.htpasswd.entries().values():
                cost = cost_of(hashed)
                if cost is not None:
                    counts[cost] += 1
        return counts.most_common(1)[0][0] if counts else DEFAULT_ROUNDS
