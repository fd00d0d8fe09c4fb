"""Volume connectors and targets (API 1.32) as the API shows and accepts them (Ironic's volume_connector.py and
volume_target.py controllers and their JSON schemas).

A connector: ``uuid, node_uuid, type, connector_id, extra``; a target: ``uuid, node_uuid, volume_type,
properties, boot_index, volume_id, extra``; both with ``created_at, updated_at, links``. Ironic's schema is
loose (``type`` and ``volume_type`` any string); the column widths bound them here (400, never a database
error). A target's ``properties`` show secret-looking values as ``******`` (Ironic's ``mask_dict_password``);
callers without ``baremetal:volume:view_target_properties`` see them replaced by Ironic's redaction notice.
"""

from __future__ import annotations

from typing import Any

from ironworks import errors
from ironworks.identifiers import is_uuid_like
from ironworks.logs import mask_secrets
from ironworks.resources.timestamps import iso

CONNECTOR_FIELDS = ("uuid", "node_uuid", "type", "connector_id", "extra", "created_at", "updated_at")
TARGET_FIELDS = (
    "uuid",
    "node_uuid",
    "volume_type",
    "properties",
    "boot_index",
    "volume_id",
    "extra",
    "created_at",
    "updated_at",
)
CONNECTOR_DEFAULT_LIST = ("uuid", "node_uuid", "type", "connector_id")
TARGET_DEFAULT_LIST = ("uuid", "node_uuid", "volume_type", "boot_index", "volume_id")
CONNECTOR_PATCHABLE = frozenset({"connector_id", "extra", "node_uuid", "type"})
TARGET_PATCHABLE = frozenset({"boot_index", "extra", "node_uuid", "properties", "volume_id", "volume_type"})
INTERNAL = frozenset({"uuid", "created_at", "updated_at", "links", "id", "node_id"})
#: sort keys Ironic refuses (JSON columns)
CONNECTOR_UNSORTABLE = frozenset({"extra"})
TARGET_UNSORTABLE = frozenset({"extra", "properties"})

REDACTED = {
    "redacted_contents": "** Value redacted: Requires permission baremetal:volume:view_target_properties "
    "access. Permission denied. **"
}

#: (field, JSON type, column width or None), required fields first
_CONNECTOR_BODY: dict[str, tuple[str, int | None, bool]] = {
    "connector_id": ("string", 255, True),
    "node_uuid": ("string", None, True),
    "type": ("string", 32, True),
    "extra": ("object", None, False),
    "uuid": ("string", None, False),
}
_TARGET_BODY: dict[str, tuple[str, int | None, bool]] = {
    "boot_index": ("integer", None, True),
    "node_uuid": ("string", None, True),
    "volume_id": ("string", 36, True),
    "volume_type": ("string", 64, True),
    "extra": ("object", None, False),
    "properties": ("object", None, False),
    "uuid": ("string", None, False),
}
_INT32 = 2**31


def _bad(message: str) -> errors.IronworksError:
    return errors.InvalidParameterValue(f"Schema error: {message}")


def _check_type(field: str, value: Any, kind: str, width: int | None) -> None:
    if kind == "string":
        if not isinstance(value, str):
            raise _bad(f"{field}: {value!r} is not of type 'string'")
        if width is not None and len(value) > width:
            raise _bad(f"{field}: {value[:40]!r}… is longer than {width} characters")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(f"{field}: {value!r} is not of type 'integer'")
        if not -_INT32 <= value < _INT32:
            raise _bad(f"{field}: {value} is out of range")
    elif not isinstance(value, dict):
        raise _bad(f"{field}: {value!r} is not of type 'object', 'null'")


def validate(body: Any, *, target: bool) -> dict[str, Any]:
    """A create body (or a patched document) checked as Ironic's schema does; returns column-ready values."""
    if not isinstance(body, dict):
        raise errors.Invalid(f"The request body must be a JSON object, not {type(body).__name__}.")
    spec = _TARGET_BODY if target else _CONNECTOR_BODY
    unknown = sorted(set(body) - set(spec))
    if unknown:
        raise _bad(f"Additional properties are not allowed ({', '.join(map(repr, unknown))} unexpected)")
    out: dict[str, Any] = {}
    for field, (kind, width, required) in spec.items():
        value = body.get(field)
        if value is None:
            if required:
                raise _bad(f"{field!r} is a required property")
            out[field] = {} if kind == "object" else None
            continue
        _check_type(field, value, kind, width)
        out[field] = value
    for field in ("node_uuid", "uuid"):
        if out[field] is not None:
            if not is_uuid_like(out[field]):
                raise errors.InvalidUUID(uuid=out[field])
            out[field] = out[field].lower()
    return out


def render(
    record: dict[str, Any],
    *,
    target: bool,
    base_url: str,
    fields: list[str] | tuple[str, ...] | None = None,
    redact: bool = False,
) -> dict[str, Any]:
    """One connector or target; ``fields`` picks (links always), ``redact`` hides a target's properties."""
    resource = "volume/targets" if target else "volume/connectors"
    out: dict[str, Any] = {}
    for field in (TARGET_FIELDS if target else CONNECTOR_FIELDS) if fields is None else fields:
        value = record[field]
        if field in ("created_at", "updated_at"):
            value = iso(value)
        elif field == "properties":
            value = dict(REDACTED) if redact else mask_secrets(value or {})
        out[field] = value
    uuid = record["uuid"]
    out["links"] = [
        {"href": f"{base_url}/v1/{resource}/{uuid}", "rel": "self"},
        {"href": f"{base_url}/{resource}/{uuid}", "rel": "bookmark"},
    ]
    return out
