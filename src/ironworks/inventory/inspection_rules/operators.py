"""Conditions, as Ironic's ``inspection_rules/operators.py``: each a function of its (interpolated) arguments
returning a bool; ``check`` applies ``!`` inversion and ``loop``/``multiple``."""

from __future__ import annotations

import ipaddress
import operator
from collections.abc import Callable
from typing import Any

from ironworks.inventory.inspection_rules import regexes
from ironworks.inventory.inspection_rules.errors import RuleConditionFailure, RuleExecutionFailure
from ironworks.inventory.inspection_rules.interpolate import interpolate
from ironworks.inventory.inspection_rules.signature import Signature, parse_inverted


def _chain(name: str, op: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def check(values: Any, force_strings: bool = False) -> bool:
        if not isinstance(values, list):
            raise RuleConditionFailure(
                reason=f"Failed to check condition: '{name}' on values: {values}: Expected list for 'values', "
                f"got: {type(values).__name__}"
            )
        if len(values) < 2:
            return True
        if force_strings:
            values = [str(v) for v in values]
        try:
            return all(op(values[i], values[i + 1]) for i in range(len(values) - 1))
        except TypeError as exc:
            raise RuleConditionFailure(reason=f"'{name}' cannot compare {values}: {exc}") from None

    return check


def _is_empty(value: Any) -> bool:
    return str(value) in ("", "None", "[]", "{}")


def _in_net(address: Any, subnet: Any) -> bool:
    try:
        network = ipaddress.ip_network(str(subnet), strict=False)
    except ValueError as exc:
        raise RuleExecutionFailure(reason=f"invalid value: {exc}") from None
    try:
        return ipaddress.ip_address(str(address)) in network
    except ValueError as exc:
        raise RuleExecutionFailure(reason=f"invalid value: {exc}") from None


def _is_true(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        return value.lower() in ("yes", "true")
    return False


def _is_false(value: Any) -> bool:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return not bool(value)
    if isinstance(value, str):
        return value.lower() in ("no", "false")
    return value is None


def _one_of(value: Any, values: Any = ()) -> bool:
    try:
        return value in values
    except TypeError:
        return False


def _regex(anchored: bool) -> Callable[..., bool]:
    def check(value: Any, regex: Any) -> bool:
        try:
            regexes.check(regex)
            return regexes.run(regex, str(value), anchored=anchored)
        except regexes.UnsafeRegex as exc:
            raise RuleExecutionFailure(reason=str(exc)) from None

    return check


def _sig(
    name: str,
    fn: Callable[..., Any],
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    formatted: tuple[str, ...] = ("value",),
) -> Signature:
    return Signature(name, fn, required, optional, formatted)


_CHAIN = ("values",), ("force_strings",), ("values",)
OPERATORS: dict[str, Signature] = {
    "eq": _sig("eq", _chain("eq", operator.eq), *_CHAIN),
    "lt": _sig("lt", _chain("lt", operator.lt), *_CHAIN),
    "gt": _sig("gt", _chain("gt", operator.gt), *_CHAIN),
    "is-empty": _sig("is-empty", _is_empty, ("value",)),
    "in-net": _sig("in-net", _in_net, ("address", "subnet"), formatted=("address", "subnet")),
    "matches": _sig("matches", _regex(True), ("value", "regex")),
    "contains": _sig("contains", _regex(False), ("value", "regex")),
    "one-of": _sig("one-of", _one_of, ("value",), ("values",)),
    "is-none": _sig("is-none", lambda value: value is None, ("value",)),
    "is-true": _sig("is-true", _is_true, ("value",)),
    "is-false": _sig("is-false", _is_false, ("value",)),
}
REGEX_OPERATORS = ("matches", "contains")


def _check_once(
    sig: Signature, condition: dict[str, Any], context: dict[str, Any], inverted: bool, looping: bool
) -> bool:
    named = sig.validate(condition.get("args", {}))
    args = {
        k: interpolate(v, context, looping=looping, op=sig.name) if (k in sig.formatted or looping) else v
        for k, v in named.items()
    }
    if looping and "force_strings" in sig.optional:
        args["force_strings"] = True
    result = bool(sig.fn(**args))
    return not result if inverted else result


def check(condition: dict[str, Any], context: dict[str, Any]) -> bool:
    """One condition over ``context`` (``node``, ``inventory``, ``plugin_data``)."""
    name, inverted = parse_inverted(condition["op"])
    sig = OPERATORS.get(name)
    if sig is None:
        raise RuleExecutionFailure(
            reason=f"Unsupported operator: '{name}'. Supported operators are: {', '.join(OPERATORS)}."
        )
    loop = condition.get("loop") or []
    if not loop:
        return _check_once(sig, condition, context, inverted, False)
    multiple = condition.get("multiple", "any")
    if isinstance(loop, dict):
        return _check_once(sig, condition, {**context, "item": loop}, inverted, True)
    results: list[bool] = []
    for item in loop:
        result = _check_once(sig, condition, {**context, "item": item}, inverted, True)
        results.append(result)
        if multiple == "first" and result:
            return True
        if multiple == "last":
            results = [result]
    if multiple == "any":
        return any(results)
    if multiple == "all":
        return all(results)
    return results[0] if results else False
