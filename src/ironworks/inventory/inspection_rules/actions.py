"""Actions, as Ironic's ``inspection_rules/actions.py``, applied to a :class:`Target`, not to the database.

A ``Target`` holds copies of the node's writable fields, its traits and its ports; actions change it and
record what changed; the inspection flow writes the changes back in its own transaction. Paths are in slash or
dot notation (``properties/cpu_arch``, ``driver_info.ipmi_address``). Which node fields a rule may set is
``NODE_FIELDS`` (Ironic lets a rule set any attribute, even ``provision_state``; here the state, the interfaces
and the identifiers stay the conductor's), which port fields ``PORT_FIELDS``.
"""

from __future__ import annotations

import copy
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ironworks import errors
from ironworks.identifiers import validate_trait
from ironworks.inventory.inspection_rules.errors import (
    HardwareInspectionFailure,
    RuleActionFailure,
    RuleExecutionFailure,
)
from ironworks.inventory.inspection_rules.interpolate import interpolate
from ironworks.inventory.inspection_rules.signature import Signature, normalize_path

LOG = logging.getLogger(__name__)

NODE_FIELDS = frozenset(
    {
        "properties",
        "extra",
        "driver_info",
        "instance_info",
        "description",
        "resource_class",
        "owner",
        "lessee",
        "shard",
        "conductor_group",
    }
)
PORT_FIELDS = frozenset(
    {"extra", "local_link_connection", "physical_network", "pxe_enabled", "name", "description", "is_smartnic"}
)
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
API_CALL_MAX_TIMEOUT = 30.0
API_CALL_MAX_RETRIES = 5


@dataclass
class Target:
    """What a rule may change: the node's fields, its traits, its ports (by uuid) and the plugin data."""

    node: dict[str, Any]
    traits: list[str]
    ports: dict[str, dict[str, Any]]
    plugin_data: dict[str, Any]
    changed: set[str] = field(default_factory=set)
    changed_ports: set[str] = field(default_factory=set)
    traits_changed: bool = False

    @classmethod
    def of(
        cls, node: dict[str, Any], traits: list[str], ports: list[dict[str, Any]], plugin_data: dict[str, Any]
    ) -> Target:
        fields = {k: copy.deepcopy(node.get(k)) for k in NODE_FIELDS}
        return cls(
            fields,
            list(traits),
            {p["uuid"]: {k: copy.deepcopy(p.get(k)) for k in PORT_FIELDS} for p in ports},
            plugin_data,
        )


_DICT_FIELDS = frozenset({"properties", "extra", "driver_info", "instance_info", "local_link_connection"})
_TEXT_LIMITS = {
    "description": 255,
    "resource_class": 80,
    "owner": 255,
    "lessee": 255,
    "shard": 255,
    "conductor_group": 255,
    "physical_network": 64,
    "name": 255,
}


def check_types(target: Target) -> None:
    """The changed fields still fit their columns (a rule cannot store a list as ``properties``)."""
    fields = [(f, target.node[f]) for f in target.changed]
    fields += [(f, v) for uuid in target.changed_ports for f, v in target.ports[uuid].items()]
    for name, value in fields:
        if name in _DICT_FIELDS:
            ok = isinstance(value, dict)
        elif name in ("pxe_enabled", "is_smartnic"):
            ok = isinstance(value, bool)
        else:
            ok = value is None or (isinstance(value, str) and len(value) <= _TEXT_LIMITS.get(name, 255))
        if not ok:
            raise RuleActionFailure(reason=f"Failed to set attribute {name}: {value!r} is not a valid value")


def _walk(container: dict[str, Any], parts: list[str], allowed: frozenset[str], create: bool) -> Any:
    if parts[0] not in allowed:
        raise KeyError(parts[0])
    current: Any = container
    for part in parts[:-1]:
        current = current.setdefault(part, {}) if create else current[part]
        if current is None and create:
            raise TypeError(f"{part} is null")
    return current


def _set(container: dict[str, Any], path: str, value: Any, allowed: frozenset[str]) -> None:
    parts = normalize_path(path)
    parent = _walk(container, parts, allowed, True)
    parent[parts[-1]] = value


def _extend(container: dict[str, Any], path: str, value: Any, unique: bool, allowed: frozenset[str]) -> None:
    parts = normalize_path(path)
    parent = _walk(container, parts, allowed, True)
    current = parent.get(parts[-1]) if len(parts) == 1 else parent.setdefault(parts[-1], [])
    if current is None:
        current = parent[parts[-1]] = []
    if not isinstance(current, list):
        raise RuleActionFailure(reason=f"Cannot extend non-list attribute {path} with value {value}")
    if not unique or value not in current:
        current.append(value)


def _delete(container: dict[str, Any], path: str, allowed: frozenset[str]) -> None:
    parts = normalize_path(path)
    parent = _walk(container, parts, allowed, False)
    if len(parts) == 1:
        parent[parts[0]] = {} if isinstance(parent[parts[0]], dict) else None
    else:
        del parent[parts[-1]]


