"""The caller of an API request: user, project and role, and the two errors authentication can end in."""

from __future__ import annotations

import dataclasses
import enum

from ironworks import errors


class Role(enum.StrEnum):
    """Roles, each including the rights of the ones below it: admin ⊃ member ⊃ reader."""

    ADMIN = "admin"
    MEMBER = "member"
    READER = "reader"


ROLE_RANK = {Role.READER: 1, Role.MEMBER: 2, Role.ADMIN: 3}


@dataclasses.dataclass(frozen=True)
class Identity:
    user: str
    project: str | None
    role: Role
    #: how the caller was recognised: "noauth", "db" (users table) or "htpasswd"
    source: str = "db"

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def at_least(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


#: every caller under ``auth_strategy = noauth``: Ironic's noauth mode lets anyone do anything
NOAUTH = Identity(user="noauth", project=None, role=Role.ADMIN, source="noauth")


class NotAuthenticated(errors.IronworksError):
    """401: no, malformed or wrong credentials. The API adds ``WWW-Authenticate: Basic realm=…``."""

    http_status = 401
    template = "Incorrect username or password"


class Forbidden(errors.IronworksError):
    """403: the caller may see the resource but its role does not allow this action (Ironic's message)."""

    http_status = 403
    template = "%(action)s is disallowed by policy"


def parse_role(raw: str) -> Role:
    try:
        return Role(raw.strip().lower())
    except ValueError:
        raise errors.InvalidParameterValue(
            f"Unknown role {raw!r}; valid roles are {', '.join(r.value for r in Role)}."
        ) from None
