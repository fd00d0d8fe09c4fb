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

    @property
    def is_anonymous(self) -> bool:
        """A caller nobody vouched for: allowed nothing but the public routes (``policy.allowed``)."""
        return self.source == "anonymous"

    def at_least(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


#: every caller under ``auth_strategy = noauth``: Ironic's noauth mode lets anyone do anything
NOAUTH = Identity(user="noauth", project=None, role=Role.ADMIN, source="noauth")
#: a caller with no credentials checked: callers of the public routes under ``http_basic``, and the default of
#: a request the auth middleware never saw (least privilege: only public routes pass, never the noauth admin)
ANONYMOUS = Identity(user="anonymous", project=None, role=Role.READER, source="anonymous")


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
