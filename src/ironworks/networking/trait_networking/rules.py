"""Trait-based networking rules: the operator's YAML file, validated, and the plan for one VIF (pure).

The file has Ironic's shape (``ironic/common/trait_based_networking/config_file.py``)::

    CUSTOM_BOND:                 # a trait, matched against the node's instance_info["traits"]
      order: 1                   # optional; traits apply in ascending order
      actions:
        - action: group_and_attach_ports
          filter: "port.vendor == 'acme'"
          min_count: 2           # group_and_attach_ports: at least 2 (Ironic's rule)
          max_count: 4

Actions: ``attach_port``, ``attach_portgroup`` (the first free port / portgroup, newest first, that passes the
filter together with the VIF's network) and ``group_and_attach_ports`` (min_count..max_count free ports that
are ``available_for_dynamic_portgroup``, on one physical network, grouped into a new dynamic portgroup).

Refused at load time, each with a reason (an Ironworks VIF sits on exactly one port or portgroup): ``bond_ports``
(Ironic does not implement it either), a trait with more than one action, ``attach_port``/``attach_portgroup``
with counts other than one, unknown keys. Ironic's predefined default trait (``CUSTOM_DEFAULT_TBN_TRAIT``: attach
the first free port) applies when no trait does, unless the file defines its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import yaml

from ironworks.networking.trait_networking.expressions import (
    Expression,
    ExpressionError,
    NetworkFacts,
    Subject,
    parse,
)

MAX_FILE_BYTES = 1 << 20
MAX_TRAITS = 1000
DEFAULT_TRAIT_NAME = "CUSTOM_DEFAULT_TBN_TRAIT"
ACTIONS = frozenset({"attach_port", "attach_portgroup", "group_and_attach_ports"})
_ACTION_KEYS = frozenset({"action", "filter", "min_count", "max_count"})


@dataclass(frozen=True)
class Action:
    kind: str
    filter: Expression
    min_count: int | None = None
    max_count: int | None = None


@dataclass(frozen=True)
class Trait:
    name: str
    action: Action
    order: int = 1


DEFAULT_TRAIT = Trait(DEFAULT_TRAIT_NAME, Action("attach_port", parse("port.is_port || port.is_portgroup")))


@dataclass(frozen=True)
class Candidate:
    """A free port or portgroup of the node, as planning sees it."""

    uuid: str
    id: int
    subject: Subject
    available_for_dynamic_portgroup: bool = False


@dataclass(frozen=True)
class Plan:
    """Attach the VIF to ``uuid`` (a port or portgroup), or group ``group`` into a new dynamic portgroup."""

    trait: str
    kind: str  # "port" | "portgroup" | "group"
    uuid: str | None = None
    group: tuple[Candidate, ...] = ()


def _count(trait: str, key: str, value: Any, reasons: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1024:
        reasons.append(f"'{trait}': {key} must be an integer between 0 and 1024, got {value!r}")
        return None
    return value


def _action(trait: str, raw: Any, reasons: list[str]) -> Action | None:
    if not isinstance(raw, dict):
        reasons.append(f"'{trait}': an action must be a mapping")
        return None
    before = len(reasons)
    for key in sorted(set(raw) - _ACTION_KEYS, key=str):
        reasons.append(f"'{trait}' trait action has unrecognized key '{key}'")
    for key in ("action", "filter"):
        if key not in raw:
            reasons.append(f"'{trait}' trait is missing '{key}' key")
    kind = raw.get("action")
    if "action" in raw and kind not in ACTIONS:
        why = " (not supported: Ironworks attaches a VIF to one port or portgroup)" if kind == "bond_ports" else ""
        reasons.append(f"'{trait}' trait action has unrecognized action '{kind}'{why}")
    expression = None
    if "filter" in raw:
        try:
            expression = parse(raw["filter"])
        except ExpressionError as exc:
            reasons.append(f"'{trait}' trait action has malformed filter expression: {exc}")
    lo = _count(trait, "min_count", raw.get("min_count"), reasons)
    hi = _count(trait, "max_count", raw.get("max_count"), reasons)
    if kind == "group_and_attach_ports":
        if lo is None or lo < 2:
            reasons.append(f"'{trait}': group_and_attach_ports must have a min_count of 2 or greater, got {lo!r}")
        elif hi is not None and hi < lo:
            reasons.append(f"'{trait}': group_and_attach_ports max_count {hi} is below its min_count {lo}")
    elif kind in ACTIONS and not ((lo is None and hi in (None, 1)) or (lo in (0, 1) and hi == 1)):
        reasons.append(f"'{trait}': {kind} attaches one NIC: min_count/max_count other than 1 are not supported")
    if len(reasons) > before or expression is None:
        return None
    return Action(str(kind), expression, lo, hi)


def load_rules(data: Any) -> tuple[list[Trait], list[str]]:
    """The traits of a parsed rules document and the reasons it is refused (empty: valid)."""
    reasons: list[str] = []
    if not isinstance(data, dict):
        return [], ["the rules file must be a mapping of trait names to {actions: [...]}"]
    if len(data) > MAX_TRAITS:
        return [], [f"the rules file defines more than {MAX_TRAITS} traits"]
    traits = []
    for name, members in data.items():
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            reasons.append(f"trait name {str(name)[:64]!r} must be a string of 1 to 255 characters")
            continue
        if not isinstance(members, dict) or "actions" not in members:
            reasons.append(f"'{name}' trait does not include an 'actions' key")
            continue
        for key in sorted(set(members) - {"actions", "order"}, key=str):
            reasons.append(f"'{name}' trait has unrecognized key '{key}'")
        order = members.get("order", 1)
        if isinstance(order, bool) or not isinstance(order, int):
            reasons.append(f"'{name}': order must be an integer")
        actions = members["actions"]
        if not isinstance(actions, list):
            reasons.append(f"'{name}.actions' does not consist of a list of actions")
            continue
        if len(actions) != 1:
            reasons.append(
                f"'{name}' has {len(actions)} actions: Ironworks supports exactly one action per trait "
                "(a VIF is attached to one port or portgroup)"
            )
            continue
        action = _action(name, actions[0], reasons)
        if action is not None and isinstance(order, int):
            traits.append(Trait(name, action, order))
    return ([] if reasons else traits), reasons


def read_rules(path: str) -> tuple[list[Trait], list[str]]:
    """Load the rules file at ``path`` (bounded in size); a missing or unreadable file is a reason too."""
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            return [], [f"{path} is larger than {MAX_FILE_BYTES} bytes"]
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [], [f"cannot read {path}: {exc}"]
    return load_rules(data)


def applicable(traits: list[Trait], node_traits: Any, *, use_default: bool) -> list[Trait]:
    """The traits naming one of the node's instance traits, in order; else the default trait if allowed."""
    names = {t for t in node_traits if isinstance(t, str)} if isinstance(node_traits, list) else set()
    found = sorted((t for t in traits if t.name in names), key=lambda t: t.order)
    if found or not use_default:
        return found
    defined = [t for t in traits if t.name == DEFAULT_TRAIT_NAME]
    return defined[:1] or [DEFAULT_TRAIT]


