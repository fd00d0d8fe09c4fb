"""Fixtures for the agent's host tests: loop devices the test creates (and always detaches) and a real HTTP
server on 127.0.0.1 serving files from a temporary directory.

The tests need root (losetup). They never touch a device they did not create: every destructive call goes
through a ``DeviceGuard`` built from the test's own loop devices.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ironworks_agent.safety import DeviceGuard

MiB = 1024 * 1024


def sh(*argv: str, check: bool = True, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check, input=input_text)


@pytest.fixture
def make_loop(tmp_path: Path) -> Iterator[Callable[[int], str]]:
    """``make_loop(size_bytes)`` → /dev/loopN backed by a sparse file; detached at teardown."""
    if os.geteuid() != 0:
        pytest.skip("agent disk tests need root (losetup, sgdisk on loop devices)")
    created: list[str] = []

    def make(size: int) -> str:
        backing = tmp_path / f"disk{len(created)}.img"
        with open(backing, "wb") as fh:
            fh.truncate(size)
        dev = sh("losetup", "--find", "--show", str(backing)).stdout.strip()
        created.append(dev)
        return dev

    yield make
    for dev in created:
        sh("losetup", "-d", dev, check=False)


@pytest.fixture
def loop(make_loop: Callable[[int], str]) -> str:
    return make_loop(256 * MiB)


@pytest.fixture
def guard(loop: str) -> DeviceGuard:
    return DeviceGuard([loop])


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class FileServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        handler = functools.partial(_Quiet, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def add(self, name: str, data: bytes) -> str:
        (self.root / name).write_bytes(data)
        return self.url(name)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def files(tmp_path: Path) -> Iterator[FileServer]:
    root = tmp_path / "www"
    root.mkdir()
    server = FileServer(root)
    yield server
    server.close()
