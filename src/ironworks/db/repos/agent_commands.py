"""Agent commands and stored inventories: the rows behind the agent's command channel.

A command goes ``queued`` → ``delivered`` (handed to a long poll) → ``SUCCEEDED`` | ``FAILED`` (result posted).
Delivery is in creation order; a delivered command without a result is delivered again (the agent restarted).
Functions take a session so callers choose the transaction.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.models import AgentCommand, NodeInventory, utcnow
from ironworks.db.repos.base import Record

COMMANDS = cast(Table, AgentCommand.__table__)
INVENTORIES = cast(Table, NodeInventory.__table__)

QUEUED = "queued"
DELIVERED = "delivered"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
FINISHED = (SUCCEEDED, FAILED)


def queue(session: Session, node_id: int, name: str, params: dict[str, Any]) -> str:
    command_id = str(uuidlib.uuid4())
    session.execute(insert(COMMANDS).values(uuid=command_id, node_id=node_id, name=name, params=params,
                                            status=QUEUED, created_at=utcnow()))
    return command_id


def next_for(session: Session, node_id: int) -> Record | None:
    """The command to hand to a poll: a delivered one still without result, else the oldest queued (marked)."""
    base = select(COMMANDS).where(COMMANDS.c.node_id == node_id).order_by(COMMANDS.c.id).limit(1)
    row = session.execute(base.where(COMMANDS.c.status == DELIVERED)).mappings().first()
    if row is not None:
        return dict(row)
    row = session.execute(base.where(COMMANDS.c.status == QUEUED)).mappings().first()
    if row is None:
        return None
    result: Any = session.execute(update(COMMANDS).where(COMMANDS.c.id == row["id"], COMMANDS.c.status == QUEUED)
                                  .values(status=DELIVERED, delivered_at=utcnow()))
    if int(result.rowcount) != 1:
        return None  # another poll took it first
    return {**row, "status": DELIVERED}


def finish(session: Session, node_id: int, command_id: str, status: str, result: dict[str, Any] | None,
           error: dict[str, Any] | None) -> bool:
    """Record a result. True when stored now, False when the same status was already there (idempotent).

    404 for an unknown command, 409 for one never delivered or already finished differently.
    """
    row = session.execute(select(COMMANDS).where(COMMANDS.c.node_id == node_id, COMMANDS.c.uuid == command_id)
                          ).mappings().first()
    if row is None:
        raise errors.NotFound(f"Agent command {command_id} of node was not found.")
    if row["status"] in FINISHED:
        if row["status"] == status:
            return False
        raise errors.Conflict(f"Agent command {command_id} already finished with status {row['status']}.")
    if row["status"] != DELIVERED:
        raise errors.Conflict(f"Agent command {command_id} was never delivered.")
    session.execute(update(COMMANDS).where(COMMANDS.c.id == row["id"]).values(
        status=status, result=result, error=error, finished_at=utcnow()))
    return True


def get_many(session: Session, node_id: int, command_ids: list[str]) -> list[Record]:
    if not command_ids:
        return []
    rows = session.execute(select(COMMANDS).where(COMMANDS.c.node_id == node_id,
                                                  COMMANDS.c.uuid.in_(command_ids)).order_by(COMMANDS.c.id))
    return [dict(r) for r in rows.mappings()]


def list_for_node(session: Session, node_id: int) -> list[Record]:
    rows = session.execute(select(COMMANDS).where(COMMANDS.c.node_id == node_id).order_by(COMMANDS.c.id))
    return [dict(r) for r in rows.mappings()]


def drop_unfinished(session: Session, node_id: int) -> None:
    """Forget commands a previous ramdisk boot never finished (the node is booting the ramdisk again)."""
    session.execute(delete(COMMANDS).where(COMMANDS.c.node_id == node_id, COMMANDS.c.status.in_((QUEUED, DELIVERED))))


# --- inventory ------------------------------------------------------------------------------------------------
def store_inventory(session: Session, node_id: int, inventory: dict[str, Any],
                    plugin_data: dict[str, Any] | None = None) -> None:
    session.execute(delete(INVENTORIES).where(INVENTORIES.c.node_id == node_id))
    session.execute(insert(INVENTORIES).values(node_id=node_id, inventory=inventory, plugin_data=plugin_data or {},
                                               created_at=utcnow()))


def get_inventory(session: Session, node_id: int) -> Record | None:
    row = session.execute(select(INVENTORIES).where(INVENTORIES.c.node_id == node_id)).mappings().first()
    return dict(row) if row is not None else None
