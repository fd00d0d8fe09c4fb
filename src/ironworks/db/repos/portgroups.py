"""Portgroup storage: records are plain dicts of the portgroup's columns plus ``node_uuid``.

Writes take a callback that checks the rules with a ``Lookup`` inside the same transaction (see ports.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.models import Portgroup
from ironworks.db.repos.base import LookupRepository, sortable
from ironworks.db.repos.ports import NODES, PORTGROUPS, Lookup, node_filter

#: columns a portgroup list may be sorted by (JSON columns cannot be)
SORTABLE = sortable(PORTGROUPS)

_SELECT = select(*PORTGROUPS.columns, NODES.c.uuid.label("node_uuid")).select_from(
    PORTGROUPS.join(NODES, PORTGROUPS.c.node_id == NODES.c.id)
)


class PortgroupRepo(LookupRepository[Portgroup, Lookup]):
    """Portgroups by uuid or name; writes check their rules through a ``Lookup``."""

    model = Portgroup
    query = _SELECT
    named = True
    unique = [
        ("uuid", lambda _: errors.PortgroupAlreadyExists("A portgroup with that UUID already exists.")),
        ("name", lambda _: errors.PortgroupDuplicateName("A portgroup with that name already exists.")),
        ("address", lambda _: errors.PortgroupMACAlreadyExists("A portgroup with that MAC address already exists.")),
    ]

    def not_found(self, ident: str) -> errors.IronworksError:
        return errors.PortgroupNotFound(portgroup=ident)

    def marker_not_found(self, marker: str) -> errors.IronworksError:
        return errors.PortgroupNotFound(f"Marker portgroup {marker} could not be found.")

    def filter_clause(self, key: str, value: Any) -> Any:
        if key == "project":  # portgroups of nodes the project owns or leases (auth/)
            return or_(NODES.c.owner == value, NODES.c.lessee == value)
        if key in ("conductor_groups", "shards"):
            return node_filter(key, value)
        return PORTGROUPS.c[key] == value

    def make_lookup(self, session: Session) -> Lookup:
        return Lookup(session, self.db.is_sqlite)
