"""Progress of long operations (erase, image write): a throttled reporter handing dicts to a callback.

The callback receives ``{"operation", "device", "bytes_done", "bytes_total", "rate_bps", "elapsed_s"}``;
the agent puts the newest one into its heartbeats.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

ProgressCallback = Callable[[dict[str, Any]], None]


class Progress:
    """Counts bytes and calls ``callback`` at most every ``interval`` seconds (and once at ``finish``)."""

    def __init__(self, callback: ProgressCallback | None, operation: str, device: str | None,
                 total: int | None = None, interval: float = 1.0) -> None:
        self._callback = callback
        self._interval = interval
        self.operation = operation
        self.device = device
        self.total = total
        self.done = 0
        self._start = time.monotonic()
        self._last = self._start

    def snapshot(self) -> dict[str, Any]:
        elapsed = max(time.monotonic() - self._start, 1e-9)
        return {"operation": self.operation, "device": self.device, "bytes_done": self.done,
                "bytes_total": self.total, "rate_bps": int(self.done / elapsed), "elapsed_s": round(elapsed, 3)}

    def add(self, nbytes: int) -> None:
        self.done += nbytes
        if self._callback is None:
            return
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._callback(self.snapshot())

    def finish(self) -> dict[str, Any]:
        snap = self.snapshot()
        if self._callback is not None:
            self._callback(snap)
        return snap