def _guard(message: str, fn: Callable[[], None]) -> None:
    try:
        fn()
    except HardwareInspectionFailure:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise RuleActionFailure(reason=f"{message}: {exc!r}") from None


# --- the actions -------------------------------------------------------------------------------------------
def _fail(t: Target, msg: Any) -> None:
    raise HardwareInspectionFailure(error=str(msg))


def _log(t: Target, msg: Any, level: Any = "info") -> None:
    level = str(level).lower()
    if level not in LOG_LEVELS:
        raise RuleExecutionFailure(reason=f"Invalid log level: {level}. Choose from {set(LOG_LEVELS)}")
    getattr(LOG, level)("%s", msg)


def _set_attribute(t: Target, path: Any, value: Any) -> None:
    _guard(f"Failed to set attribute {path} with value {value}", lambda: _set(t.node, str(path), value, NODE_FIELDS))
    t.changed.add(normalize_path(str(path))[0])


def _extend_attribute(t: Target, path: Any, value: Any, unique: Any = False) -> None:
    _guard(f"Failed to extend attribute {path}", lambda: _extend(t.node, str(path), value, bool(unique), NODE_FIELDS))
    t.changed.add(normalize_path(str(path))[0])


def _del_attribute(t: Target, path: Any) -> None:
    _guard(f"Failed to delete attribute at {path}", lambda: _delete(t.node, str(path), NODE_FIELDS))
    t.changed.add(normalize_path(str(path))[0])


def _add_trait(t: Target, name: Any) -> None:
    try:
        validate_trait(name)
    except errors.IronworksError as exc:
        raise RuleActionFailure(reason=f"Failed to add new trait {name}: {exc.message}") from None
    if name not in t.traits:
        t.traits.append(name)
        t.traits_changed = True


def _remove_trait(t: Target, name: Any) -> None:
    if name in t.traits:
        t.traits.remove(name)
        t.traits_changed = True
    else:
        LOG.warning("Failed to remove trait %s: the node does not have it", name)


def _capabilities(t: Target) -> str:
    props = t.node.get("properties")
    if not isinstance(props, dict):
        props = t.node["properties"] = {}
    return str(props.get("capabilities") or "")


def _set_capability(t: Target, name: Any, value: Any) -> None:
    if not isinstance(name, str) or not isinstance(value, str):
        raise RuleActionFailure(reason=f"Failed to set capability {name}: name and value must be strings")
    caps = _capabilities(t)
    new = f"{name}:{value}"
    t.node["properties"]["capabilities"] = f"{caps},{new}" if caps else new  # a duplicate is added, as Ironic
    t.changed.add("properties")


def _unset_capability(t: Target, name: Any) -> None:
    caps = _capabilities(t).split(",")
    t.node["properties"]["capabilities"] = ",".join(c for c in caps if not c.startswith(f"{name}:"))
    t.changed.add("properties")


def _keys(path: Any) -> list[str]:
    return str(path).split(".")


def _set_plugin_data(t: Target, path: Any, value: Any) -> None:
    def go() -> None:
        keys = _keys(path)
        current = t.plugin_data
        for key in keys[:-1]:
            current = current.setdefault(key, {})
        current[keys[-1]] = value

    _guard(f"Failed to set plugin data at {path}", go)


def _extend_plugin_data(t: Target, path: Any, value: Any, unique: Any = False) -> None:
    def go() -> None:
        keys = _keys(path)
        current = t.plugin_data
        for key in keys[:-1]:
            current = current.setdefault(key, {})
        existing = current.get(keys[-1]) or []
        if not isinstance(existing, list):
            raise TypeError(f"{path} is not a list")
        current[keys[-1]] = existing
        if not unique or value not in existing:
            existing.append(value)

    _guard(f"Failed to extend plugin data at {path}", go)


def _unset_plugin_data(t: Target, path: Any) -> None:
    keys = _keys(path)
    parents = [t.plugin_data]
    for key in keys[:-1]:
        nxt = parents[-1].get(key) if isinstance(parents[-1], dict) else None
        if not isinstance(nxt, dict):
            LOG.warning("Path %s not found", path)
            return
        parents.append(nxt)
    current = parents[-1]
    if keys[-1] not in current:
        LOG.warning("Path %s not found", path)
        return
    if len(current) == 1 and len(keys) > 1:  # Ironic drops the emptied parent too
        del parents[-2][keys[-2]]
    else:
        del current[keys[-1]]


def _port(t: Target, port_id: Any) -> dict[str, Any]:
    port = t.ports.get(str(port_id))
    if port is None:
        raise errors.PortNotFound(port=port_id)
    t.changed_ports.add(str(port_id))
    return port


def _set_port_attribute(t: Target, port_id: Any, path: Any, value: Any) -> None:
    port = _port(t, port_id)
    _guard(f"Failed to set attribute {path} for port {port_id}", lambda: _set(port, str(path), value, PORT_FIELDS))


