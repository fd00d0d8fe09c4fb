"""Chassis storage: records are plain dicts of the chassis' columns."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.models import Chassis, Node
from ironworks.db.repos.base import Record, Repository, sortable

CHASSIS = cast(Table, Chassis.__table__)
NODES = cast(Table, Node.__table__)

#: columns a chassis list may be sorted by (JSON columns cannot be)
SORTABLE = sortable(CHASSIS)


class ChassisRepo(Repository[Chassis]):
    model = Chassis
    unique = [("uuid", lambda _: errors.ChassisAlreadyExists("A chassis with that UUID already exists."))]

    def not_found(self, ident: str) -> errors.IronworksError:
        return errors.ChassisNotFound(chassis=ident)

    def marker_not_found(self, marker: str) -> errors.IronworksError:
        return errors.ChassisNotFound(f"Marker chassis {marker} could not be found.")

    def delete(self, ident: str) -> Record:
        """Delete an empty chassis; ChassisNotEmpty while nodes belong to it."""
        return self._delete(ident, self._check_empty)

    @staticmethod
    def _check_empty(session: Session, record: Record) -> None:
        count = session.execute(
            select(func.count()).select_from(NODES).where(NODES.c.chassis_id == record["id"])
        ).scalar_one()
        if count:
            raise errors.ChassisNotEmpty(chassis=record["uuid"])
