"""An Apache htpasswd file as a second user store, as Ironic's ``http_basic_auth_user_file``.

Only bcrypt entries (``$2y$``/``$2a$``/``$2b$``, what ``htpasswd -B`` writes) are accepted, as in Ironic; a file
with another digest is a configuration error at start. The file carries no project or role: its users are
admins, which is what every authenticated user is in Ironic's http_basic mode. The file is re-read when it
changes, so an operator can add a user without a restart.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ironworks.auth.passwords import is_bcrypt_hash


class HtpasswdError(ValueError):
    pass


def parse(text: str, source: str = "htpasswd file") -> dict[str, str]:
    """``{user: bcrypt hash}`` of an htpasswd file's text; blank lines and ``#`` comments are skipped."""
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        user, sep, hashed = entry.partition(":")
        if not sep or not user:
            raise HtpasswdError(f"{source} line {number}: expected 'user:hash'")
        if not is_bcrypt_hash(hashed):
            raise HtpasswdError(
                f"{source} line {number}: only bcrypt digested passwords are supported for "
                f"{user} (create it with 'htpasswd -B')"
            )
        entries[user] = hashed
    return entries


class HtpasswdFile:
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[str, str] = {}
        self.lookup("")  # read (and validate) it now: a broken file stops the service at start

    def lookup(self, user: str) -> str | None:
        """The bcrypt hash of ``user``, or None."""
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise HtpasswdError(f"cannot read the auth user file {self.path}: {exc.strerror}") from exc
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._entries = parse(self.path.read_text(), str(self.path))
                self._stamp = stamp
            return self._entries.get(user)
