"""A real SSH server on 127.0.0.1 speaking a minimal switch CLI (Cisco IOS, Arista EOS, Juniper Junos).

paramiko serves password authentication and an interactive shell. The CLI echoes each line as a terminal does,
answers the session-preparation commands netmiko sends with the texts real switches print, tracks the
configuration mode for the prompt, and records every line; ``config_lines`` are those typed inside
configuration mode, ``sessions`` counts logins.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import paramiko

_HOST_KEY: list[paramiko.RSAKey] = []


def host_key() -> paramiko.RSAKey:
    if not _HOST_KEY:
        _HOST_KEY.append(paramiko.RSAKey.generate(2048))
    return _HOST_KEY[0]


class _Auth(paramiko.ServerInterface):
    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password
        self.shell = threading.Event()

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        ok = username == self.username and password == self.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, *args: Any) -> bool:
        return True

    def check_channel_shell_request(self, channel: Any) -> bool:
        self.shell.set()
        return True


class FakeSwitch:
    def __init__(
        self, device_type: str, hostname: str = "tor-1", username: str = "admin", password: str = "sw1tch-s3cret"
    ) -> None:
        self.device_type, self.hostname = device_type, hostname
        self.username, self.password = username, password
        self.lines: list[str] = []
        self.config_lines: list[str] = []
        self.commits = 0
        self.sessions = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- life cycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> FakeSwitch:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()

    # -- the CLI --------------------------------------------------------------------------------------------
    def _prompt(self, mode: str) -> str:
        if self.device_type == "juniper_junos":
            if mode == "exec":
                return f"{self.username}@{self.hostname}> "
            return f"\r\n[edit]\r\n{self.username}@{self.hostname}# "
        return {
            "exec": f"{self.hostname}#",
            "config": f"{self.hostname}(config)#",
            "if": f"{self.hostname}(config-if)#",
        }[mode]

    def _answer(self, line: str, mode: str) -> tuple[str, str]:
        """(output, new mode) for one line."""
        junos = self.device_type == "juniper_junos"
        if mode != "exec" and line:
            self.config_lines.append(line)
        replies = {
            "terminal width 511": "Width set to 511 columns.",
            "terminal length 0": "Pagination disabled.",
            "set cli screen-width 511": "Screen width set to 511",
            "set cli complete-on-space off": "Disabling complete-on-space",
            "set cli screen-length 0": "Screen length set to 0",
        }
        if mode == "exec" and line in replies:
            return replies[line], mode
        if junos:
            if mode == "exec" and line == "configure":
                return "Entering configuration mode", "config"
            if mode == "config" and line == "commit":
                self.commits += 1
                return "commit complete", mode
            if mode == "config" and line == "exit configuration-mode":
                return "Exiting configuration mode", "exec"
            return "", mode
        if mode == "exec" and line in ("configure terminal", "configure"):
            return "Enter configuration commands, one per line.  End with CNTL/Z.", "config"
        if mode == "exec" and line.startswith("write mem"):
            return "Building configuration...\r\n[OK]", mode
        if mode != "exec" and line == "end":
            return "", "exec"
        if mode != "exec" and line == "exit":
            return "", "config" if mode == "if" else "exec"
        if mode != "exec" and line.startswith("interface "):
            return "", "if"
        return "", mode

    def _serve(self, conn: socket.socket) -> None:
        transport = paramiko.Transport(conn)
        transport.add_server_key(host_key())
        auth = _Auth(self.username, self.password)
        try:
            transport.start_server(server=auth)
            chan = transport.accept(10)
            if chan is None or not auth.shell.wait(10):
                return
            self.sessions += 1
            mode = "exec"
            chan.send(f"\r\nWelcome to {self.hostname}\r\n{self._prompt(mode)}".encode())
            buf = b""
            while not self._stop.is_set():
                data = chan.recv(4096)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    line = raw.decode(errors="replace").strip()
                    self.lines.append(line)
                    output, mode = self._answer(line, mode)
                    chan.send(f"{line}\r\n{output + chr(13) + chr(10) if output else ''}{self._prompt(mode)}".encode())
        except (EOFError, OSError, paramiko.SSHException):
            return
        finally:
            transport.close()
