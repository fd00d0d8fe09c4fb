"""Trait-based networking (TBN, API 1.111), as Ironic's ``_vif_attach_tbn``: the NIC a VIF attaches to is planned
by operator rules (``rules.py``) matched against the node's ``instance_info["traits"]``.

Off unless ``trait_based_networking_enabled``. Then, inside the VIF attach transaction (networking/vifs.py):

* the rules file (``trait_based_networking_config_file``) is read on each attach, so edits apply at once as
  Ironic's reload on change; an invalid file is logged with each reason and gives no traits, as Ironic;
* no trait applies: the default trait (setting ``trait_based_networking_enable_default_trait``), else a 400
  when ``trait_based_networking_raise_when_no_match`` (Ironic's options and defaults), else Ironworks' ordinary
  NIC choice (Ironic would attach nothing and answer success);
* a planned ``group_and_attach_ports`` creates a portgroup ``tbn_dyn_portgroup_<8 chars>`` with
  ``dynamic_portgroup=true`` on the first port's physical network, moves the chosen ports into it, and the VIF
  attaches to it; detaching the VIF deletes the portgroup and frees the ports (``teardown``).
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update

from ironworks import errors
from ironworks.db.models import Port, Portgroup, utcnow
from ironworks.db.repos.base import Record
from ironworks.db.repos.networks import NetLookup
from ironworks.identifiers import new_uuid
from ironworks.networking.trait_networking import rules
from ironworks.networking.trait_networking.expressions import NetworkFacts, Subject
from ironworks.settings import Settings

LOG = logging.getLogger(__name__)
PORTGROUPS = cast(Table, Portgroup.__table__)
PORTS = cast(Table, Port.__table__)
_VIF_KEY = "tenant_vif_port_id"


class NoTraitsApplicable(errors.InvalidParameterValue):
    """Ironic's TBNNoTraitsApplicableToNode (a 400 here: the request cannot be served on this node)."""


class NoPortMatches(errors.InvalidParameterValue):
    """Ironic's TBNNoPortMatchesFound."""


@dataclass(frozen=True)
class Placement:
    kind: str  # "port" | "portgroup"
    uuid: str
    reason: str


def _free(rec: Record) -> bool:
    return not (rec.get("internal_info") or {}).get(_VIF_KEY)


def _subject(rec: Record, is_portgroup: bool) -> Subject:
    return Subject(
        is_portgroup,
        address=rec.get("address"),
        category=rec.get("category"),
        physical_network=rec.get("physical_network"),
        vendor=rec.get("vendor"),
    )


def place(
    settings: Settings, lk: NetLookup, node: Record, vif_id: str, network: Record, taken: set[str]
) -> Placement | None:
    """Plan and carry out the VIF's NIC by the TBN rules; None: TBN is off or declines (ordinary NIC choice)."""
    if not settings.trait_based_networking_enabled:
        return None
    traits, reasons = rules.read_rules(settings.trait_based_networking_config_file)
    for reason in reasons:
        LOG.error(
            "Trait based networking rules %s are invalid: %s", settings.trait_based_networking_config_file, reason
        )
    node_traits = (node.get("instance_info") or {}).get("traits") or []
    chosen = rules.applicable(traits, node_traits, use_default=settings.trait_based_networking_enable_default_trait)
    if not chosen:
        if settings.trait_based_networking_raise_when_no_match:
            raise NoTraitsApplicable(
                err=f"No Trait Based Networking traits were found which could apply to the node {node['uuid']}."
            )
        LOG.warning("No trait based networking trait applies to node %s: ordinary NIC choice", node["uuid"])
        return None
    ports = [p for p in lk.ports(node["id"]) if _free(p) and p["uuid"] not in taken]
    groups = [g for g in lk.portgroups(node["id"]) if _free(g) and g["uuid"] not in taken]
    candidates = [
        rules.Candidate(
            p["uuid"],
            p["id"],
            _subject(p, False),
            bool(p.get("available_for_dynamic_portgroup"))
            and not p.get("portgroup_id")
            and not p.get("portgroup_uuid"),
        )
        for p in ports
    ]
    pg_candidates = [rules.Candidate(g["uuid"], g["id"], _subject(g, True)) for g in groups]
    facts = NetworkFacts(network.get("name"), frozenset(t for t in (network.get("tags") or []) if isinstance(t, str)))
    result = rules.plan(chosen, candidates, pg_candidates, facts)
    if result is None:
        if settings.trait_based_networking_raise_when_no_match:
            raise NoPortMatches(
                err=f"No matching ports were found when planning the networking for node "
                f"{node['uuid']} and VIF {vif_id}."
            )
        LOG.warning("No trait based networking action matched node %s: ordinary NIC choice", node["uuid"])
        return None
    why = f"trait {result.trait}"
    if result.kind != "group":
        return Placement(result.kind, str(result.uuid), why)
    return Placement("portgroup", _create_group(lk, node, result.group), why + ": dynamic portgroup")


