"""The scheduler's filters as SQL over the nodes table: the same rules as ``filters.reasons``, for speed.

``demand_clauses`` is what ``AllocationRepo.candidates`` puts in its WHERE clause; ``AVAILABLE_CLAUSES`` are
also the conditions of the claim's compare-and-set. JSON members are compared as text so that ``32`` and
``"32"`` match alike on SQLite and PostgreSQL. tests/scheduler/test_sql_agrees.py checks both forms agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import String, Table, and_, exists, false, or_
from sqlalchemy import cast as sql_cast

from ironworks.db.models import Node, NodeTrait
from ironworks.scheduler.filters import AVAILABLE, Demand, Tenancy

NODES = cast(Table, Node.__table__)
TRAITS = cast(Table, NodeTrait.__table__)


def _text(expr: Any) -> Any:
    """A JSON member as text on both databases (``32`` and ``"32"`` both read ``'32'``)."""
    return sql_cast(expr.as_string(), String)


#: a node that can be handed out: available, not in maintenance, not associated, not locked (built once)
AVAILABLE_CLAUSES = (
    NODES.c.provision_state == AVAILABLE,
    NODES.c.maintenance == false(),
    NODES.c.instance_uuid.is_(None),
    NODES.c.allocation_id.is_(None),
    NODES.c.reservation.is_(None),
)
_POOL = _text(NODES.c.extra["pool"])


def _not_in(col: Any, values: Iterable[str]) -> Any:
    return or_(col.is_(None), col.not_in(sorted(values)))


def tenancy_clauses(owner: str | None, tenancy: Tenancy) -> list[Any]:
    """``Tenancy.reason`` as SQL."""
    pool = _POOL
    if owner is not None and owner in tenancy.isolated:
        return [or_(NODES.c.owner == owner, NODES.c.lessee == owner, pool == tenancy.isolated[owner])]
    clauses = []
    if tenancy.isolated:
        clauses += [
            _not_in(NODES.c.owner, tenancy.isolated_projects),
            _not_in(NODES.c.lessee, tenancy.isolated_projects),
            _not_in(pool, tenancy.isolated_pools),
        ]
    if owner is not None:
        nobodys = and_(NODES.c.owner.is_(None), NODES.c.lessee.is_(None))
        clauses.append(or_(nobodys, NODES.c.owner == owner, NODES.c.lessee == owner))
    return clauses


def demand_clauses(
    demand: Demand, tenancy: Tenancy, resource_classes: Sequence[str] | None, *, with_properties: bool
) -> list[Any]:
    """Every filter of ``filters.reasons`` as SQL; properties only for exact match (equality on text)."""
    clauses = list(AVAILABLE_CLAUSES)
    if resource_classes is not None:
        clauses.append(NODES.c.resource_class.in_(list(resource_classes)))
    if demand.candidate_uuids is not None:
        clauses.append(NODES.c.uuid.in_(sorted(demand.candidate_uuids)))
    for trait in sorted(demand.required_traits):
        clauses.append(exists().where(TRAITS.c.node_id == NODES.c.id, TRAITS.c.trait == trait))
    for trait in sorted(demand.forbidden_traits):
        clauses.append(~exists().where(TRAITS.c.node_id == NODES.c.id, TRAITS.c.trait == trait))
    clauses += tenancy_clauses(demand.owner, tenancy)
    if with_properties and demand.exact_match:
        for key, value in demand.properties.items():
            clauses.append(_text(NODES.c.properties[key]).in_([str(value), f"{value}.0"]))
    return clauses
