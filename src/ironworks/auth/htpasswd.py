"""An Apache htpasswd file as a second user store, as Ironic's ``http_basic_auth_user_file``.

Only bcrypt entries (``$2y$``/``$2a$``/``$2b$``, what ``htpasswd -B`` writes) are accepted, as in Ironic; a file
with another digest is a configuration error at start. The file carries no project or role: its users are
admins, which is what every authenticated user is in Ironic's http_basic mode. The file is re-read when it
changes, so an operator can add a user without a restart; a broken or missing file keeps the last good entries
(``HtpasswdFile``).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from ironworks.auth.passwords import is_bcrypt_hash

LOG = logging.getLogger(__name__)


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
    """The file's entries, re-read when it changes (size or modification time).

    At start a missing or broken file stops the service (a configuration error, as in Ironic). Later, a file
    that disappears, cannot be read or has a bad line (say, half-written by an editor) does not break logins:
    the last good entries stay in use, one warning is logged per broken version of the file (the line number
    and the reason, never the line itself, which might hold a password) and the file is read again once it
    changes. Users who are not in the last good entries get the same 401 as any unknown user.
    """

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[str, str] = {}
        self._broken: str | None = None
        self._load(self._read_stamp())  # read (and validate) it now: a broken file stops the service at start

    def _read_stamp(self) -> tuple[int, int]:
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise HtpasswdError(f"cannot read the auth user file {self.path}: {exc.strerror}") from exc
        return (st.st_mtime_ns, st.st_size)

    def _load(self, stamp: tuple[int, int]) -> None:
        try:
            text = self.path.read_text()
        except OSError as exc:
            raise HtpasswdError(f"cannot read the auth user file {self.path}: {exc.strerror}") from exc
        except UnicodeDecodeError:
            raise HtpasswdError(f"the auth user file {self.path} is not UTF-8 text") from None
        self._entries = parse(text, str(self.path))
        self._stamp = stamp
        self._broken = None

    def lookup(self, user: str) -> str | None:
        """The bcrypt hash of ``user`` (from the last good version of the file), or None. Never raises."""
        with self._lock:
            try:
                stamp = self._read_stamp()
                if stamp != self._stamp:
                    self._stamp = stamp  # a broken version is reported once, and read again when it changes
                    self._load(stamp)
            except HtpasswdError as exc:
                if str(exc) != self._broken:
                    self._broken = str(exc)
                    LOG.warning(
                        "%s; keeping the %d user(s) of its last good version until it is fixed",
                        exc,
                        len(self._entries),
                    )
            return self._entries.get(user)

    def entries(self) -> dict[str, str]:
        """Every ``{user: hash}`` of the last good version of the file."""
        self.lookup("")
        with self._lock:
            return dict(self._entries)
