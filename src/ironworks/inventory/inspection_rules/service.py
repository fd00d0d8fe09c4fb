"""Inspection rules as the API changes them: create, update (JSON Patch), delete; the view Ironic renders.

A rule: ``uuid, description, priority, sensitive, phase, conditions, actions``. Created as given after
``validation.validate_rule``; a patch may change every field but the uuid and timestamps, the result is
validated as a new rule, and a ``sensitive`` rule stays sensitive (Ironic: "Inspection rules cannot have the
sensitive flag unset.").
"""

from __future__ import annotations

import logging
from typing import Any

from ironworks import errors
from ironworks.db.repos.base import Record
from ironworks.db.repos.inspection_rules import InspectionRuleNotFound, InspectionRuleRepo
from ironworks.identifiers import is_uuid_like, new_uuid, normalize_uuid
from ironworks.inventory.inspection_rules.validation import validate_rule
from ironworks.resources import patch as jsonpatch

LOG = logging.getLogger(__name__)

PATCHABLE = frozenset({"actions", "conditions", "description", "phase", "priority", "sensitive"})
INTERNAL = frozenset({"uuid", "created_at", "updated_at", "links", "id"})


def _values(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "priority": body.get("priority") or 0,
        "description": body.get("description"),
        "sensitive": bool(body.get("sensitive")),
        "phase": body.get("phase") or "main",
        "conditions": body.get("conditions") or [],
        "actions": body["actions"],
    }


def create(repo: InspectionRuleRepo, body: Any) -> Record:
    validate_rule(body)
    uuid = normalize_uuid(body["uuid"]) if body.get("uuid") else new_uuid()
    rule = repo.create({"uuid": uuid, **_values(body)})
    LOG.info("Created inspection rule %s", uuid)
    return rule


def update(repo: InspectionRuleRepo, uuid: str, patch: Any) -> Record:
    find(repo, uuid)
    ops = jsonpatch.validate_patch(patch, PATCHABLE, INTERNAL)

    def mutate(rule: Record) -> dict[str, Any]:
        for op in ops:
            if op["segments"] == ["sensitive"] and op["op"] != "remove" and not op["value"] and rule["sensitive"]:
                raise errors.PatchError(
                    patch=op["path"], reason="Inspection rules cannot have the sensitive flag unset."
                )
        before = {f: rule[f] for f in PATCHABLE}
        after = {k: v for k, v in jsonpatch.apply_patch(before, ops).items() if v is not None or k == "description"}
        if rule["sensitive"] and not after.get("sensitive"):
            raise errors.PatchError(patch="/sensitive", reason="Inspection rules cannot have the sensitive flag unset.")
        validate_rule(after)
        values = _values(after)
        return {k: v for k, v in values.items() if v != rule[k]}

    return repo.update(uuid, mutate)


def delete(repo: InspectionRuleRepo, uuid: str) -> None:
    find(repo, uuid)
    repo.delete(uuid)
    LOG.info("Deleted inspection rule %s", uuid)


def find(repo: InspectionRuleRepo, uuid: str) -> Record:
    """By UUID only, as Ironic (a name or anything else: 404)."""
    if not is_uuid_like(uuid):
        raise InspectionRuleNotFound(rule=uuid)
    return repo.get(uuid)


def convert_conditions(items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Ironic's ``convert_conditions``: ``op, args``, and ``loop, multiple`` when looping."""
    out = []
    for item in items or []:
        shown = {"op": item["op"], "args": item["args"]}
        if item.get("loop"):
            shown.update(loop=item["loop"], multiple=item.get("multiple", "any"))
        out.append(shown)
    return out


def convert_actions(items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    out = []
    for item in items or []:
        shown = {"op": item["op"], "args": item["args"]}
        if item.get("loop"):
            shown["loop"] = item["loop"]
        out.append(shown)
    return out
