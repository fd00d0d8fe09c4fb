"""Root device hints (``properties.root_device``) and the skip list, with Ironic's semantics. Pure: no I/O.

A hint is ``{name: expression}``; the expression may start with an operator, else ``==`` for numbers and
``s==`` for strings. Comparisons are case-insensitive and ignore surrounding whitespace.

    numbers (size, in GiB; a device's bytes / 2**30):  ==  !=  >=  <=  >  <  =(legacy >=)  <or>  <range-in>
    strings (model, vendor, serial, wwn, name, …):     s== s!= s>= s<= s> s<  <in> (substring)  <or>  <all-in>
    booleans (rotational):                             true/false, yes/no, on/off, 1/0

``<range-in> [ 10 100 )`` takes ``[``/``]`` as inclusive and ``(``/``)`` as exclusive bounds. A ``name`` hint
without ``/dev/`` gets it prepended. A device lacking a hinted attribute does not match.

Skip rules: removable, multipath, SAN-attached (fc, fcoe, iscsi transport), read-only, optical devices and
anything matching an entry of the operator's skip list (each entry is itself a hints dict, e.g.
``{"name": "/dev/sdb"}``) are never chosen unless the hints *name* the device (name, by_path, serial, wwn,
wwn_with_extension or hctl). Operator skip-list entries are never chosen at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ironworks_agent.errors import DeviceNotFound, InvalidCommand

GiB = 1024**3
MIN_ROOT_SIZE = 4 * GiB
HINT_TYPES: dict[str, type] = {
    "size": int, "model": str, "vendor": str, "serial": str, "wwn": str, "wwn_with_extension": str,
    "wwn_vendor_extension": str, "name": str, "rotational": bool, "hctl": str, "by_path": str,
}
NAMING_HINTS = frozenset({"name", "by_path", "serial", "wwn", "wwn_with_extension", "hctl"})
SAN_TRANSPORTS = frozenset({"fc", "fcoe", "iscsi"})
_OPERATORS = ("<range-in>", "<all-in>", "<or>", "<in>", "s==", "s!=", "s<=", "s>=", "s<", "s>",
              "==", "!=", "<=", ">=", "<", ">", "=")
_NUMERIC_OPS = {"==", "!=", "<=", ">=", "<", ">", "=", "<or>", "<range-in>"}
_STRING_OPS = {"s==", "s!=", "s<=", "s>=", "s<", "s>", "<in>", "<or>", "<all-in>"}
_RANGE = re.compile(r"^([\[(])\s*(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s*([\])])$")
_TRUE = {"true", "yes", "on", "1", "y", "t"}
_FALSE = {"false", "no", "off", "0", "n", "f"}


class HintError(InvalidCommand):
    """A root device hint is malformed (unknown name, bad operator, not a number…)."""

    code = "InvalidRootDeviceHints"


@dataclass(frozen=True)
class Hint:
    name: str
    op: str
    values: tuple[Any, ...]


def _norm(value: Any) -> str:
    return " ".join(str(value).split()).lower()


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _norm(value)
    return True if text in _TRUE else False if text in _FALSE else None


def _split(expression: str) -> tuple[str, list[str]]:
    """Operator (or "") and values: ``'<or> a <or> b c'`` → ``('<or>', ['a', 'b c'])``."""
    text = _norm(expression)
    if not text:
        raise HintError("root device hint expression is empty")
    op = next((o for o in _OPERATORS if text.startswith(o)), "")
    if not op:
        return "", [text]
    values = [v.strip() for v in text.split(op) if v.strip()]
    if not values:
        raise HintError(f"root device hint {expression!r} has an operator but no value")
    return op, values


def parse_hint(name: str, expression: Any) -> Hint:
    if name not in HINT_TYPES:
        raise HintError(f"unknown root device hint {name!r}; valid hints: {', '.join(sorted(HINT_TYPES))}")
    kind = HINT_TYPES[name]
    if kind is bool:
        flag = _as_bool(expression)
        if flag is None:
            raise HintError(f"root device hint {name!r} is not a boolean: {expression!r}")
        return Hint(name, "==", (flag,))
    if kind is str and not isinstance(expression, str):
        raise HintError(f"root device hint {name!r} must be a string, got {expression!r}")
    op, values = _split(str(expression))
    if kind is int:
        op = op or "=="
        if op not in _NUMERIC_OPS:
            raise HintError(f"operator {op!r} cannot compare numbers (hint {name!r})")
        if op == "<range-in>":
            m = _RANGE.match(" ".join(values))
            if not m or float(m.group(2)) > float(m.group(3)):
                raise HintError(f"bad range in hint {name!r}: {expression!r}; use e.g. '<range-in> [ 10 100 )'")
            return Hint(name, op, (m.group(1), float(m.group(2)), float(m.group(3)), m.group(4)))
        numbers = []
        for v in values:
            if not v.isdigit() or int(v) <= 0:
                raise HintError(f"root device hint {name!r} must be a positive integer, got {expression!r}")
            numbers.append(int(v))
        if op != "<or>" and len(numbers) != 1:
            raise HintError(f"operator {op!r} takes one value (hint {name!r})")
        return Hint(name, op, tuple(numbers))
    op = op or "s=="
    if op not in _STRING_OPS:
        raise HintError(f"operator {op!r} cannot compare strings (hint {name!r}); use s==, s!=, <in>, <or>…")
    if op not in ("<or>", "<all-in>") and len(values) != 1:
        raise HintError(f"operator {op!r} takes one value (hint {name!r})")
    if name == "name" and op in ("s==", "s!=", "<or>"):
        values = [v if v.startswith("/dev/") else f"/dev/{v}" for v in values]
    return Hint(name, op, tuple(values))


def parse_hints(hints: Mapping[str, Any] | None) -> list[Hint]:
    if not hints:
        return []
    if not isinstance(hints, Mapping):
        raise HintError("root device hints must be an object")
    return [parse_hint(name, expr) for name, expr in hints.items()]


def _match_number(h: Hint, value: float) -> bool:
    if h.op == "<range-in>":
        lo_b, lo, hi, hi_b = h.values
        return (value >= lo if lo_b == "[" else value > lo) and (value <= hi if hi_b == "]" else value < hi)
    if h.op == "<or>":
        return any(value == v for v in h.values)
    target = h.values[0]
    return {"==": value == target, "!=": value != target, ">=": value >= target, "=": value >= target,
            "<=": value <= target, ">": value > target, "<": value < target}[h.op]


def _match_string(h: Hint, value: str) -> bool:
    if h.op == "<or>":
        return value in h.values
    if h.op == "<all-in>":
        return all(v in value for v in h.values)
    target = h.values[0]
    return {"s==": value == target, "s!=": value != target, "s>=": value >= target, "s<=": value <= target,
            "s>": value > target, "s<": value < target, "<in>": target in value}[h.op]


def matches(device: Mapping[str, Any], hints: Sequence[Hint]) -> bool:
    """True if ``device`` (inventory dict, size in bytes) satisfies every hint."""
    for h in hints:
        raw = device.get(h.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return False
        if HINT_TYPES[h.name] is bool:
            if _as_bool(raw) != h.values[0]:
                return False
        elif HINT_TYPES[h.name] is int:
            if not _match_number(h, int(raw) / GiB):
                return False
        elif not _match_string(h, _norm(raw)):
            return False
    return True


def find_devices(devices: Iterable[Mapping[str, Any]], hints: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    parsed = parse_hints(hints)
    return [d for d in devices if matches(d, parsed)]


def skip_reason(device: Mapping[str, Any], skip_list: Iterable[Mapping[str, Any]] = ()) -> str | None:
    """Why ``device`` is skipped by default (None if it is an ordinary local disk)."""
    for entry in skip_list:
        known = {k: v for k, v in entry.items() if k in HINT_TYPES}  # e.g. Ironic's volume_name: not a disk
        if known and matches(device, parse_hints(known)):
            return "in the skip list"
    if device.get("removable"):
        return "removable"
    if device.get("multipath"):
        return "multipath"
    if str(device.get("tran") or "").lower() in SAN_TRANSPORTS:
        return f"SAN-attached ({device.get('tran')})"
    if device.get("read_only"):
        return "read-only"
    if device.get("type") == "rom":
        return "optical"
    return None


def eligible_devices(devices: Iterable[Mapping[str, Any]], skip_list: Iterable[Mapping[str, Any]] = (),
                     ) -> list[Mapping[str, Any]]:
    """Devices that may be wiped or chosen without being named: local disks minus every skip rule."""
    entries = list(skip_list)
    return [d for d in devices if skip_reason(d, entries) is None]


def select_root_device(devices: Sequence[Mapping[str, Any]], hints: Mapping[str, Any] | None = None,
                       skip_list: Iterable[Mapping[str, Any]] = (), min_size: int = MIN_ROOT_SIZE,
                       ) -> Mapping[str, Any]:
    """The device to deploy onto.

    With hints: the first device (by name) matching all of them, skipped devices only when the hints name it.
    Without hints: the smallest eligible device of at least ``min_size`` bytes (Ironic's choice).
    """
    entries = list(skip_list)
    parsed = parse_hints(hints)
    named = any(h.name in NAMING_HINTS for h in parsed)
    ordered = sorted(devices, key=lambda d: str(d.get("name")))
    if parsed:
        for dev in ordered:
            if not matches(dev, parsed):
                continue
            reason = skip_reason(dev, entries)
            if reason is None or (named and reason != "in the skip list"):
                return dev
        raise DeviceNotFound(f"no eligible device matches the root device hints {dict(hints or {})}")
    candidates = [d for d in ordered if skip_reason(d, entries) is None and int(d.get("size") or 0) >= min_size]
    if not candidates:
        raise DeviceNotFound(f"no eligible local disk of at least {min_size // GiB} GiB")
    return min(candidates, key=lambda d: int(d.get("size") or 0))
