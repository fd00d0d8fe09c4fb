"""Bounds on what one HTTP client can hold: header time, header size, body idle time, connection count.

uvicorn's httptools protocol has a keep-alive timeout between requests, but nothing while a request head
arrives: a client that connects and sends nothing, or trickles one header byte every few seconds, holds its
connection (and its memory) forever, and nothing bounds how many such connections there are. This module is
that protocol with four additions, all at the transport level, before any application code runs:

- **Header time**: from the moment a connection waits for a request head (connected, or answered the previous
  request) the client has ``client_header_timeout`` seconds to send the whole head. Then the connection is
  closed (408 if it had sent part of a head, silently if nothing).
- **Header size**: a head larger than ``max_request_header_bytes`` is answered 431 and the connection closed.
- **Body idle time**: while a request body is arriving, a pause of ``client_idle_timeout`` seconds without a
  byte closes the connection. Handling time is not bounded here (the agent's long-poll waits on purpose).
- **Connection count**: past ``max_connections`` open connections, the one that has waited longest for a
  request head is closed to make room. Connections busy with a request are never closed for this; when every
  connection is busy, the new one is answered 503 and closed. So slow clients evict each other, while a
  client that sends its request at once keeps getting served.

Error answers carry Ironic's error body. ``uvicorn_config`` builds the uvicorn configuration that installs all
this; ``ironworks serve`` and the tests' ``ServiceUnderTest`` both use it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ironworks.settings import Settings

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float = 15.0
    idle_timeout: float = 60.0
    max_header_bytes: int = 64 * 1024
    max_connections: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            header_timeout=settings.client_header_timeout,
            idle_timeout=settings.client_idle_timeout,
            max_header_bytes=settings.max_request_header_bytes,
            max_connections=settings.max_connections,
        )


def _error_bytes(status: int, message: str) -> bytes:
    """A whole ``Connection: close`` answer with Ironic's error body, written straight to the transport."""
    fault = {"faultcode": "Client" if status < 500 else "Server", "faultstring": message, "debuginfo": None}
    body = orjson.dumps({"error_message": orjson.dumps(fault).decode()})
    head = b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body)
    return STATUS_LINE[status] + head + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the bounds described in the module docstring."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.limits: ConnectionLimits = getattr(config, "connection_limits", ConnectionLimits())
        #: True while waiting for (or reading) a request head; when it started (loop time)
        self.awaiting_head = True
        self.awaiting_since = 0.0
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._last_data = 0.0

    # --- connection life -------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def _make_room(self) -> None:
        waiting = [
            c for c in self.connections if isinstance(c, GuardedHttpToolsProtocol) and c.awaiting_head and c is not self
        ]
        if waiting:
            victim = min(waiting, key=lambda c: c.awaiting_since)
            LOG.warning(
                "%d connections open (max_connections %d): closing the one idle longest",
                len(self.connections),
                self.limits.max_connections,
            )
            victim.close_with(None)
        else:
            self.close_with((503, "Too many connections busy with requests; try again later."))

    def close_with(self, answer: tuple[int, str] | None) -> None:
        """Close this connection, first writing the error ``answer`` if one is given."""
        self._cancel_timers()
        self.connections.discard(self)
        if self.transport.is_closing():
            return
        if answer is not None:
            self.transport.write(_error_bytes(*answer))
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """The parser's refusal (a malformed request line or header, a NUL in one), in Ironic's error body."""
        self.close_with((400, msg))

    # --- request head ------------------------------------------------------------------------------------
    def _await_head(self) -> None:
        self._cancel_timers()
        self.awaiting_head = True
        self.awaiting_since = self.loop.time()
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.awaiting_head:
            self.close_with((408, "The request head did not arrive in time.") if self._head_bytes else None)

    def data_received(self, data: bytes) -> None:
        if self.awaiting_head:
            self._head_bytes += len(data)
        else:
            self._last_data = self.loop.time()
        super().data_received(data)
        # a head still incomplete after this data (a complete one turned ``awaiting_head`` off)
        if self.awaiting_head and self._head_bytes > self.limits.max_header_bytes and not self.transport.is_closing():
            self.close_with((431, f"The request head is larger than {self.limits.max_header_bytes} bytes."))

    def on_headers_complete(self) -> None:
        self.awaiting_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self._last_data = self.loop.time()
        self._idle_timer = self.loop.call_later(self.limits.idle_timeout, self._idle_check)
        super().on_headers_complete()

    # --- request body ------------------------------------------------------------------------------------
    def _idle_check(self) -> None:
        self._idle_timer = None
        if self.cycle is None or not self.cycle.more_body or self.transport.is_closing():
            return  # the body is complete: handling time is not bounded here
        quiet = self.loop.time() - self._last_data
        if self.flow.read_paused or quiet < self.limits.idle_timeout:
            # not reading on purpose (the app has not asked yet), or data came meanwhile: look again later
            delay = self.limits.idle_timeout - quiet if not self.flow.read_paused else self.limits.idle_timeout
            self._idle_timer = self.loop.call_later(max(delay, 0.05), self._idle_check)
            return
        self.cycle.disconnected = True
        self.cycle.message_event.set()
        self.close_with(None)

    def on_message_complete(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._await_head()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._idle_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._idle_timer = None


def uvicorn_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration Ironworks serves ``app`` with (``overrides``: host, port, lifespan…)."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "http": GuardedHttpToolsProtocol,
        "timeout_keep_alive": settings.client_keepalive_timeout,
        # connections past max_connections are handled by eviction above, not by uvicorn's 503 for everyone
        "limit_concurrency": None,
        # never rewrite the client address from X-Forwarded-For (uvicorn trusts 127.0.0.1 by default): the
        # agent's lease check and the login throttle must see the connected peer; the lab relay's forwarded
        # address is honoured only with its key (drivers/agent/trust.py)
        "proxy_headers": False,
    }
    options.update(overrides)
    config = uvicorn.Config(app, **options)
    config.connection_limits = ConnectionLimits.from_settings(settings)  # type: ignore[attr-defined]
    return config
