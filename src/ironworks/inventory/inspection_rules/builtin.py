"""Built-in rules: Ironic's ``[inspection_rules]built_in_rules``, a YAML (or JSON) file holding a list of rules
that apply with the stored ones but are not part of the API. Each is validated like a rule from the API (a
priority above 9999 is allowed for them); a rule without a uuid gets ``00000000-0000-0000-0000-<n>``. The file
is read each time inspection data arrives, as Ironic does (edits apply without a restart); a missing or invalid
file fails the inspection with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ironworks import errors
from ironworks.inventory.inspection_rules.validation import validate_rule

MAX_FILE_BYTES = 4 * 1024 * 1024


def _parse(text: str) -> Any:
    try:
        import yaml  # noqa: PLC0415 - optional: JSON is YAML too, and is read without it
    except ImportError:
        return json.loads(text)
    return yaml.safe_load(text)


def load(path: str) -> list[dict[str, Any]]:
    if not path:
        return []
    try:
        with open(Path(path), encoding="utf-8") as handle:
            text = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise errors.IronworksError(f"Built-in rules file not found: {path}: {exc.strerror}") from None
    if len(text) > MAX_FILE_BYTES:
        raise errors.IronworksError(f"Built-in rules file {path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        data = _parse(text)
    except ValueError as exc:  # json.JSONDecodeError and yaml.YAMLError are ValueErrors or wrapped below
        raise errors.IronworksError(f"Error parsing built-in rules file {path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - yaml.YAMLError does not derive from ValueError
        raise errors.IronworksError(f"Error parsing built-in rules file {path}: {exc}") from None
    if not isinstance(data, list):
        raise errors.IronworksError(f"Built-in rules file ({path}) should contain a list of rules")
    rules = []
    synthetic = 0
    for item in data:
        if not isinstance(item, dict):
            raise errors.IronworksError(f"Error parsing built-in rule: {item!r} is not a mapping")
        uuid = item.get("uuid")
        if uuid is None:
            uuid = f"00000000-0000-0000-0000-{synthetic:012x}"
            synthetic += 1
        rule = {
            "uuid": uuid,
            "priority": item.get("priority", 0),
            "description": item.get("description"),
            "sensitive": item.get("sensitive", False),
            "phase": item.get("phase", "main"),
            "actions": item.get("actions", []),
            "conditions": item.get("conditions", []),
        }
        try:
            validate_rule(rule, built_in=True)
        except errors.IronworksError as exc:
            raise errors.IronworksError(f"Error parsing built-in rule: {exc.message}") from None
        rules.append(rule)
    return rules
