"""Which nodes can serve a request, and why the others cannot: pure functions over node records.

A ``Demand`` is what an allocation asks for (resource class, traits, optional properties, owner, candidate
nodes); a ``Tenancy`` is which projects are isolated and which pool each one owns. ``reasons(node, demand,
tenancy)`` lists every check a node fails (an empty list means it qualifies), in a fixed order:

1. ``state``: the node is ``available``;
2. ``maintenance``: not in maintenance;
3. ``allocated``: no instance and no allocation yet (and not locked by a conductor);
4. ``candidate_nodes``: among the requested candidates, when some were named;
5. ``resource_class``: the requested class (or, for a flavor's ``resources:CUSTOM_X=1``, a class whose
   placement spelling is ``CUSTOM_X``);
6. ``traits``: has every required trait and none of the forbidden ones;
7. ``owner`` / ``pool``: tenancy (see ``Tenancy.reason``);
8. ``properties``: with exact match on, ``cpus``/``memory_mb``/``local_gb`` equal the request; otherwise at
   least the request.

The database layer (db/repos/allocations.py) turns the same rules into SQL for speed; tests check that both
agree. ``rank_key`` orders qualifying nodes smallest first, and ``shortage_message`` tells an operator what was
asked and what is free when nothing qualifies.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

AVAILABLE = "available"
#: the properties a flavor may ask for, in the order messages show them
PROPERTY_KEYS = ("cpus", "memory_mb", "local_gb")

_NON_ALNUM = re.compile(r"[^A-Z0-9_]")


def placement_resource_class(resource_class: str) -> str:
    """Nova's spelling of an Ironic resource class: ``baremetal.gold`` → ``CUSTOM_BAREMETAL_GOLD``."""
    return "CUSTOM_" + _NON_ALNUM.sub("_", resource_class.upper())


def property_int(value: Any) -> int | None:
    """A node property as an integer (``32``, ``"32"``, ``32.0``), or None when it is missing or not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@dataclasses.dataclass(frozen=True)
class Demand:
    """What one allocation asks for."""

    resource_class: str | None = None
    #: placement spelling (``CUSTOM_X``) when the request came from a flavor's ``resources:CUSTOM_X=1``
    custom_resource_class: str | None = None
    required_traits: frozenset[str] = frozenset()
    forbidden_traits: frozenset[str] = frozenset()
    #: requested cpus / memory_mb / local_gb (only those given)
    properties: Mapping[str, int] = dataclasses.field(default_factory=dict)
    exact_match: bool = False
    #: node uuids the allocation may use (None: any)
    candidate_uuids: frozenset[str] | None = None
    owner: str | None = None
    #: a node whose name equals this is tried first (Ironic does the same)
    preferred_name: str | None = None
    flavor: str | None = None

    def describe(self) -> str:
        """``flavor bm.small (cpus=16, memory_mb=32768)`` or ``resource class gold with traits CUSTOM_A``."""
        head = (
            f"flavor {self.flavor}"
            if self.flavor
            else (f"resource class {self.resource_class or self.custom_resource_class}")
        )
        parts = [f"{k}={self.properties[k]}" for k in PROPERTY_KEYS if k in self.properties]
        if self.flavor and (self.resource_class or self.custom_resource_class):
            parts.insert(0, f"resource_class={self.resource_class or self.custom_resource_class}")
        if self.required_traits:
            parts.append("traits=" + ",".join(sorted(self.required_traits)))
        if self.forbidden_traits:
            parts.append("forbidden=" + ",".join(sorted(self.forbidden_traits)))
        if self.owner:
            parts.append(f"owner={self.owner}")
        return f"{head} ({', '.join(parts)})" if parts else head


@dataclasses.dataclass(frozen=True)
class Tenancy:
    """Isolated projects and their pools.

    A node is dedicated to an isolated project P when P owns it, P leases it, or its ``extra.pool`` is P's pool.
    An isolated project gets only nodes dedicated to it; everyone else gets only nodes dedicated to no isolated
    project (the shared pool), and, when the allocation has an owner, only nodes that owner owns or leases or
    that belong to nobody (no owner, and no lessee other than the allocation's owner): a node leased to
    another project is that project's even when it has no owner."""

    #: isolated project id → its pool name
    isolated: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def isolated_projects(self) -> frozenset[str]:
        return frozenset(self.isolated)

    @property
    def isolated_pools(self) -> frozenset[str]:
        return frozenset(self.isolated.values())

    def dedicated_to(self, node: Mapping[str, Any]) -> frozenset[str]:
        """The isolated projects a node is dedicated to (its owner, its lessee, the project of its pool)."""
        projects = {node[f] for f in ("owner", "lessee") if node.get(f) in self.isolated}
        pool = node_pool(node)
        if pool is not None:
            projects.update(p for p, p_pool in self.isolated.items() if p_pool == pool)
        return frozenset(projects)

    def reason(self, node: Mapping[str, Any], owner: str | None) -> tuple[str, str] | None:
        """Why a node cannot go to an allocation owned by ``owner`` (None: it can)."""
        dedicated = self.dedicated_to(node)
        if owner is not None and owner in self.isolated:
            if owner not in dedicated:
                return (
                    "pool",
                    f"project {owner} is isolated and the node is not in its pool "
                    f"(owner={node.get('owner')}, lessee={node.get('lessee')}, pool={node_pool(node)})",
                )
            return None
        if dedicated:
            return ("pool", f"the node is dedicated to isolated project {', '.join(sorted(dedicated))}")
        if owner is not None and node.get("owner") not in (None, owner) and node.get("lessee") != owner:
            return ("owner", f"the node belongs to project {node.get('owner')}, not to {owner}")
        if owner is not None and node.get("owner") is None and node.get("lessee") not in (None, owner):
            return ("owner", f"the node is leased to project {node.get('lessee')}, not to {owner}")
        return None


def node_pool(node: Mapping[str, Any]) -> str | None:
    extra = node.get("extra") or {}
    pool = extra.get("pool") if isinstance(extra, Mapping) else None
    return pool if isinstance(pool, str) and pool else None


def node_shape(node: Mapping[str, Any]) -> tuple[int | None, ...]:
    props = node.get("properties") or {}
    return tuple(property_int(props.get(key)) for key in PROPERTY_KEYS)


def properties_reason(node: Mapping[str, Any], demand: Demand) -> str | None:
    props = node.get("properties") or {}
    problems = []
    for key in PROPERTY_KEYS:
        if key not in demand.properties:
            continue
        wanted = demand.properties[key]
        have = property_int(props.get(key))
        if have is None:
            problems.append(f"{key} is unknown ({props.get(key)!r})")
        elif demand.exact_match and have != wanted:
            problems.append(f"{key}={have}, exactly {wanted} requested")
        elif not demand.exact_match and have < wanted:
            problems.append(f"{key}={have}, at least {wanted} requested")
    return "; ".join(problems) or None


def reasons(node: Mapping[str, Any], demand: Demand, tenancy: Tenancy) -> list[dict[str, str]]:
    """Every check ``node`` fails for ``demand``, as ``{"check": …, "detail": …}``; empty when it qualifies."""
    out: list[dict[str, str]] = []

    def fail(check: str, detail: str) -> None:
        out.append({"check": check, "detail": detail})

    if node.get("provision_state") != AVAILABLE:
        fail("state", f"provision_state is {node.get('provision_state')!r}, not 'available'")
    if node.get("maintenance"):
        fail("maintenance", f"in maintenance ({node.get('maintenance_reason') or 'no reason given'})")
    if node.get("instance_uuid") or node.get("allocation_id"):
        fail("allocated", f"already allocated (instance_uuid={node.get('instance_uuid')})")
    elif node.get("reservation"):
        fail("allocated", f"locked by conductor {node.get('reservation')}")
    if demand.candidate_uuids is not None and node.get("uuid") not in demand.candidate_uuids:
        fail("candidate_nodes", "not among the requested candidate_nodes")
    rc = node.get("resource_class")
    if demand.resource_class is not None and rc != demand.resource_class:
        fail("resource_class", f"resource_class is {rc!r}, not {demand.resource_class!r}")
    elif demand.custom_resource_class is not None and (
        rc is None or placement_resource_class(rc) != demand.custom_resource_class
    ):
        fail("resource_class", f"resource_class {rc!r} is not {demand.custom_resource_class}")
    traits = set(node.get("traits") or ())
    missing = sorted(demand.required_traits - traits)
    present = sorted(demand.forbidden_traits & traits)
    if missing or present:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"has forbidden {', '.join(present)}"] if present else []
        )
        fail("traits", "; ".join(parts))
    tenancy_reason = tenancy.reason(node, demand.owner)
    if tenancy_reason is not None:
        fail(*tenancy_reason)
    props = properties_reason(node, demand)
    if props:
        fail("properties", props)
    return out


