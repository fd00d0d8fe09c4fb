"""Managing API users: validation and hashing before anything is stored (used by ``ironworks user …``)."""

from __future__ import annotations

import re

from ironworks import errors
from ironworks.auth.identity import Role, parse_role
from ironworks.auth.passwords import PasswordRejected, hash_password
from ironworks.db.repos.base import Record
from ironworks.db.repos.users import UserRepo

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,254}$")


def add(
    repo: UserRepo, name: str, *, project: str | None, role: str, password: str, rounds: int | None = None
) -> Record:
    """Create a user. Members and readers need a project; an admin's project is optional."""
    if not _NAME.match(name):
        raise errors.InvalidParameterValue(
            f"Invalid user name {name!r}: letters, digits and . _ @ - only, at most 255 characters."
        )
    parsed = parse_role(role)
    project = (project or "").strip() or None
    if project is None and parsed is not Role.ADMIN:
        raise errors.InvalidParameterValue(f"A {parsed.value} must belong to a project (--project).")
    if project is not None and len(project) > 255:
        raise errors.InvalidParameterValue("The project name is longer than 255 characters.")
    try:
        hashed = hash_password(password) if rounds is None else hash_password(password, rounds)
    except PasswordRejected as exc:
        raise errors.InvalidParameterValue(str(exc)) from None
    return repo.create(name=name, password_hash=hashed, project=project, role=parsed.value)


def set_password(repo: UserRepo, name: str, password: str) -> None:
    try:
        repo.set_password(name, hash_password(password))
    except PasswordRejected as exc:
        raise errors.InvalidParameterValue(str(exc)) from None
