"""API users (``auth_strategy = http_basic``): name, bcrypt hash, project, role. Hashes never leave here
except to the authenticator; ``list`` returns records without them."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import User, utcnow
from ironworks.db.repos.base import Record, translate_integrity

USERS = cast(Table, User.__table__)
PUBLIC_COLUMNS = tuple(c for c in USERS.columns if c.name != "password_hash")


class UserExists(errors.Conflict):
    template = "A user named %(name)s already exists."


class UserNotFound(errors.NotFound):
    template = "User %(name)s could not be found."


class UserRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def find(self, name: str) -> Record | None:
        """The full record, hash included (for authentication), or None."""
        with self.db.read() as session:
            row = session.execute(select(USERS).where(USERS.c.name == name)).mappings().first()
            return dict(row) if row is not None else None

    def hash_costs(self) -> dict[str, int]:
        """How many stored hashes have each bcrypt cost field (``"12"`` of ``$2b$12$…``): no hash leaves here."""
        cost = func.substr(USERS.c.password_hash, 5, 2)
        with self.db.read() as session:
            rows = session.execute(select(cost, func.count()).group_by(cost)).all()
            return {str(row[0]): int(row[1]) for row in rows}

    def list(self) -> list[Record]:
        with self.db.read() as session:
            rows = session.execute(select(*PUBLIC_COLUMNS).order_by(USERS.c.name)).mappings()
            return [dict(r) for r in rows]

    def create(self, *, name: str, password_hash: str, project: str | None, role: str) -> Record:
        values: dict[str, Any] = {
            "name": name,
            "password_hash": password_hash,
            "project": project,
            "role": role,
            "created_at": utcnow(),
        }
        mapping = [("name", lambda: UserExists(name=name))]
        with translate_integrity("users", mapping), self.db.write() as session:
            session.execute(insert(USERS).values(**values))
            row = session.execute(select(*PUBLIC_COLUMNS).where(USERS.c.name == name)).mappings().one()
            return dict(row)

    def set_password(self, name: str, password_hash: str) -> None:
        with self.db.write() as session:
            result = session.execute(
                update(USERS).where(USERS.c.name == name).values(password_hash=password_hash, updated_at=utcnow())
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise UserNotFound(name=name)

    def delete(self, name: str) -> None:
        with self.db.write() as session:
            result = session.execute(delete(USERS).where(USERS.c.name == name))
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise UserNotFound(name=name)
