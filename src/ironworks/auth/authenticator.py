"""From an ``Authorization`` header to an ``Identity``: the users table first, then the htpasswd file.

Ironic's rules for the header apply: no header is 401 "Authorization required", a header that is not
``Basic <base64 of user:password>`` is 400, an unknown user or a wrong password is 401; the message never
says which of the two was wrong.
"""

from __future__ import annotations

import base64
import binascii
import logging

from ironworks import errors
from ironworks.auth.htpasswd import HtpasswdFile
from ironworks.auth.identity import NOAUTH, Identity, NotAuthenticated, Role
from ironworks.auth.passwords import Verifier
from ironworks.db.repos.users import UserRepo

LOG = logging.getLogger(__name__)

STRATEGIES = ("noauth", "http_basic")


def parse_basic(header: str | None) -> tuple[str, bytes]:
    if header is None:
        raise NotAuthenticated("Authorization required")
    try:
        scheme, token = header.strip().split(maxsplit=1)
    except ValueError:
        raise errors.Invalid("Could not parse Authorization header") from None
    if scheme.lower() != "basic":
        raise errors.Invalid(f'Unsupported authorization type "{scheme}"')
    try:
        user, password = base64.b64decode(token.strip(), validate=True).split(b":", 1)
        return user.decode(), password
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise errors.Invalid("Could not decode authorization token") from None


class Authenticator:
    def __init__(self, strategy: str, users: UserRepo, htpasswd: HtpasswdFile | None = None) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"auth_strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
        self.strategy = strategy
        self.users = users
        self.htpasswd = htpasswd
        self.verifier = Verifier()

    @property
    def enabled(self) -> bool:
        return self.strategy != "noauth"

    def authenticate(self, header: str | None) -> Identity:
        """The caller named by ``header`` (blocking: a database read and possibly a bcrypt check)."""
        if not self.enabled:
            return NOAUTH
        name, password = parse_basic(header)
        record = self.users.find(name) if name else None
        if record is not None:
            if self.verifier.verify(name, password, record["password_hash"]):
                return Identity(user=name, project=record["project"], role=Role(record["role"]), source="db")
        elif name and self.htpasswd is not None:
            hashed = self.htpasswd.lookup(name)
            if hashed is not None and self.verifier.verify(name, password, hashed):
                return Identity(user=name, project=None, role=Role.ADMIN, source="htpasswd")
        LOG.info("Rejected HTTP basic credentials for user %r", name)
        raise NotAuthenticated()