def _create_group(lk: NetLookup, node: Record, members: tuple[rules.Candidate, ...]) -> str:
    alphabet = string.ascii_letters + string.digits
    uuid = new_uuid()
    for _ in range(3):
        name = "tbn_dyn_portgroup_" + "".join(secrets.choice(alphabet) for _ in range(8))
        taken = lk.session.execute(select(PORTGROUPS.c.id).where(PORTGROUPS.c.name == name)).first()
        if taken is None:
            break
    else:
        raise errors.Conflict("Could not create dynamic portgroup due to duplicate name collisions.")
    now = utcnow()
    result = lk.session.execute(
        insert(PORTGROUPS).values(
            uuid=uuid,
            name=name,
            node_id=node["id"],
            address=None,
            mode=None,
            properties={},
            standalone_ports_supported=True,
            physical_network=members[0].subject.physical_network,
            extra={},
            internal_info={},
            dynamic_portgroup=True,
            created_at=now,
        )
    )
    pg_id = cast(Any, result).inserted_primary_key[0]
    lk.session.execute(
        update(PORTS).where(PORTS.c.uuid.in_([m.uuid for m in members])).values(portgroup_id=pg_id, updated_at=now)
    )
    LOG.info("Created dynamic portgroup %s of node %s from ports %s", name, node["uuid"], [m.uuid for m in members])
    return uuid


def teardown(lk: NetLookup, kind: str, uuid: str) -> Callable[[NetLookup], None]:
    """If the VIF's NIC is a dynamic portgroup: free its ports and delete it, as Ironic's vif_detach.
    Returns the work that puts it back (for a live detach that fails)."""
    if kind != "portgroup":
        return lambda _lk: None
    row = lk.session.execute(select(PORTGROUPS).where(PORTGROUPS.c.uuid == uuid)).mappings().first()
    if row is None or not row["dynamic_portgroup"]:
        return lambda _lk: None
    saved = dict(row)
    members = [r[0] for r in lk.session.execute(select(PORTS.c.id).where(PORTS.c.portgroup_id == saved["id"]))]
    lk.session.execute(update(PORTS).where(PORTS.c.portgroup_id == saved["id"]).values(portgroup_id=None))
    lk.session.execute(delete(PORTGROUPS).where(PORTGROUPS.c.id == saved["id"]))
    LOG.info("Deleted dynamic portgroup %s and freed its %d ports", saved["name"], len(members))

    def restore(lk2: NetLookup) -> None:
        lk2.session.execute(insert(PORTGROUPS).values(**saved))
        if members:
            lk2.session.execute(update(PORTS).where(PORTS.c.id.in_(members)).values(portgroup_id=saved["id"]))

    return restore


__all__ = ["NoPortMatches", "NoTraitsApplicable", "Placement", "place", "teardown"]