def _extend_port_attribute(t: Target, port_id: Any, path: Any, value: Any, unique: Any = False) -> None:
    port = _port(t, port_id)
    _guard(
        f"Failed to extend attribute {path} for port {port_id}",
        lambda: _extend(port, str(path), value, bool(unique), PORT_FIELDS),
    )


def _del_port_attribute(t: Target, port_id: Any, path: Any) -> None:
    port = _port(t, port_id)
    _guard(f"Failed to delete attribute {path} for port {port_id}", lambda: _delete(port, str(path), PORT_FIELDS))


def _api_call(
    t: Target,
    url: Any,
    headers: Any = None,
    proxies: Any = None,
    timeout: Any = 5,
    retries: Any = 3,
    backoff_factor: Any = 0.3,
) -> None:
    """A GET to ``url``; a failure (or an HTTP error status) fails the rule. Proxies are not supported."""
    try:
        timeout = min(float(timeout), API_CALL_MAX_TIMEOUT)
        if timeout <= 0:
            raise ValueError("timeout must be greater than zero")
        attempts = 1 + max(0, min(int(retries), API_CALL_MAX_RETRIES))
        if not str(url).startswith(("http://", "https://")):
            raise ValueError(f"only http(s) URLs are allowed: {url}")
    except (TypeError, ValueError) as exc:
        raise RuleActionFailure(reason=f"Invalid parameter: {exc}") from None
    request = urllib.request.Request(str(url), headers=dict(headers or {}), method="GET")
    last: Exception | None = None
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=timeout):  # noqa: S310 - http(s) only, checked above
                return
        except urllib.error.HTTPError as exc:
            last = exc
            if exc.code not in (429, 500, 502, 503, 504):
                break
        except (urllib.error.URLError, OSError) as exc:
            last = exc
    raise RuleActionFailure(reason=f"Request to {url} failed: {last}")


def _sig(
    name: str,
    fn: Callable[..., Any],
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    formatted: tuple[str, ...] = ("value",),
) -> Signature:
    return Signature(name, fn, required, optional, formatted)


ACTIONS: dict[str, Signature] = {
    "fail": _sig("fail", _fail, ("msg",), formatted=()),
    "log": _sig("log", _log, ("msg",), ("level",), ("msg",)),
    "set-attribute": _sig("set-attribute", _set_attribute, ("path", "value")),
    "extend-attribute": _sig("extend-attribute", _extend_attribute, ("path", "value"), ("unique",)),
    "del-attribute": _sig("del-attribute", _del_attribute, ("path",), formatted=()),
    "set-capability": _sig("set-capability", _set_capability, ("name", "value")),
    "unset-capability": _sig("unset-capability", _unset_capability, ("name",), formatted=()),
    "add-trait": _sig("add-trait", _add_trait, ("name",), formatted=()),
    "remove-trait": _sig("remove-trait", _remove_trait, ("name",), formatted=()),
    "set-plugin-data": _sig("set-plugin-data", _set_plugin_data, ("path", "value")),
    "extend-plugin-data": _sig("extend-plugin-data", _extend_plugin_data, ("path", "value"), ("unique",)),
    "unset-plugin-data": _sig("unset-plugin-data", _unset_plugin_data, ("path",), formatted=()),
    "set-port-attribute": _sig("set-port-attribute", _set_port_attribute, ("port_id", "path", "value")),
    "extend-port-attribute": _sig(
        "extend-port-attribute", _extend_port_attribute, ("port_id", "path", "value"), ("unique",)
    ),
    "del-port-attribute": _sig("del-port-attribute", _del_port_attribute, ("port_id", "path"), formatted=()),
    "api-call": _sig(
        "api-call", _api_call, ("url",), ("headers", "proxies", "timeout", "retries", "backoff_factor"), ("url",)
    ),
}


def _run_once(sig: Signature, action: dict[str, Any], target: Target, context: dict[str, Any], looping: bool) -> None:
    named = sig.validate(action.get("args", {}))
    args = {
        k: interpolate(v, context, looping=looping, op=sig.name) if (k in sig.formatted or looping) else v
        for k, v in named.items()
    }
    sig.fn(target, **args)


def execute(action: dict[str, Any], target: Target, context: dict[str, Any]) -> None:
    """One action (with its ``loop``: once per item, or once with a dict as the item)."""
    sig = ACTIONS.get(action["op"])
    if sig is None:
        raise RuleExecutionFailure(
            reason=f"Unsupported action: '{action['op']}'. Supported actions are: {', '.join(ACTIONS)}."
        )
    loop = action.get("loop") or []
    if not loop:
        _run_once(sig, action, target, context, False)
    elif isinstance(loop, dict):
        _run_once(sig, action, target, {**context, "item": loop}, True)
    else:
        for item in loop:
            _run_once(sig, action, target, {**context, "item": item}, True)
