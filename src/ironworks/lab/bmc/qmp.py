"""A minimal QMP (QEMU Machine Protocol) client over a Unix socket: greeting, capabilities, execute.

Asynchronous events QEMU sends between replies are skipped (kept in ``events``), which is all the BMC
emulator needs.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any


class QMPError(Exception):
    """QEMU answered a command with an error object."""


class QMPClient:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._file = sock.makefile("rwb")
        self.events: list[dict[str, Any]] = []

    @classmethod
    def connect(cls, path: Path | str, timeout: float = 10.0) -> QMPClient:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except OSError:
            sock.close()
            raise
        client = cls(sock)
        greeting = client._read()
        if "QMP" not in greeting:
            client.close()
            raise QMPError(f"not a QMP greeting: {greeting!r}")
        client.execute("qmp_capabilities")
        return client

    def _read(self) -> dict[str, Any]:
        line = self._file.readline()
        if not line:
            raise ConnectionError("QMP socket closed")
        return json.loads(line)

    def execute(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        message: dict[str, Any] = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self._file.write(json.dumps(message).encode() + b"\n")
        self._file.flush()
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise QMPError(f"{command}: {reply['error'].get('desc', reply['error'])}")
            return reply.get("return")

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            self._sock.close()