def qualifies(node: Mapping[str, Any], demand: Demand, tenancy: Tenancy) -> bool:
    return not reasons(node, demand, tenancy)


def rank_key(node: Mapping[str, Any]) -> tuple[int, ...]:
    """Smallest node first (cpus, memory, disk); nodes with unknown sizes last."""
    big = 1 << 62
    return tuple(big if v is None else v for v in node_shape(node))


def order(nodes: Iterable[Mapping[str, Any]], demand: Demand) -> list[Mapping[str, Any]]:
    """Qualifying nodes in the order to try them: the node named like the allocation first, then (when the
    request has properties and no exact match) the smallest; ties keep the caller's (random) order."""
    ordered = list(nodes)
    if demand.properties and not demand.exact_match:
        ordered.sort(key=rank_key)
    if demand.preferred_name:
        ordered.sort(key=lambda n: n.get("name") != demand.preferred_name)
    return ordered


def shape_text(shape: tuple[int | None, ...]) -> str:
    parts = [f"{key}={value}" for key, value in zip(PROPERTY_KEYS, shape, strict=True) if value is not None]
    return " ".join(parts) or "unknown size"


def shortage_message(demand: Demand, free: Iterable[Mapping[str, Any]]) -> str:
    """``no available node matches flavor bm.small (cpus=16, memory_mb=32768); free: 3 × cpus=32 …``.

    ``free`` are the nodes that pass every check except the properties: what an operator could hand out
    instead, grouped by size, most common first.
    """
    counts = Counter(node_shape(n) for n in free)
    if counts:
        groups = sorted(counts.items(), key=lambda item: (-item[1], rank_key_of_shape(item[0])))
        free_text = ", ".join(f"{count} × {shape_text(shape)}" for shape, count in groups)
    else:
        free_text = "none"
    return f"no available node matches {demand.describe()}; free: {free_text}"


def rank_key_of_shape(shape: tuple[int | None, ...]) -> tuple[int, ...]:
    big = 1 << 62
    return tuple(big if v is None else v for v in shape)
