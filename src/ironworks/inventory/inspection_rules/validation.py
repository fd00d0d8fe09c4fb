"""A rule body as Ironic checks it: its JSON schema (``ironic/api/schemas/v1/inspection_rule.py``, errors
``Schema error: …``), then ``validate_rule`` (phase, priority 0–9999, each operator's and action's arguments).

Beyond Ironic, bounds against hostile bodies: at most ``MAX_ITEMS`` conditions and actions, ``MAX_LOOP`` loop
items, ``MAX_RULE_BYTES`` of JSON in all; regular expressions given literally are checked when the rule is
created (``regexes``), not first when inspection data arrives.
"""

from __future__ import annotations

from typing import Any

import orjson

from ironworks import errors
from ironworks.inventory.inspection_rules import regexes
from ironworks.inventory.inspection_rules.actions import ACTIONS
from ironworks.inventory.inspection_rules.errors import RuleValidationFailure
from ironworks.inventory.inspection_rules.operators import OPERATORS, REGEX_OPERATORS
from ironworks.inventory.inspection_rules.signature import parse_inverted

PHASES = ("main",)
MAX_PRIORITY = 9999
MAX_ITEMS = 100
MAX_LOOP = 1000
MAX_RULE_BYTES = 64 * 1024
BODY_KEYS = ("actions", "conditions", "description", "phase", "priority", "sensitive", "uuid")
CONDITION_OPS = [*OPERATORS, *(f"!{op}" for op in OPERATORS)]
MULTIPLE = ["any", "all", "first", "last"]


def _schema(message: str) -> errors.IronworksError:
    return errors.InvalidParameterValue(f"Schema error: {message}")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {dict: "object", list: "array", str: "string", int: "integer", float: "number"}.get(type(value), "?")


def _items(body: dict[str, Any], key: str, ops: list[str], minimum: int) -> None:
    items = body[key]
    if not isinstance(items, list):
        raise _schema(f"{items!r} is not of type 'array'")
    if len(items) < minimum:
        raise _schema(f"{items!r} should be non-empty")
    if len(items) > MAX_ITEMS:
        raise _schema(f"a rule has at most {MAX_ITEMS} {key}")
    for item in items:
        if not isinstance(item, dict):
            raise _schema(f"{item!r} is not of type 'object'")
        for required in ("op", "args"):
            if required not in item:
                raise _schema(f"{required!r} is a required property")
        if item["op"] not in ops:
            raise _schema(f"{item['op']!r} is not one of {ops!r}")
        for name in ("args", "loop"):
            if name in item and not isinstance(item[name], list | dict):
                raise _schema(f"{item[name]!r} is not of type 'array', 'object'")
        if isinstance(item.get("loop"), list) and len(item["loop"]) > MAX_LOOP:
            raise _schema(f"a loop has at most {MAX_LOOP} items")
        if key == "conditions" and "multiple" in item and item["multiple"] not in MULTIPLE:
            raise _schema(f"{item['multiple']!r} is not one of {MULTIPLE!r}")


def check_schema(body: Any) -> None:
    """The create schema (also applied to a patched rule)."""
    if not isinstance(body, dict):
        raise _schema(f"{body!r} is not of type 'object'")
    extra = sorted(set(body) - set(BODY_KEYS))
    if extra:
        raise _schema(
            f"Additional properties are not allowed ({', '.join(map(repr, extra))} "
            f"{'was' if len(extra) == 1 else 'were'} unexpected)"
        )
    if "actions" not in body:
        raise _schema("'actions' is a required property")
    _items(body, "actions", list(ACTIONS), 1)
    if "conditions" in body:
        _items(body, "conditions", CONDITION_OPS, 0)
    for key, kinds, limit in (("description", (str,), 255), ("phase", (str,), 16), ("uuid", (str,), None)):
        value = body.get(key)
        if value is not None and not isinstance(value, kinds):
            raise _schema(f"{value!r} is not of type 'string', 'null'")
        if limit is not None and isinstance(value, str) and len(value) > limit:
            raise _schema(f"{value!r} is too long")
    priority = body.get("priority", 0)
    if "priority" in body and (isinstance(priority, bool) or not isinstance(priority, int)):
        raise _schema(f"{priority!r} is not of type 'integer'")
    if isinstance(priority, int) and priority < 0:
        raise _schema(f"{priority} is less than the minimum of 0")
    sensitive = body.get("sensitive")
    if sensitive is not None and not isinstance(sensitive, bool):
        raise _schema(f"{sensitive!r} is not of type 'boolean', 'null'")
    if len(orjson.dumps(body)) > MAX_RULE_BYTES:
        raise _schema(f"an inspection rule is at most {MAX_RULE_BYTES} bytes of JSON")


def _literal_regex(named: dict[str, Any]) -> None:
    regex = named.get("regex")
    if isinstance(regex, str) and "{" not in regex:
        try:
            regexes.check(regex)
        except regexes.UnsafeRegex as exc:
            raise ValueError(str(exc)) from None


def validate_rule(rule: dict[str, Any], *, built_in: bool = False) -> None:
    """Ironic's ``validate_rule`` after the schema: every problem found, in one 400."""
    check_schema(rule)
    problems: list[str] = []
    phase = rule.get("phase") or "main"
    if phase not in PHASES:
        problems.append(f"Invalid phase: {phase}. Valid phases are: {', '.join(PHASES)}")
    if (rule.get("priority") or 0) > MAX_PRIORITY and not built_in:
        problems.append(f"Priority must be between 0 and {MAX_PRIORITY} for user-defined rules.")
    for condition in rule.get("conditions") or []:
        name, _ = parse_inverted(condition["op"])
        try:
            named = OPERATORS[name].validate(condition.get("args", {}))
            if name in REGEX_OPERATORS:
                _literal_regex(named)
        except (RuleValidationFailure, ValueError) as exc:
            reason = exc.message if isinstance(exc, errors.IronworksError) else str(exc)
            problems.append(f"Invalid parameters for condition operator {name}: {reason}")
    for action in rule["actions"]:
        try:
            ACTIONS[action["op"]].validate(action.get("args", {}))
        except RuleValidationFailure as exc:
            problems.append(f"Invalid parameters for action operator {action['op']}: {exc.message}")
    if len(problems) == 1:
        raise errors.Invalid(problems[0])
    if problems:
        raise errors.Invalid(f"Multiple validation errors occurred: {'; '.join(problems)}")
