"""Allocations: picking a node for a request and claiming it, backfilling, releasing.

``allocate`` is the one entry point (the API's POST /v1/allocations and the one-call server create use it):

1. The request is checked and turned into a ``Demand`` (filters.py): resource class, traits, candidate nodes,
   owner, and, for a flavor, its properties and exact-match policy. A ``Tenancy`` says which projects are
   isolated and which pool each owns.
2. The database is asked for nodes that pass the filters (db/repos/allocations.py: the same rules as SQL), in
   random order so that parallel requests try different nodes. Properties that need "at least" comparisons
   (a flavor without exact match) are filtered here, in Python, and the smallest qualifying node comes first.
3. A flavor request that no node can serve fails at once (409) with what was asked and what is free, and
   writes nothing: operators see a shortage instead of a silent over-allocation.
4. One transaction inserts the allocation and claims the first candidate still free with a compare-and-set on
   the node (instance_uuid and allocation_id NULL, not locked, available, not in maintenance). A candidate
   another request took in between is skipped; when all were, the transaction is rolled back and the next
   round reads fresh candidates. After a few rounds without success the allocation is stored in ``error``
   with ``last_error``, as Ironic's ends. An allocation is thus only ever stored ``active`` with its node or
   ``error``: a crash cannot leave one ``allocating`` with nobody to finish it.

Tenancy: a non-admin caller (``caller_project``) names only nodes its project owns or leases; any other node,
in ``node`` (backfill) or ``candidate_nodes``, is answered exactly like a node that does not exist, before
anything else about it is checked or told. Its allocations may hold at most the project's cap of nodes
(``tenancy.allocation_cap``; 409 ``CapReached``), counted in the claim's own transaction. A backfill takes
no node from the pool and is not capped.

Answering (as Ironic): the POST stores the allocation ``allocating`` with no node and answers with that; the
claim (4.) follows at once in a worker of this process's conductor (a plain thread where there is none, or the
pool is full) and is visible on the next GET, as clients that poll (openstacksdk's ``wait_for_allocation``,
metalsmith) expect. The claim takes the stored row (``claim(existing=…)``) only while it is still
``allocating``, so two workers cannot both finish one; a conductor that starts resumes every allocation left
``allocating`` (a crash between the answer and the claim), as Ironic's conductor does. With the setting
``allocation_immediate`` (opt-in) the claim is made within the request and the answer already says ``active``
or ``error``; the one-call server create (instances/) always claims within its request.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ironworks import errors, states
from ironworks.db.repos.allocations import CapReached
from ironworks.db.repos.base import Record
from ironworks.identifiers import is_uuid_like, is_valid_logical_name, new_uuid, normalize_uuid, validate_trait
from ironworks.scheduler import filters, tenancy
from ironworks.scheduler.filters import Demand, Tenancy

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

#: candidates tried per claim transaction; the next round re-reads the database
CLAIM_BATCH = 16
CLAIM_ROUNDS = 4
#: names that would clash with sub-paths of /v1/allocations
RESERVED_NAMES = frozenset({"candidates"})


@dataclasses.dataclass(frozen=True)
class AllocationRequest:
    """What POST /v1/allocations (or a server create) asks for; ``flavor`` and ``node`` are optional."""

    resource_class: str | None = None
    traits: Sequence[str] = ()
    candidate_nodes: Sequence[str] | None = None
    name: str | None = None
    uuid: str | None = None
    owner: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    flavor: str | None = None
    #: backfill: the node (uuid or name) that is already deployed for this allocation
    node: str | None = None
    #: a non-admin caller's project: candidate_nodes must be nodes it owns or leases (as in Ironic)
    caller_project: str | None = None


def _failed(uuid: str, error: str) -> str:
    return f"Failed to process allocation {uuid}: {error}."


def check_name(name: str | None) -> None:
    if name is None:
        return
    if not is_valid_logical_name(name) or name in RESERVED_NAMES:
        raise errors.Invalid(f"Cannot create allocation with invalid name '{name}'")


def resolve_candidates(svc: Services, idents: Sequence[str], project: str | None = None) -> list[str]:
    """Node names or UUIDs → UUIDs, in the given order (400 naming those that do not exist)."""
    uuids: list[str] = []
    missing: list[str] = []
    for ident in idents:
        if not isinstance(ident, str) or not (is_uuid_like(ident) or is_valid_logical_name(ident)):
            missing.append(str(ident))
            continue
        try:
            node = svc.nodes.get(ident)
        except errors.NodeNotFound:
            missing.append(ident)
            continue
        if project is not None and project not in (node["owner"], node["lessee"]):
            missing.append(ident)
            continue
        uuids.append(node["uuid"])
    if missing:
        raise errors.InvalidParameterValue(f"Nodes cannot be found: {', '.join(missing)}")
    return list(dict.fromkeys(uuids))


def demand_for(svc: Services, req: AllocationRequest, candidate_uuids: Sequence[str] | None) -> Demand:
    traits = [validate_trait(t) for t in req.traits]
    fields: dict[str, Any] = {"resource_class": req.resource_class}
    forbidden: list[str] = []
    if req.flavor is not None:
        try:
            flavor = svc.flavors.get(req.flavor)
        except errors.NotFound as exc:
            raise errors.InvalidParameterValue(exc.message) from None
        custom = flavor["custom_resource_class"]
        if req.resource_class and (
            (flavor["resource_class"] and req.resource_class != flavor["resource_class"])
            or (custom and filters.placement_resource_class(req.resource_class) != custom)
        ):
            raise errors.InvalidParameterValue(
                f"resource_class {req.resource_class} conflicts with flavor {flavor['name']} "
                f"({flavor['resource_class'] or custom})."
            )
        fields["resource_class"] = req.resource_class or flavor["resource_class"]
        if not fields["resource_class"]:
            fields["custom_resource_class"] = flavor["custom_resource_class"]
        traits = list(dict.fromkeys([*flavor["required_traits"], *traits]))
        forbidden = list(flavor["forbidden_traits"])
        fields["properties"] = {k: flavor[k] for k in filters.PROPERTY_KEYS if flavor[k] is not None}
        exact = flavor["exact_match"]
        fields["exact_match"] = svc.settings.flavor_exact_match if exact is None else bool(exact)
        fields["flavor"] = flavor["name"]
    clash = set(traits) & set(forbidden)
    if clash:
        raise errors.InvalidParameterValue(f"Traits both required and forbidden: {', '.join(sorted(clash))}.")
    return Demand(
        required_traits=frozenset(traits),
        forbidden_traits=frozenset(forbidden),
        candidate_uuids=frozenset(candidate_uuids) if candidate_uuids else None,
        owner=req.owner,
        preferred_name=req.name,
        **fields,
    )


def resource_classes_for(svc: Services, demand: Demand) -> list[str] | None:
    """The node resource classes that serve ``demand`` (a flavor's CUSTOM_X may match several spellings)."""
    if demand.resource_class is not None:
        return [demand.resource_class]
    if demand.custom_resource_class is not None:
        return [
            rc
            for rc in svc.allocations.resource_classes()
            if filters.placement_resource_class(rc) == demand.custom_resource_class
        ]
    return None


def find_nodes(svc: Services, demand: Demand, tenant: Tenancy, *, limit: int | None = CLAIM_BATCH) -> list[Record]:
    """Qualifying nodes in the order to try them."""
    rcs = resource_classes_for(svc, demand)
    if rcs == []:
        return []
    in_python = bool(demand.properties) and not demand.exact_match
    rows = svc.allocations.candidates(demand, tenant, rcs, limit=None if in_python else limit)
    if in_python:
        rows = [r for r in rows if filters.properties_reason(r, demand) is None]
    ordered = filters.order(rows, demand)
    return [dict(r) for r in (ordered if limit is None else ordered[:limit])]


def shortage(svc: Services, demand: Demand, tenant: Tenancy) -> str:
    """The 409 message of a flavor request nothing can serve: what was asked and what is free."""
    rcs = resource_classes_for(svc, demand)
    loose = dataclasses.replace(demand, properties={}, exact_match=False)
    free = [] if rcs == [] else svc.allocations.candidates(loose, tenant, rcs, with_properties=False)
    return filters.shortage_message(demand, free)


def _no_nodes_error(demand: Demand) -> str:
    rc = demand.resource_class or demand.custom_resource_class
    if demand.candidate_uuids is not None:
        return f"none of the requested nodes are available and match the resource class {rc}"
    if demand.required_traits or demand.forbidden_traits or demand.owner:
        return f"no available nodes match the resource class {rc}, the traits and the owner of the request"
    return f"no available nodes match the resource class {rc}"


def allocate(svc: Services, req: AllocationRequest, *, immediate: bool | None = None) -> Record:
    """Create an allocation (see the module docstring). Returns it ``allocating``, or with ``immediate`` (default:
    the ``allocation_immediate`` setting) after the claim, ``active`` or ``error``. A backfill is always
    immediate, as in Ironic."""
    check_name(req.name)
    uuid = normalize_uuid(req.uuid) if req.uuid else None
    if req.node is not None:
        return backfill(svc, req, uuid)
    if not req.resource_class and req.flavor is None:
        raise errors.Invalid("The resource_class field is mandatory when not backfilling")
    cap = 0
    if req.caller_project is not None:
        cap = tenancy.allocation_cap(svc, req.caller_project)
        held = svc.allocations.held(req.caller_project) if cap > 0 else 0
        if cap > 0 and held >= cap:  # answered at once; the claim counts again in its transaction
            raise CapReached(project=req.caller_project, count=held, cap=cap)
    candidates = resolve_candidates(svc, req.candidate_nodes, req.caller_project) if req.candidate_nodes else None
    demand = demand_for(svc, req, candidates)
    tenant = tenancy.load(svc)
    nodes = find_nodes(svc, demand, tenant)
    if not nodes and demand.flavor is not None:
        raise errors.Conflict(shortage(svc, demand, tenant))
    values = {
        "uuid": uuid or new_uuid(),
        "name": req.name,
        "owner": req.owner,
        "extra": req.extra or {},
        "resource_class": demand.resource_class,
        "traits": sorted(demand.required_traits),
        "candidate_nodes": list(candidates or []),
        "flavor": demand.flavor,
    }
    if immediate if immediate is not None else svc.settings.allocation_immediate:
        return _claim(svc, values, demand, tenant, nodes, check_instance=bool(req.uuid),
                      project=req.caller_project, cap=cap)
    if req.uuid:  # told at once (409), as before; the claim checks again in its transaction
        svc.allocations.check_instance_free(str(values["uuid"]), req.caller_project)
    record = svc.allocations.create(dict(values, state="allocating"))
    LOG.info("Allocation %s: allocating", record["uuid"])
    _start_claim(svc, record["uuid"], req.caller_project, cap)
    return record


def _claim(svc: Services, values: dict[str, Any], demand: Demand, tenant: Tenancy, nodes: list[Record], *,
           check_instance: bool, project: str | None, cap: int, existing: Record | None = None) -> Record:
    """Claim a node in up to CLAIM_ROUNDS rounds; the allocation ends ``active`` or ``error``."""
    uuid = values["uuid"]
    tried = 0
    for _round in range(CLAIM_ROUNDS):
        if not nodes:
            break
        tried += len(nodes)
        record = svc.allocations.claim(
            values, nodes, check_instance=check_instance, project=project, cap=cap, existing=existing
        )
        if record is not None:
            if record["state"] == "active":
                LOG.info("Allocation %s: claimed node %s", record["uuid"], record["node_uuid"])
            return record
        nodes = find_nodes(svc, demand, tenant)
    error = _no_nodes_error(demand) if tried == 0 else f"could not reserve any of {tried} suitable nodes"
    return _fail(svc, values, _failed(uuid, error), existing)


def _fail(svc: Services, values: dict[str, Any], message: str, existing: Record | None) -> Record:
    LOG.warning("%s", message)
    if existing is None:
        return svc.allocations.create(dict(values, state="error", last_error=message))

    def mutate(current: Record) -> dict[str, Any]:
        return {"state": "error", "last_error": message} if current["state"] == "allocating" else {}

    return svc.allocations.update(existing["uuid"], mutate)


def _start_claim(svc: Services, uuid: str, project: str | None, cap: int) -> None:
    """Process the allocation right after the answer: in a conductor worker, else in a thread of its own."""
    conductor = svc.conductor
    if conductor is not None and conductor.started:
        with contextlib.suppress(errors.NoFreeWorker):
            conductor.pool.spawn(process, svc, uuid, project, cap)
            return
    threading.Thread(target=process, args=(svc, uuid, project, cap), name="allocation-claim", daemon=True).start()


def process(svc: Services, uuid: str, project: str | None = None, cap: int = 0) -> Record | None:
    """Claim a node for the stored ``allocating`` allocation ``uuid`` (Ironic's ``do_allocate``).

    The request is read back from the row (resource class, traits, candidate nodes, owner, flavor), so a
    resumed allocation is processed exactly as a fresh one. Any refusal ends it in ``error`` with the reason.
    """
    try:
        record = svc.allocations.get(uuid)
    except errors.NotFound:
        return None  # deleted before it was processed
    if record["state"] != "allocating":
        return record
    values = {k: record[k] for k in ("uuid", "name", "owner", "extra", "resource_class", "traits",
                                     "candidate_nodes", "flavor")}
    try:
        req = AllocationRequest(resource_class=record["resource_class"], traits=record["traits"] or (),
                                owner=record["owner"], flavor=record["flavor"], name=record["name"])
        demand = demand_for(svc, req, record["candidate_nodes"] or None)
        tenant = tenancy.load(svc)
        return _claim(svc, values, demand, tenant, find_nodes(svc, demand, tenant), check_instance=True,
                      project=project, cap=cap, existing=record)
    except errors.NotFound as exc:
        if exc.message.startswith("Allocation "):
            return None  # deleted while it was processed
        return _quiet_fail(svc, values, _failed(uuid, exc.message.rstrip(".")), record)
    except errors.IronworksError as exc:
        return _quiet_fail(svc, values, _failed(uuid, exc.message.rstrip(".")), record)
    except Exception as exc:  # noqa: BLE001 - a worker must leave the allocation in a final state
        LOG.exception("Allocation %s could not be processed", uuid)
        return _quiet_fail(svc, values, f"Unexpected exception during allocation: {type(exc).__name__}", record)


def _quiet_fail(svc: Services, values: dict[str, Any], message: str, record: Record) -> Record | None:
    try:
        return _fail(svc, values, message, record)
    except errors.NotFound:
        return None  # deleted meanwhile: nothing left to mark


def resume(svc: Services) -> int:
    """Process every allocation left ``allocating`` (a crash between the answer and the claim)."""
    left = svc.allocations.list(filters={"state": "allocating"})
    for record in left:
        _start_claim(svc, record["uuid"], None, 0)
    if left:
        LOG.info("Resuming %d allocation(s) left allocating", len(left))
    return len(left)


def backfill(svc: Services, req: AllocationRequest, uuid: str | None) -> Record:
    """Record an allocation for a node that is already deployed (Ironic API 1.58)."""
    if not req.node:
        raise errors.InvalidParameterValue("The node field must name a node.")
    project = req.caller_project

    def foreign(node: Record) -> bool:
        return project is not None and project not in (node["owner"], node["lessee"])

    node = svc.nodes.get(req.node)
    if foreign(node):
        raise errors.NodeNotFound(node=req.node)
    candidates = resolve_candidates(svc, req.candidate_nodes, project) if req.candidate_nodes else []
    traits = [validate_trait(t) for t in req.traits]
    allocation_uuid: str = uuid or node["instance_uuid"] or new_uuid()
    values = {
        "uuid": allocation_uuid,
        "name": req.name,
        "owner": req.owner,
        "extra": req.extra or {},
        "resource_class": req.resource_class or node["resource_class"],
        "traits": traits,
        "candidate_nodes": candidates,
        "flavor": None,
    }

    def check(current: Record) -> None:
        if foreign(current):  # changed hands since the first read: still nothing about it is told
            raise errors.NodeNotFound(node=req.node)
        problems = []
        if current["provision_state"] != states.ACTIVE:
            problems.append(
                f'Node must be in the "active" state, but the current state is "{current["provision_state"]}"'
            )
        if req.resource_class and current["resource_class"] != req.resource_class:
            problems.append(
                f"Resource class {current['resource_class']} does not match the requested "
                f"resource class {req.resource_class}"
            )
        if traits and not set(traits) <= set(current["traits"]):
            problems.append(f"List of traits {current['traits']} does not match the requested traits {traits}")
        if candidates and current["uuid"] not in candidates:
            problems.append(f"Candidate nodes must be empty or contain the target node, but got {candidates}")
        if problems:
            raise errors.InvalidParameterValue(
                _failed(
                    allocation_uuid, f"Cannot backfill an allocation for node {current['uuid']}: {'; '.join(problems)}"
                )
            )
        if current["allocation_id"] is not None or current["instance_uuid"] not in (None, allocation_uuid):
            raise errors.NodeAssociated(node=current["uuid"], instance=current["instance_uuid"])

    record = svc.allocations.backfill(values, node["uuid"], check, project)
    LOG.info("Allocation %s backfilled for node %s", record["uuid"], node["uuid"])
    return record


def verify_release(allocation: Record, node: Record | None) -> None:
    """Ironic's rules for removing an allocation from its node (maintenance lifts them)."""
    if node is None:
        return
    if node["reservation"]:
        raise errors.NodeLocked(node=node["uuid"], host=node["reservation"])
    if node["maintenance"]:
        return
    if node["target_provision_state"] and node["provision_state"] not in states.UPDATE_ALLOWED_STATES:
        raise errors.InvalidState(
            f"Cannot remove allocation {allocation['uuid']} for node {node['uuid']}, because the node is in state "
            f"{node['provision_state']} where updates are not allowed (and maintenance mode is off)"
        )
    if node["provision_state"] == states.ACTIVE:
        raise errors.InvalidState(
            f"Cannot remove allocation {allocation['uuid']} for node {node['uuid']}, because the node is active "
            "(and maintenance mode is off)"
        )


def release(svc: Services, ident: str) -> Record:
    """Delete an allocation; its node loses instance_uuid and allocation_uuid in the same transaction."""
    record = svc.allocations.destroy(ident, verify_release)
    LOG.info("Deleted allocation %s (node %s released)", record["uuid"], record["node_uuid"])
    return record
