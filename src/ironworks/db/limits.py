"""Values the database cannot hold are refused (400) before any statement reaches it, on every database alike.

The bounds come from the column types themselves, read off each statement's bound parameters, so one check
covers every table, every repository, every route and the conductor, and a column changed in models.py moves
its bound with it. Without it the same request answers differently per database: PostgreSQL refuses an
``INTEGER`` beyond 2^31, a ``VARCHAR(n)`` value longer than n characters and any NUL character in text or
jsonb (a 500 each, and a failed batch); SQLite stores the long string silently and fails only past 2^63.

- integers: ``SmallInteger`` 16, ``Integer`` 32, ``BigInteger`` 64 bits signed, in any statement (a marker or
  filter beyond the column can match nothing);
- strings: no NUL in any statement; at most ``String(n)`` characters in what INSERT and UPDATE write (a too
  long value in a WHERE simply matches nothing, so reads are left alone);
- JSON written: no NUL in any string or key inside it.

Why here and not in the API schemas: the schemas are per resource and per field, and a bound written there
would be a second copy of models.py; a route that forgot one would be a 500 again. The API still checks what
it knows better first (``Ctx.json`` refuses NUL and deep nesting for every body; schemas keep their own
formats), and this is the one place that knows the columns.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import JSON, BigInteger, Engine, Integer, SmallInteger, String, event

from ironworks import errors

_BITS = ((BigInteger, 64), (SmallInteger, 16), (Integer, 32))
_SUFFIX = re.compile(r"_\d+$")


def install(engine: Engine) -> None:
    if not event.contains(engine, "before_cursor_execute", check_parameters):
        event.listen(engine, "before_cursor_execute", check_parameters)


def check_parameters(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    compiled = getattr(context, "compiled", None)
    if compiled is None or not context.compiled_parameters:
        return
    writing = bool(getattr(compiled, "isinsert", False) or getattr(compiled, "isupdate", False))
    binds = compiled.binds
    for params in context.compiled_parameters:
        for name, value in params.items():
            bind = binds.get(name)
            if bind is not None and value is not None:
                # the rendered name: the column for what INSERT/UPDATE write, ``column_1`` in a WHERE
                _check(_SUFFIX.sub("", name), bind.type, value, writing)


def _refuse(field: str, value: Any, problem: str) -> errors.Invalid:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return errors.Invalid(f"Invalid input for field/attribute {field}. Value: {shown}. {problem}")


def _check(field: str, type_: Any, value: Any, writing: bool) -> None:
    if isinstance(type_, JSON):
        if writing:
            _check_json(field, value)
        return
    if isinstance(value, list | tuple):  # an expanding IN (...)
        for item in value:
            if item is not None:
                _check(field, type_, item, writing)
        return
    if isinstance(type_, Integer) and isinstance(value, int) and not isinstance(value, bool):
        bits = next(b for cls, b in _BITS if isinstance(type_, cls))
        if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise _refuse(field, value, f"Value must be a {bits}-bit signed integer.")
    elif isinstance(type_, String) and isinstance(value, str):
        if "\x00" in value:
            raise _refuse(field, value, "Value must not contain a NUL character.")
        if writing and type_.length is not None and len(value) > type_.length:
            raise _refuse(field, value, f"Value must be at most {type_.length} characters long.")


def _check_json(field: str, value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise _refuse(field, item, "Value must not contain a NUL character.")
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
