"""Turning pydantic validation errors into Ironic-style 400 messages."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ironworks import errors

M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise errors.Invalid(f"Expected a JSON object, got {type(data).__name__}.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise errors.Invalid(describe(exc, data)) from None


def describe(exc: ValidationError, data: dict[str, Any]) -> str:
    """One message per offending field, in Ironic's wording where it has one."""
    by_field: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "body"
        if field in by_field:
            continue
        kind = err["type"]
        if kind == "extra_forbidden":
            by_field[field] = f"Additional properties are not allowed ('{field}' was unexpected)"
        elif kind == "missing":
            by_field[field] = f"'{field}' is a required property"
        else:
            value = data.get(field)
            shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
            detail = err["msg"]
            if len(err["loc"]) > 1 and not isinstance(err["loc"][1], str):
                detail = f"{'/'.join(str(p) for p in err['loc'])}: {detail}"
            by_field[field] = f"Invalid input for field/attribute {field}. Value: {shown}. {detail}"
    return "; ".join(list(by_field.values())[:5])
