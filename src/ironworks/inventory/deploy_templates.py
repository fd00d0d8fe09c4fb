"""Deploy templates (API 1.55): create, update (JSON Patch), delete, and the steps a deploy takes from them.

A template is named like a trait (``CUSTOM_…`` or a standard trait, Ironic's rule); its ``steps`` are
``{interface, step, args, priority}``, all four required and nothing else, ``interface`` one of the interfaces
that have deploy steps (Ironic's ``DEPLOYING_INTERFACE_PRIORITY``), ``priority`` an integer ≥ 0 (or a string of
digits, which Ironic's schema also accepts), ``args`` an object, each ``interface.step`` at most once.

At deploy time the templates whose names are among ``instance_info.traits`` give their steps; the conductor
validates them at the deploy request (conductor/intake.py) and merges them with the user's ``deploy_steps`` and
the driver's own (conductor/steps.py), as Ironic's ``_get_all_deployment_steps`` does.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.db.repos.base import Record
from ironworks.identifiers import is_uuid_like, new_uuid, normalize_uuid, validate_trait
from ironworks.resources import patch as jsonpatch

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

#: interfaces whose steps a deploy template may name (Ironic's DEPLOYING_INTERFACE_PRIORITY)
INTERFACES = ("deploy", "power", "management", "bios", "raid", "firmware")
PATCHABLE = frozenset({"name", "steps", "extra"})
INTERNAL = frozenset({"uuid", "created_at", "updated_at", "links", "id"})
_BODY_KEYS = frozenset({"uuid", "name", "steps", "extra"})
_STEP_KEYS = frozenset({"interface", "step", "args", "priority"})


def schema_error(message: str) -> errors.IronworksError:
    """A request body that breaks Ironic's JSON schema (deploy templates, runbooks): 400 "Schema error: …"."""
    return errors.InvalidParameterValue(f"Schema error: {message}")


_bad = schema_error


def validate_name(name: Any, what: str = "Deploy template") -> str:
    """A trait-like name (deploy templates; runbooks before API 1.112)."""
    if not isinstance(name, str):
        raise _bad(f"{name!r} is not of type 'string'")
    try:
        return validate_trait(name)
    except errors.IronworksError as exc:
        raise errors.InvalidParameterValue(f"{what} name must be a valid trait. {exc.message}") from None


def count_duplicates(steps: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The ``(interface, step)`` pairs named more than once, sorted (Ironic's ``duplicate_steps``)."""
    counts = Counter((s["interface"], s["step"]) for s in steps)
    return sorted(key for key, n in counts.items() if n > 1)


def _priority(step: dict[str, Any]) -> int:
    prio = step["priority"]
    if isinstance(prio, str) and prio.isdigit() and prio.isascii():
        return int(prio)
    if isinstance(prio, bool) or not isinstance(prio, int) or prio < 0:
        raise _bad(f"{prio!r} is not valid under any of the given schemas (priority: an integer >= 0)")
    return prio


def validate_steps(steps: Any) -> list[dict[str, Any]]:
    """The template's steps, normalised; 400 in Ironic's wording for any shape error or a duplicate step."""
    if not isinstance(steps, list):
        raise _bad(f"{steps!r} is not of type 'array'")
    if not steps:
        raise _bad("[] should be non-empty")
    out: list[dict[str, Any]] = []
    for step in steps:
        if not isinstance(step, dict):
            raise _bad(f"{step!r} is not of type 'object'")
        extra = sorted(set(step) - _STEP_KEYS)
        if extra:
            raise _bad(
                f"Additional properties are not allowed ({', '.join(map(repr, extra))} "
                f"{'was' if len(extra) == 1 else 'were'} unexpected)"
            )
        missing = sorted(_STEP_KEYS - set(step))
        if missing:
            raise _bad(f"{missing[0]!r} is a required property")
        if step["interface"] not in INTERFACES:
            raise _bad(f"{step['interface']!r} is not one of {list(INTERFACES)!r}")
        if not isinstance(step["step"], str) or not step["step"]:
            raise _bad(f"{step['step']!r} is not a non-empty string (step)")
        if not isinstance(step["args"], dict):
            raise _bad(f"{step['args']!r} is not of type 'object'")
        out.append(
            {"interface": step["interface"], "step": step["step"], "args": step["args"], "priority": _priority(step)}
        )
    duplicates = [f"{i}.{s}" for i, s in count_duplicates(out)]
    if duplicates:
        raise errors.InvalidParameterValue(
            f"Duplicate deploy steps. A deploy template cannot have two steps with the same interface and step "
            f"name. Duplicate steps: {', '.join(duplicates)}"
        )
    return out


def create(svc: Services, body: Any) -> Record:
    if not isinstance(body, dict):
        raise errors.Invalid(f"Expected a JSON object, got {type(body).__name__}.")
    extra_keys = sorted(set(body) - _BODY_KEYS)
    if extra_keys:
        raise _bad(f"Additional properties are not allowed ({', '.join(map(repr, extra_keys))} unexpected)")
    for key in ("name", "steps"):
        if key not in body:
            raise _bad(f"{key!r} is a required property")
    extra = {} if body.get("extra") is None else body["extra"]
    if not isinstance(extra, dict):
        raise _bad(f"{extra!r} is not of type 'object'")
    values = {
        "uuid": normalize_uuid(body["uuid"]) if body.get("uuid") is not None else new_uuid(),
        "name": validate_name(body["name"]),
        "steps": validate_steps(body["steps"]),
        "extra": extra,
    }
    template = svc.deploy_templates.create(values)
    LOG.info("Created deploy template %s (%s)", template["uuid"], template["name"])
    return template


def update(svc: Services, ident: str, patch: Any) -> Record:
    ops = jsonpatch.validate_patch(patch, PATCHABLE, INTERNAL)

    def mutate(template: Record) -> dict[str, Any]:
        before = {f: template[f] for f in PATCHABLE}
        after = jsonpatch.apply_patch(before, ops)
        if after.get("name") is None:
            raise errors.Invalid("Deploy template name cannot be removed.")
        if after.get("steps") is None:
            raise errors.Invalid("Deploy template steps cannot be removed.")
        extra = {} if after.get("extra") is None else after["extra"]
        if not isinstance(extra, dict):
            raise _bad(f"{extra!r} is not of type 'object'")
        values = {"name": validate_name(after["name"]), "steps": validate_steps(after["steps"]), "extra": extra}
        return {k: v for k, v in values.items() if v != template[k]}

    return svc.deploy_templates.update(ident, mutate)


def delete(svc: Services, ident: str) -> None:
    template = svc.deploy_templates.get(ident)
    svc.deploy_templates.delete(template["uuid"])
    LOG.info("Deleted deploy template %s", template["uuid"])


def find(svc: Services, ident: str) -> Record:
    if not (is_uuid_like(ident) or ident):
        raise errors.DeployTemplateNotFound(template=ident)
    return svc.deploy_templates.get(ident)