def _group(action: Action, ports: list[Candidate], network: NetworkFacts) -> tuple[Candidate, ...] | None:
    chosen: list[Candidate] = []
    for port in ports:
        if not port.available_for_dynamic_portgroup or not action.filter.eval(port.subject, None):
            continue
        if chosen and port.subject.physical_network != chosen[0].subject.physical_network:
            continue  # a portgroup's ports share one physical network
        chosen.append(port)
        if len(chosen) == action.max_count:
            break
    if len(chosen) < (action.min_count or 2) or not action.filter.eval(chosen[0].subject, network):
        return None
    return tuple(chosen)


def plan(
    traits: list[Trait], ports: list[Candidate], portgroups: list[Candidate], network: NetworkFacts
) -> Plan | None:
    """The first trait (in order) whose action matches the free ``ports``/``portgroups``; None: none does."""
    ports = sorted(ports, key=lambda c: c.id, reverse=True)  # newest first, as Ironic
    portgroups = sorted(portgroups, key=lambda c: c.id, reverse=True)
    for trait in traits:
        action = trait.action
        if action.kind == "group_and_attach_ports":
            group = _group(action, ports, network)
            if group is not None:
                return Plan(trait.name, "group", group=group)
            continue
        pool, kind = (ports, "port") if action.kind == "attach_port" else (portgroups, "portgroup")
        for nic in pool:
            if action.filter.eval(nic.subject, network):
                return Plan(trait.name, kind, uuid=nic.uuid)
    return None
