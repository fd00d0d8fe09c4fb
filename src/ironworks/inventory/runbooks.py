"""Runbooks (API 1.92; traits and description 1.112): named steps for manual cleaning and servicing.

A runbook has ``name`` (a trait before 1.112, Ironic's rule; from 1.112 any name of ``A-Za-z0-9-._~``),
``steps`` (``{interface, step, args, order}``: ``interface`` among the clean/service step interfaces, ``order`` an
integer ≥ 0 or a string of digits, ``args`` optional; each ``interface.step`` at most once), ``disable_ramdisk``,
``public``, ``owner`` (a project), ``extra`` and, from 1.112, ``description`` and ``traits``.

Who sees what (Ironic's defaults, with Ironworks' roles): the operator (admin) everything; a project its own
runbooks and the public ones. A project's member creates runbooks owned by its project (another owner or
``public`` → 400) and changes or deletes only its own; only the operator sets ``owner`` or ``public``.

Using one (``runbook`` in ``PUT …/states/provision`` for ``clean`` and ``service``): the caller must see it,
and the node must allow it: before 1.112 the runbook's name is one of the node's traits; from 1.112 the node has
one of the runbook's traits (a runbook without traits is usable nowhere). Its steps replace ``clean_steps`` /
``service_steps`` (giving both → 400) and its ``disable_ramdisk`` is the request's.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.conductor.steps import STEP_INTERFACES
from ironworks.db.repos.base import Record
from ironworks.identifiers import is_uuid_like, new_uuid, normalize_uuid
from ironworks.inventory.deploy_templates import count_duplicates, schema_error, validate_name
from ironworks.resources import microversion as mv
from ironworks.resources import patch as jsonpatch

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[A-Za-z0-9\-._~]+$")
_STEP_KEYS = frozenset({"interface", "step", "args", "order"})
_BODY_KEYS = frozenset({"uuid", "name", "steps", "disable_ramdisk", "extra", "public", "owner"})
PATCHABLE = frozenset({"disable_ramdisk", "extra", "name", "owner", "public", "steps"})
INTERNAL = frozenset({"uuid", "created_at", "updated_at", "links", "id", "traits"})


def check_name(name: Any, relaxed: bool) -> str:
    """Before 1.112 a trait (as deploy templates); from 1.112 (and always in PATCH, Ironic's quirk) a logical name."""
    if not relaxed:
        return validate_name(name, "Runbook")
    if not isinstance(name, str):
        raise schema_error(f"{name!r} is not of type 'string'")
    if not 1 <= len(name) <= 255 or not _NAME_RE.match(name):
        raise schema_error(f"{name!r} does not match '^[A-Za-z0-9\\-._~]+$'")
    return name


def _order(value: Any) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise schema_error(f"{value!r} is not valid under any of the given schemas (order: an integer >= 0)")
    return value


def check_steps(steps: Any) -> list[dict[str, Any]]:
    """Ironic's RUNBOOK_STEP_SCHEMA and ``duplicate_steps``: 400 for any shape error or a repeated step."""
    if not isinstance(steps, list):
        raise schema_error(f"{steps!r} is not of type 'array'")
    if not steps:
        raise schema_error("[] should be non-empty")
    out: list[dict[str, Any]] = []
    for step in steps:
        if not isinstance(step, dict):
            raise schema_error(f"{step!r} is not of type 'object'")
        extra = sorted(set(step) - _STEP_KEYS)
        if extra:
            raise schema_error(
                f"Additional properties are not allowed ({', '.join(map(repr, extra))} "
                f"{'was' if len(extra) == 1 else 'were'} unexpected)"
            )
        for key in ("interface", "step", "order"):
            if key not in step:
                raise schema_error(f"{key!r} is a required property")
        if step["interface"] not in STEP_INTERFACES:
            raise schema_error(f"{step['interface']!r} is not one of {list(STEP_INTERFACES)!r}")
        if not isinstance(step["step"], str) or not step["step"]:
            raise schema_error(f"{step['step']!r} is not a non-empty string (step)")
        args = step.get("args", {})
        if not isinstance(args, dict):
            raise schema_error(f"{args!r} is not of type 'object'")
        out.append({"interface": step["interface"], "step": step["step"], "args": args, "order": _order(step["order"])})
    duplicates = count_duplicates(out)
    if duplicates:
        raise errors.InvalidParameterValue(
            "Duplicate deploy steps. A template cannot have multiple deploy steps with the same interface and "
            "step. Duplicates: " + "; ".join(f"interface: {i}, step: {s}" for i, s in duplicates)
        )
    return out


def _optional(body: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise schema_error(f"{value!r} is not of type '{ {bool: 'boolean', dict: 'object', str: 'string'}[kind] }'")
    return value


def _description(body: dict[str, Any]) -> str | None:
    value = _optional(body, "description", str, None)
    if value is not None and len(value) > 255:
        raise schema_error(f"{value!r} is too long")
    return value


def create(svc: Services, body: Any, project: str | None, version: int) -> Record:
    """``project`` is the caller's project, None for the operator (Ironic's system scope)."""
    if not isinstance(body, dict):
        raise errors.Invalid(f"Expected a JSON object, got {type(body).__name__}.")
    allowed = _BODY_KEYS | ({"description"} if version >= mv.RUNBOOK_TRAITS else set())
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise schema_error(f"Additional properties are not allowed ({', '.join(map(repr, unknown))} unexpected)")
    for key in ("name", "steps"):
        if key not in body:
            raise schema_error(f"{key!r} is a required property")
    owner = _optional(body, "owner", str, None)
    if owner is not None and len(owner) > 255:
        raise schema_error(f"{owner!r} is too long")
    public = _optional(body, "public", bool, False)
    values = {
        "uuid": normalize_uuid(body["uuid"]) if body.get("uuid") is not None else new_uuid(),
        "name": check_name(body["name"], relaxed=version >= mv.RUNBOOK_TRAITS),
        "steps": check_steps(body["steps"]),
        "disable_ramdisk": _optional(body, "disable_ramdisk", bool, False),
        "extra": _optional(body, "extra", dict, {}),
        "public": public,
        "owner": owner,
        "description": _description(body),
        "traits": [],
    }
    if project is not None:  # Ironic: a project-scoped creator owns what it creates
        if owner and owner != project:
            raise errors.Invalid(
                "Cannot create a runbook as a project scoped admin with an owner other than your own project."
            )
        if public:
            raise errors.Invalid("Cannot create a public runbook as a project scoped admin.")
        values["owner"] = project
    runbook = svc.runbooks.create(values)
    LOG.info("Created runbook %s (%s)", runbook["uuid"], runbook["name"])
    return runbook


def visible(runbook: Record, project: str | None) -> bool:
    return project is None or runbook["owner"] == project or bool(runbook["public"])


def find(svc: Services, ident: str, project: str | None, *, change: bool = False) -> Record:
    """The runbook by uuid or name; 403 when the caller may not see it (or, ``change``, may not change it)."""
    if not (is_uuid_like(ident) or ident):
        raise errors.RunbookNotFound(runbook=ident)
    runbook = svc.runbooks.get(ident)
    allowed = (project is None or runbook["owner"] == project) if change else visible(runbook, project)
    if not allowed:
        raise errors.RunbookForbidden(action="baremetal:runbook:update" if change else "baremetal:runbook:get")
    return runbook


def update(svc: Services, ident: str, patch: Any, project: str | None, version: int) -> Record:
    patchable = PATCHABLE | ({"description"} if version >= mv.RUNBOOK_TRAITS else set())
    ops = jsonpatch.validate_patch(patch, patchable, INTERNAL)
    paths = {op["path"].split("/")[1] for op in ops}
    if project is not None and paths & {"owner", "public"}:
        raise errors.RunbookForbidden(action=f"baremetal:runbook:update:{sorted(paths & {'owner', 'public'})[0]}")
    find(svc, ident, project, change=True)
    owner_values = [op.get("value") for op in ops if op["path"] == "/owner" and op["op"] != "remove"]
    public_values = [op.get("value") for op in ops if op["path"] == "/public" and op["op"] != "remove"]

    def mutate(runbook: Record) -> dict[str, Any]:
        before = {f: runbook[f] for f in patchable}
        if owner_values and owner_values[0]:  # Ironic: no owner for a public runbook
            public_value = public_values[0] if public_values else False
            if (runbook["public"] and not public_values) or public_value:
                raise errors.Invalid("There cannot be an owner for a public runbook")
        if public_values:
            before["owner"] = None
        after = jsonpatch.apply_patch(before, ops)
        for key in ("name", "steps"):
            if after.get(key) is None:
                raise errors.Invalid(f"Runbook {key} cannot be removed.")
        values = {
            "name": check_name(after["name"], relaxed=True),
            "steps": check_steps(after["steps"]),
            "disable_ramdisk": _optional(after, "disable_ramdisk", bool, False),
            "public": _optional(after, "public", bool, False),
            "owner": _optional(after, "owner", str, None),
            "extra": _optional(after, "extra", dict, {}),
        }
        if "description" in patchable:
            values["description"] = _description(after)
        return {k: v for k, v in values.items() if v != runbook[k]}

    return svc.runbooks.update(ident, mutate)


def delete(svc: Services, ident: str, project: str | None) -> None:
    runbook = find(svc, ident, project, change=True)
    svc.runbooks.delete(runbook["uuid"])
    LOG.info("Deleted runbook %s", runbook["uuid"])


def set_traits(
    svc: Services,
    ident: str,
    project: str | None,
    traits: list[str] | None = None,
    add: str | None = None,
    remove: str | None = None,
) -> None:
    """Replace all traits, add one, or remove one (``remove=""``: all); a missing trait is no error."""
    from ironworks.identifiers import validate_trait

    find(svc, ident, project, change=True)

    def mutate(runbook: Record) -> dict[str, Any]:
        current: list[str] = list(runbook["traits"] or [])
        if traits is not None:
            new = list(dict.fromkeys(validate_trait(t) for t in traits))
        elif add is not None:
            new = current + ([validate_trait(add)] if add not in current else [])
        else:
            new = [] if not remove else [t for t in current if t != remove]
        return {"traits": new} if new != current else {}

    svc.runbooks.update(ident, mutate)


def usable(svc: Services, ident: str, node: Record, version: int, project: str | None = None) -> Record:
    """Ironic's ``_handle_runbook`` checks: the runbook exists and the caller may use it (403), and the node's
    traits approve it (400)."""
    runbook = find(svc, ident, project)
    node_traits = set(svc.nodes.get(node["uuid"]).get("traits") or [])
    if version >= mv.RUNBOOK_TRAITS:
        runbook_traits = set(runbook["traits"] or [])
        if not runbook_traits:
            raise errors.Invalid(
                f"Runbook {runbook['uuid']} has no traits configured. Please ask an administrator "
                f"to add traits to the runbook."
            )
        if not runbook_traits & node_traits:
            raise errors.Invalid(
                f"This runbook has not been approved for use on this node {node['uuid']}. The node does not have "
                f"any of the runbook's traits {sorted(runbook_traits)}. Please ask an administrator to add a "
                f"matching trait to your node."
            )
    elif runbook["name"] not in node_traits:
        raise errors.Invalid(
            f"This runbook has not been approved for use on this node {node['uuid']}. Please ask "
            f"an administrator to add it to your node traits."
        )
    return runbook


def user_steps(runbook: Record) -> list[dict[str, Any]]:
    """The runbook's steps as user steps, in their ``order`` (Ironic's ``convert_steps``; order kept)."""
    ordered = sorted(runbook["steps"], key=lambda s: int(s.get("order", 0)))
    return [
        {"interface": s["interface"], "step": s["step"], "args": s.get("args") or {}, "order": s["order"]}
        for s in ordered
    ]
