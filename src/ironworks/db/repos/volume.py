"""Volume connector and target storage (API 1.32): two repositories of the same shape over the generic one.

A record is a plain dict of the row's columns plus its node's ``node_uuid``, ``node_owner`` and ``node_lessee``
(the policy decides on them). Updates and deletes take a ``check(node)`` callback that vets the node, read and
locked in the same write transaction (PostgreSQL ``FOR UPDATE``; SQLite writers are serialised), so a power-on
or a lock taken in between cannot slip past it. Uniqueness — a connector's (type, connector_id), a target's
(node, boot_index), both uuids — is the database's, translated to Ironic's 409s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import Table, or_, select
from sqlalchemy.orm import DeclarativeBase, Session

from ironworks import errors
from ironworks.db.models import Node, VolumeConnector, VolumeTarget
from ironworks.db.repos.base import Changes, Record, Repository, sortable
from ironworks.identifiers import is_uuid_like

CONNECTORS = cast(Table, VolumeConnector.__table__)
TARGETS = cast(Table, VolumeTarget.__table__)
NODES = cast(Table, Node.__table__)

CONNECTOR_SORTABLE = sortable(CONNECTORS)
TARGET_SORTABLE = sortable(TARGETS)

M = TypeVar("M", bound=DeclarativeBase)


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


def _with_node(table: Table) -> Any:
    return select(
        *table.columns,
        NODES.c.uuid.label("node_uuid"),
        NODES.c.owner.label("node_owner"),
        NODES.c.lessee.label("node_lessee"),
    ).select_from(table.join(NODES, table.c.node_id == NODES.c.id))


def _type_and_id(values: dict[str, Any]) -> errors.IronworksError:
    return VolumeConnectorTypeAndIdAlreadyExists(type=values.get("type"), connector_id=values.get("connector_id"))


def _boot_index(values: dict[str, Any]) -> errors.IronworksError:
    return VolumeTargetBootIndexAlreadyExists(boot_index=values.get("boot_index"))


class _VolumeRepo(Repository[M]):
    """What connectors and targets share: UUID identifiers, the project filter, writes that vet the node."""

    lower_uuid = True
    lock = True
    #: the columns of the object's uniqueness rule (besides uuid)
    key_columns: tuple[str, ...] = ()

    def ident_clause(self, ident: str) -> Any:
        if not is_uuid_like(ident):
            return self.table.c.id.is_(None)  # nothing: Ironic's controllers take UUIDs only
        return super().ident_clause(ident)

    def filter_clause(self, key: str, value: Any) -> Any:
        if key == "project":  # objects of nodes the project owns or leases (auth/)
            return or_(NODES.c.owner == value, NODES.c.lessee == value)
        return super().filter_clause(key, value)

    def _node(self, session: Session, node_id: int) -> Record:
        stmt = select(NODES).where(NODES.c.id == node_id)
        if not self.db.is_sqlite:
            stmt = stmt.with_for_update()
        row = session.execute(stmt).mappings().first()
        if row is None:
            raise errors.NodeNotFound(node=str(node_id))
        return dict(row)

    def update_checked(self, uuid: str, mutate: Callable[[Record], Changes], check: Callable[[Record], None]) -> Record:
        """``mutate(record)`` gives the changed columns; ``check(node)`` vets the node the object ends on."""

        def write(session: Session, record: Record) -> Changes:
            changes = mutate(record)
            check(self._node(session, int(changes.get("node_id") or record["node_id"])))
            if changes:  # the columns a uniqueness error names are written along (unchanged values)
                changes = {**{k: record[k] for k in self.key_columns}, **changes}
            return changes

        return self._update(uuid, write)

    def delete_checked(self, uuid: str, check: Callable[[Record], None]) -> Record:
        return self._delete(uuid, lambda session, record: check(self._node(session, record["node_id"])))


class VolumeConnectorRepo(_VolumeRepo[VolumeConnector]):
    model = VolumeConnector
    query = _with_node(CONNECTORS)
    key_columns = ("type", "connector_id")
    unique = [
        ("uuid", lambda v: VolumeConnectorAlreadyExists(uuid=v.get("uuid"))),
        ("type", _type_and_id),  # SQLite names the first column of the pair
        ("type, connector_id", _type_and_id),  # PostgreSQL both
    ]

    def not_found(self, ident: str) -> errors.IronworksError:
        return VolumeConnectorNotFound(connector=ident)


class VolumeTargetRepo(_VolumeRepo[VolumeTarget]):
    model = VolumeTarget
    query = _with_node(TARGETS)
    key_columns = ("node_id", "boot_index")
    unique = [
        ("uuid", lambda v: VolumeTargetAlreadyExists(uuid=v.get("uuid"))),
        ("node_id", _boot_index),  # SQLite
        ("node_id, boot_index", _boot_index),  # PostgreSQL
    ]

    def not_found(self, ident: str) -> errors.IronworksError:
        return VolumeTargetNotFound(target=ident)


def repo_for(db: Any, *, target: bool) -> VolumeConnectorRepo | VolumeTargetRepo:
    return VolumeTargetRepo(db) if target else VolumeConnectorRepo(db)
