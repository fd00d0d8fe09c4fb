"""How Ironworks treats flaky BMCs, shared by the IPMI and Redfish clients.

* :class:`BMCPolicy`: timeouts, attempts and backoff, the per-BMC concurrency limit, power verification timing.
* :class:`BMCLimiter`: at most ``per_bmc_limit`` requests in flight to one BMC address; a caller that waits
  longer than ``slot_timeout`` gets ``BMCBusy`` instead of piling up.
* :func:`with_retries`: run one operation, retrying only the errors a retry can cure (no answer, a garbled
  answer, busy) with exponential backoff; credentials and refusals fail at once.
* :func:`wait_for_power`: poll until the BMC reports the target power state, or ``PowerStateTimeout``.

The clock and sleep are parameters so tests can drive them; nothing here does I/O itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from ironworks import errors

T = TypeVar("T")

#: errors worth another attempt
RETRYABLE: tuple[type[errors.BMCError], ...] = (errors.BMCConnectionError, errors.BMCProtocolError,
                                                 errors.BMCBusy)


@dataclasses.dataclass(frozen=True)
class BMCPolicy:
    #: tries per operation (1 = no retry)
    attempts: int = 3
    #: first pause between attempts, doubled each time up to ``backoff_max``
    backoff: float = 0.5
    backoff_max: float = 5.0
    #: seconds one HTTP request (Redfish) may take; IPMI packet retries follow pyghmi's own timers (~5 s)
    request_timeout: float = 10.0
    #: requests in flight to one BMC address at a time, and how long a caller waits for a free slot
    per_bmc_limit: int = 1
    slot_timeout: float = 60.0
    #: how long a power action may take to show in the BMC's power state, and the polling interval
    power_timeout: float = 60.0
    poll_interval: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.per_bmc_limit < 1:
            raise ValueError("attempts and per_bmc_limit must be at least 1")
        if min(self.backoff, self.backoff_max, self.request_timeout, self.slot_timeout, self.power_timeout,
               self.poll_interval) < 0:
            raise ValueError("BMC policy times must not be negative")


class BMCLimiter:
    """Per-address semaphores, created on first use."""

    def __init__(self, limit: int, timeout: float) -> None:
        self.limit = limit
        self.timeout = timeout
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    def _semaphore(self, address: str) -> threading.BoundedSemaphore:
        with self._lock:
            semaphore = self._slots.get(address)
            if semaphore is None:
                semaphore = self._slots[address] = threading.BoundedSemaphore(self.limit)
            return semaphore

    @contextlib.contextmanager
    def slot(self, address: str) -> Iterator[None]:
        semaphore = self._semaphore(address)
        if not semaphore.acquire(timeout=self.timeout):
            raise errors.BMCBusy(bmc=address, timeout=self.timeout, limit=self.limit)
        try:
            yield
        finally:
            semaphore.release()


def with_retries(operation: Callable[[], T], policy: BMCPolicy,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """``operation()``, retried on :data:`RETRYABLE` errors; the last error propagates."""
    delay = policy.backoff
    for attempt in range(1, policy.attempts + 1):
        try:
            return operation()
        except RETRYABLE:
            if attempt == policy.attempts:
                raise
        sleep(delay)
        delay = min(delay * 2, policy.backoff_max)
    raise AssertionError("unreachable")  # pragma: no cover


def wait_for_power(read: Callable[[], str], target: str, *, bmc: str, action: str, timeout: float,
                   interval: float, clock: Callable[[], float] = time.monotonic,
                   sleep: Callable[[float], None] = time.sleep) -> str:
    """Poll ``read()`` until it returns ``target``; ``PowerStateTimeout`` naming the last state otherwise.

    Errors while polling count as "not yet" until the deadline (a BMC can stop answering while it resets).
    """
    deadline = clock() + timeout
    last = "unknown"
    pause = interval
    while True:
        try:
            last = read()
        except errors.BMCError as exc:
            last = f"unknown ({exc})"
        if last == target:
            return last
        remaining = deadline - clock()
        if remaining <= 0:
            raise errors.PowerStateTimeout(bmc=bmc, state=target, timeout=timeout, action=action, last=last)
        sleep(min(pause, remaining))
        pause = min(pause * 1.5, max(interval, 5.0))
