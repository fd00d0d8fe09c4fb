"""A bounded pool of worker threads for flows. A full pool refuses new work at once (``NoFreeWorker``, 503).

A slot is reserved *before* anything is written, so a refused request changes nothing; the slot is then
either used by ``submit`` or given back with ``cancel``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ironworks import errors

LOG = logging.getLogger(__name__)


class Slot:
    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool
        self._used = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        if self._used:
            raise RuntimeError("a worker slot runs one job")
        self._used = True
        return self._pool._run(fn, *args)

    def cancel(self) -> None:
        if not self._used:
            self._used = True
            self._pool._free.release()


class WorkerPool:
    def __init__(self, size: int, name: str = "conductor-worker") -> None:
        self.size = max(1, size)
        self._free = threading.BoundedSemaphore(self.size)
        self._executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix=name)

    def reserve(self) -> Slot:
        if not self._free.acquire(blocking=False):
            raise errors.NoFreeWorker()
        return Slot(self)

    def spawn(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Reserve and submit in one go (raises NoFreeWorker when full)."""
        return self.reserve().submit(fn, *args)

    def _run(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        def job() -> Any:
            try:
                return fn(*args)
            except Exception:
                LOG.exception("Worker job %s failed", getattr(fn, "__name__", fn))
                raise
            finally:
                self._free.release()

        try:
            return self._executor.submit(job)
        except RuntimeError:
            self._free.release()
            raise errors.NoFreeWorker() from None

    def shutdown(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=True)
