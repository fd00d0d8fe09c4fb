"""RFC 6902 JSON Patch as Ironic applies it: ``add``, ``replace`` and ``remove`` on a resource document.

Pure functions. ``apply_patch(doc, patch, allowed)`` returns a new document; the caller validates it and
writes the fields that changed. Paths are RFC 6901 pointers; the first segment must be a field the resource
allows to be patched.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from ironworks import errors

OPS = ("add", "replace", "remove")
_MISSING = object()


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def parse_pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/") or path == "/":
        raise errors.PatchError(patch=path, reason="a path must be a JSON pointer such as /extra/key")
    return [_unescape(seg) for seg in path[1:].split("/")]


#: Ironic's pattern for a patch path (``args.patch``); callers below API 1.98 refuse the ``~`` escapes it excludes
_IRONIC_PATH_PATTERN = r"^(/[\w-]+)+$"


def validate_patch(
    patch: Any, allowed: Iterable[str], internal: Iterable[str] = (), *, escapes: bool = True
) -> list[dict[str, Any]]:
    """Check the shape of a patch document; returns it as a list of operation dicts.

    ``escapes=False`` (a request below API 1.98) refuses RFC 6901 escapes (``~0`` for ``~``, ``~1`` for ``/``)
    in a path with Ironic's 400; from 1.98 they name keys that contain ``~`` or ``/``."""
    if not isinstance(patch, list):
        raise errors.Invalid("A JSON Patch must be a list of operations.")
    if not patch:
        raise errors.Invalid("The JSON Patch is empty.")
    allowed_set = set(allowed)
    internal_set = set(internal)
    ops = []
    for item in patch:
        if not isinstance(item, dict):
            raise errors.Invalid(f"Invalid patch operation {item!r}: each operation must be an object.")
        unknown = set(item) - {"op", "path", "value"}
        if unknown:
            raise errors.Invalid(f"Invalid patch operation: unknown member(s) {', '.join(sorted(unknown))}.")
        op = item.get("op")
        if op not in OPS:
            raise errors.Invalid(f"Invalid patch operation {op!r}: supported operations are add, replace, remove.")
        if not escapes and isinstance(item.get("path"), str) and "~" in item["path"]:
            raise errors.InvalidParameterValue(
                f"Schema error for patch: {item['path']!r} does not match {_IRONIC_PATH_PATTERN!r}"
            )
        segments = parse_pointer(item.get("path"))
        if op in ("add", "replace") and "value" not in item:
            raise errors.Invalid(f"'add' and 'replace' operations need a value: {item['path']}")
        field = segments[0]
        if field in internal_set:
            raise errors.Invalid(f"'/{field}' is an internal attribute and can not be updated")
        if field not in allowed_set:
            if op == "add" and len(segments) == 1:
                raise errors.Invalid(
                    f"Adding a new attribute (/{field}) to the root of the resource is not allowed"
                )
            raise errors.Invalid(f"Cannot patch /{field}: it is not a field that can be updated")
        if op == "remove" and len(segments) == 1 and field in {"driver", "uuid"}:
            raise errors.Invalid(f"'/{field}' is a mandatory attribute and can not be removed")
        ops.append({"op": op, "segments": segments, "path": item["path"], "value": item.get("value")})
    return ops


def apply_patch(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply validated operations to a deep copy of ``doc``."""
    result = copy.deepcopy(doc)
    for op in ops:
        _apply_one(result, op)
    return result


def _apply_one(doc: dict[str, Any], op: dict[str, Any]) -> None:
    segments: list[str] = op["segments"]
    path = op["path"]
    if len(segments) == 1:
        field = segments[0]
        if op["op"] == "remove":
            doc[field] = None
        else:
            doc[field] = copy.deepcopy(op["value"])
        return
    parent: Any = doc
    for seg in segments[:-1]:
        parent = _child(parent, seg, path)
    last = segments[-1]
    if isinstance(parent, dict):
        if op["op"] == "add":
            parent[last] = copy.deepcopy(op["value"])
        elif last not in parent:
            raise errors.PatchError(patch=path, reason=f"can't {op['op']} non-existent object '{last}'")
        elif op["op"] == "replace":
            parent[last] = copy.deepcopy(op["value"])
        else:
            del parent[last]
    elif isinstance(parent, list):
        if op["op"] == "add" and last == "-":
            parent.append(copy.deepcopy(op["value"]))
            return
        index = _index(last, path)
        if op["op"] == "add":
            if index > len(parent):
                raise errors.PatchError(patch=path, reason="list index out of range")
            parent.insert(index, copy.deepcopy(op["value"]))
        elif index >= len(parent):
            raise errors.PatchError(patch=path, reason="list index out of range")
        elif op["op"] == "replace":
            parent[index] = copy.deepcopy(op["value"])
        else:
            del parent[index]
    else:
        raise errors.PatchError(patch=path, reason=f"'{segments[-2]}' is not an object or a list")


def _child(parent: Any, seg: str, path: str) -> Any:
    if isinstance(parent, dict):
        child = parent.get(seg, _MISSING)
        if child is _MISSING or child is None:
            raise errors.PatchError(patch=path, reason=f"member '{seg}' not found")
        return child
    if isinstance(parent, list):
        index = _index(seg, path)
        if index >= len(parent):
            raise errors.PatchError(patch=path, reason="list index out of range")
        return parent[index]
    raise errors.PatchError(patch=path, reason=f"'{seg}' is not inside an object or a list")


def _index(seg: str, path: str) -> int:
    if not seg.isdigit() or (len(seg) > 1 and seg.startswith("0")):
        raise errors.PatchError(patch=path, reason=f"'{seg}' is not a valid list index")
    return int(seg)


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in after.items() if before.get(k, _MISSING) != v}
