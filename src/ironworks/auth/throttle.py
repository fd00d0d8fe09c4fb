"""Throttling password guessing: failed logins counted per user name and per source address.

Each failed login (a wrong password, or a user name that does not exist, counted alike so the throttle says
nothing about which names exist) is remembered for ``window`` seconds under its user name and under the
address it came from. A login whose user name has ``per_user`` failures in the window, or whose address has
``per_address``, is refused with 429 and ``Retry-After`` *before* its password is looked at: no bcrypt is spent
on it and a right guess is not recognised, so a throttled guesser learns nothing. Failures age out one by one
(a sliding window), so a throttled name or address recovers ``window`` seconds after its failures, without any
success needed. Successes do not clear failures: a legitimate client that logs in all the time would otherwise
give a guesser on its account a fresh allowance at each of its requests.

Limits (docs/security.md): throttling a user name is also a way to lock its owner out for ``window`` seconds;
callers behind one NAT or proxy share an address and its allowance; memory is bounded (``max_keys`` names
and addresses each), so a guesser with very many addresses can push old entries out.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable

from ironworks import errors


class LoginThrottled(errors.IronworksError):
    """429: too many failed logins for this user name or from this address; ``Retry-After`` says when."""

    http_status = 429
    template = "Too many failed login attempts. Try again in %(retry_after)s seconds."

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        self.retry_after = retry_after


class LoginsBusy(LoginThrottled):
    """429: this address already has as many logins waiting for a password check as it may have."""

    template = "Too many logins from this address are being checked at once. Try again in %(retry_after)s seconds."


class _Failures:
    """Timestamps of recent failures per key, at most ``limit`` kept per key and ``max_keys`` keys."""

    def __init__(self, limit: int, max_keys: int) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self.recent: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()

    def wait(self, key: str, now: float, window: float) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        times = self.recent.get(key)
        if self.limit <= 0 or times is None:
            return 0.0
        while times and times[0] <= now - window:
            times.popleft()
        if not times:
            del self.recent[key]
            return 0.0
        return times[0] + window - now if len(times) >= self.limit else 0.0

    def add(self, key: str, now: float, window: float) -> None:
        if self.limit <= 0:
            return
        times = self.recent.get(key)
        if times is None:
            if len(self.recent) >= self.max_keys:
                self._prune(now, window)
            times = self.recent[key] = collections.deque(maxlen=self.limit)
        self.recent.move_to_end(key)
        times.append(now)

    def _prune(self, now: float, window: float) -> None:
        for key in [k for k, times in self.recent.items() if not times or times[-1] <= now - window]:
            del self.recent[key]
        while len(self.recent) >= self.max_keys:  # still full: forget the least recently failing
            self.recent.popitem(last=False)


class LoginThrottle:
    def __init__(
        self,
        *,
        per_user: int,
        per_address: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.window = window
        self.clock = clock
        self._users = _Failures(per_user, max_keys)
        self._addresses = _Failures(per_address, max_keys)
        self._lock = threading.Lock()

    def check(self, user: str, address: str | None) -> None:
        """Raise ``LoginThrottled`` if ``user`` or ``address`` has used up its failures for now."""
        now = self.clock()
        with self._lock:
            wait = self._users.wait(user, now, self.window)
            if address is not None:
                wait = max(wait, self._addresses.wait(address, now, self.window))
        if wait > 0:
            raise LoginThrottled(retry_after=max(1, math.ceil(wait)))

    def failed(self, user: str, address: str | None) -> None:
        now = self.clock()
        with self._lock:
            self._users.add(user, now, self.window)
            if address is not None:
                self._addresses.add(address, now, self.window)

    def reset(self) -> None:
        with self._lock:
            self._users.recent.clear()
            self._addresses.recent.clear()
