"""Volume connector and target storage (API 1.32): one repository, two tables of the same shape.

A record is a plain dict of the row's columns plus its node's ``node_uuid``, ``owner`` and ``lessee`` (the
policy decides on them). Updates and deletes take a callback that checks the node, read and locked in the same
write transaction (PostgreSQL ``FOR UPDATE``; SQLite writers are serialised), so a power-on or a lock taken
in between cannot slip past the check. Uniqueness — a connector's (type, connector_id), a target's (node,
boot_index), both uuids — is the database's, translated to Ironic's 409s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.engine import Database
from ironworks.db.models import Node, VolumeConnector, VolumeTarget, utcnow
from ironworks.db.repos.base import Record, is_uuid_like, list_page, translate_integrity

CONNECTORS = cast(Table, VolumeConnector.__table__)
TARGETS = cast(Table, VolumeTarget.__table__)
NODES = cast(Table, Node.__table__)

CONNECTOR_SORTABLE = frozenset(c.name for c in CONNECTORS.columns if c.type.__class__.__name__ != "JSON")
TARGET_SORTABLE = frozenset(c.name for c in TARGETS.columns if c.type.__class__.__name__ != "JSON")


class VolumeConnectorNotFound(errors.NotFound):
    template = "Volume connector %(connector)s could not be found."


class VolumeTargetNotFound(errors.NotFound):
    template = "Volume target %(target)s could not be found."


class VolumeConnectorAlreadyExists(errors.Duplicate):
    template = "A volume connector with UUID %(uuid)s already exists."


class VolumeConnectorTypeAndIdAlreadyExists(errors.Duplicate):
    template = "A volume connector with type %(type)s and connector ID %(connector_id)s already exists."


class VolumeTargetAlreadyExists(errors.Duplicate):
    template = "A volume target with UUID %(uuid)s already exists."


class VolumeTargetBootIndexAlreadyExists(errors.Duplicate):
    template = "A volume target with boot index '%(boot_index)s' for the same node already exists."


def _integrity(target: bool, values: dict[str, Any]) -> Any:
    if target:
        return translate_integrity(
            "volume_targets",
            [
                ("uuid", lambda: VolumeTargetAlreadyExists(uuid=values.get("uuid"))),
                ("node_id", lambda: VolumeTargetBootIndexAlreadyExists(boot_index=values.get("boot_index"))),  # SQLite
                (
                    "node_id, boot_index",
                    lambda: VolumeTargetBootIndexAlreadyExists(boot_index=values.get("boot_index")),
                ),
            ],
        )
    return translate_integrity(
        "volume_connectors",
        [
            ("uuid", lambda: VolumeConnectorAlreadyExists(uuid=values.get("uuid"))),
            *(
                (
                    column,
                    lambda: VolumeConnectorTypeAndIdAlreadyExists(
                        type=values.get("type"), connector_id=values.get("connector_id")
                    ),
                )
                for column in ("type", "type, connector_id")
            ),  # SQLite names the first column, PostgreSQL both
        ],
    )


class VolumeRepo:
    """Connectors (``target=False``) or targets (``target=True``)."""

    def __init__(self, db: Database, *, target: bool) -> None:
        self.db = db
        self.target = target
        self.table = TARGETS if target else CONNECTORS
        self.select = select(
            *self.table.columns,
            NODES.c.uuid.label("node_uuid"),
            NODES.c.owner.label("node_owner"),
            NODES.c.lessee.label("node_lessee"),
        ).select_from(self.table.join(NODES, self.table.c.node_id == NODES.c.id))

    def not_found(self, ident: str) -> errors.IronworksError:
        return VolumeTargetNotFound(target=ident) if self.target else VolumeConnectorNotFound(connector=ident)

    def _get(self, session: Session, uuid: str) -> Record:
        row = None
        if is_uuid_like(uuid):
            row = session.execute(self.select.where(self.table.c.uuid == uuid.lower())).mappings().first()
        if row is None:
            raise self.not_found(uuid)
        return dict(row)

    def get(self, uuid: str) -> Record:
        with self.db.read() as session:
            return self._get(session, uuid)

    def list(
        self,
        *,
        filters: dict[str, Any] | None = None,
        sort_key: str = "id",
        sort_dir: str = "asc",
        marker: str | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        stmt = self.select
        for key, value in (filters or {}).items():
            if key == "project" and value is not None:  # objects of nodes the project owns or leases (auth/)
                stmt = stmt.where(or_(NODES.c.owner == value, NODES.c.lessee == value))
            elif value is not None:
                stmt = stmt.where(self.table.c[key] == value)
        with self.db.read() as session:
            return list_page(
                session,
                stmt,
                self.table,
                sort_key=sort_key,
                sort_dir=sort_dir,
                marker=marker,
                limit=limit,
                marker_source=self.select,
                not_found=self.not_found,
            )

    def _node(self, session: Session, node_id: int) -> Record:
        stmt = select(NODES).where(NODES.c.id == node_id)
        if not self.db.is_sqlite:
            stmt = stmt.with_for_update()
        row = session.execute(stmt).mappings().first()
        if row is None:
            raise errors.NodeNotFound(node=str(node_id))
        return dict(row)

    def create(self, values: dict[str, Any]) -> Record:
        with _integrity(self.target, values), self.db.write() as session:
            row = dict(values, created_at=utcnow())
            session.execute(insert(self.table).values(**row))
            return self._get(session, row["uuid"])

    def update(self, uuid: str, mutate: Callable[[Record], dict[str, Any]], check: Callable[[Record], None]) -> Record:
        """``mutate(record)`` gives the changed columns; ``check(node)`` vets the node the object ends on."""
        final: dict[str, Any] = {}  # the values the error of a uniqueness conflict names
        with _integrity(self.target, final), self.db.write() as session:
            record = self._get(session, uuid)
            changes = mutate(record)
            final.update(record, **changes)
            check(self._node(session, int(changes.get("node_id") or record["node_id"])))
            if not changes:
                return record
            changes["updated_at"] = utcnow()
            session.execute(update(self.table).where(self.table.c.id == record["id"]).values(**changes))
            return self._get(session, record["uuid"])

    def delete(self, uuid: str, check: Callable[[Record], None]) -> Record:
        with self.db.write() as session:
            record = self._get(session, uuid)
            check(self._node(session, record["node_id"]))
            session.execute(delete(self.table).where(self.table.c.id == record["id"]))
            return record
