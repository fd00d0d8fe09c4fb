"""JSON Patch (RFC 6902) as the API applies it; a pure module, tested as a table."""

from __future__ import annotations

import pytest

from ironworks import errors
from ironworks.resources.patch import apply_patch, validate_patch

ALLOWED = {"extra", "name", "properties"}
DOC = {"extra": {"a": 1, "list": [1, 2]}, "name": "n", "properties": {}}


@pytest.mark.parametrize(("ops", "expected"), [
    ([{"op": "add", "path": "/extra/b", "value": 2}], {"a": 1, "list": [1, 2], "b": 2}),
    ([{"op": "replace", "path": "/extra/a", "value": {"x": 1}}], {"a": {"x": 1}, "list": [1, 2]}),
    ([{"op": "remove", "path": "/extra/a"}], {"list": [1, 2]}),
    ([{"op": "add", "path": "/extra/list/-", "value": 3}], {"a": 1, "list": [1, 2, 3]}),
    ([{"op": "add", "path": "/extra/list/0", "value": 0}], {"a": 1, "list": [0, 1, 2]}),
    ([{"op": "remove", "path": "/extra/list/1"}], {"a": 1, "list": [1]}),
    ([{"op": "add", "path": "/extra/a~1b", "value": 1}], {"a": 1, "list": [1, 2], "a/b": 1}),
    ([{"op": "add", "path": "/extra/t~0", "value": 1}], {"a": 1, "list": [1, 2], "t~": 1}),
    ([{"op": "replace", "path": "/extra", "value": {}}], {}),
])
def test_apply(ops, expected):
    assert apply_patch(DOC, validate_patch(ops, ALLOWED))["extra"] == expected
    assert DOC["extra"] == {"a": 1, "list": [1, 2]}  # never modified in place


@pytest.mark.parametrize("ops", [
    [{"op": "replace", "path": "/extra/missing", "value": 1}],
    [{"op": "remove", "path": "/extra/missing"}],
    [{"op": "add", "path": "/extra/missing/deeper", "value": 1}],
    [{"op": "remove", "path": "/extra/list/5"}],
    [{"op": "add", "path": "/extra/list/x", "value": 1}],
    [{"op": "add", "path": "/extra/list/01", "value": 1}],
    [{"op": "add", "path": "/extra/a/b", "value": 1}],
])
def test_apply_errors(ops):
    with pytest.raises(errors.PatchError):
        apply_patch(DOC, validate_patch(ops, ALLOWED))


@pytest.mark.parametrize("ops", [
    {}, [], ["op"], [{"op": "test", "path": "/name", "value": "n"}], [{"op": "add", "path": "/name"}],
    [{"op": "add", "path": "name", "value": 1}], [{"op": "add", "path": "/", "value": 1}],
    [{"op": "add", "path": "/uuid", "value": 1}], [{"op": "add", "path": "/new", "value": 1}],
    [{"op": "add", "path": "/name", "value": 1, "extra": 2}],
])
def test_validate_errors(ops):
    with pytest.raises(errors.Invalid):
        validate_patch(ops, ALLOWED, internal={"uuid"})
