"""Firmware components of nodes (Ironic's ``firmware_information``): the cache ``GET /v1/nodes/{node}/firmware``
serves, replaced by :func:`sync` each time a firmware interface reads the hardware."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from ironworks.db.models import FirmwareComponent, utcnow
from ironworks.db.repos.base import BaseRepository, Record

FIRMWARE = cast(Table, FirmwareComponent.__table__)
#: what a firmware interface reports per component besides its name
READ_FIELDS = ("current_version", "vendor", "model", "serial_number")


def sync(session: Session, node_id: int, components: Sequence[Mapping[str, Any]]) -> None:
    """Make the node's rows match ``components`` (each ``{"component", "current_version", ...}``), as Ironic's
    ``FirmwareComponentList.sync_firmware_components``: a new component starts with ``initial_version`` =
    its current version; a known one keeps ``initial_version`` and ``created_at`` and gets ``updated_at`` only
    when something changed; one no longer reported is removed. ``last_version_flashed`` is set only when given.
    """
    existing = {
        row["component"]: dict(row)
        for row in session.execute(select(FIRMWARE).where(FIRMWARE.c.node_id == node_id)).mappings()
    }
    now = utcnow()
    seen: set[str] = set()
    for item in components:
        name = str(item["component"])
        seen.add(name)
        values = {field: item.get(field) for field in READ_FIELDS}
        if "last_version_flashed" in item:
            values["last_version_flashed"] = item["last_version_flashed"]
        old = existing.get(name)
        if old is None:
            session.execute(
                insert(FIRMWARE).values(
                    node_id=node_id, component=name, initial_version=values["current_version"], created_at=now, **values
                )
            )
        elif any(old.get(field) != value for field, value in values.items()):
            session.execute(update(FIRMWARE).where(FIRMWARE.c.id == old["id"]).values(updated_at=now, **values))
    gone = [row["id"] for name, row in existing.items() if name not in seen]
    if gone:
        session.execute(delete(FIRMWARE).where(FIRMWARE.c.id.in_(gone)))


class FirmwareRepo(BaseRepository[FirmwareComponent]):
    """Reads of the cache (components have no uuid of their own: they are listed per node)."""

    model = FirmwareComponent

    def for_node(self, node_id: int) -> list[Record]:
        with self.db.read() as session:
            stmt = self.filtered({"node_id": node_id}).order_by(self.table.c.component)
            return [dict(r) for r in session.execute(stmt).mappings()]
