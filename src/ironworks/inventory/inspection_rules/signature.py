"""What every operator and action shares (Ironic's ``inspection_rules/base.py``): a signature of required and
optional arguments, the deprecated list form of ``args``, and which arguments get variables interpolated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ironworks.inventory.inspection_rules.errors import RuleValidationFailure


@dataclass(frozen=True)
class Signature:
    name: str
    fn: Callable[..., Any]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    formatted: tuple[str, ...] = ()
    #: the action also gets the plugin data (``set-plugin-data`` and friends)
    plugin_data: bool = False

    def normalise(self, args: Any) -> dict[str, Any]:
        """``args`` as a dict: the list form maps positionally onto required, then optional arguments."""
        if isinstance(args, dict):
            return dict(args)
        if not isinstance(args, list):
            raise RuleValidationFailure(reason="args must be either a list or dictionary")
        if len(args) < len(self.required):
            missing = ", ".join(self.required[len(args) :])
            raise RuleValidationFailure(reason=f"Not enough arguments provided. Missing: {missing}")
        named = dict(zip(self.required, args, strict=False))
        named.update(zip(self.optional, args[len(self.required) :], strict=False))
        if len(args) > len(self.required) + len(self.optional):
            raise RuleValidationFailure(reason=f"unexpected argument(s): {len(args)} given")
        return named

    def validate(self, args: Any) -> dict[str, Any]:
        named = self.normalise(args)
        missing = [a for a in self.required if a not in named]
        unexpected = [a for a in named if a not in self.required and a not in self.optional]
        problems = []
        if missing:
            problems.append(f"missing required argument(s): {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected argument(s): {', '.join(unexpected)}")
        if problems:
            raise RuleValidationFailure(reason="; ".join(problems))
        return named


def parse_inverted(op: str) -> tuple[str, bool]:
    """``"!eq"`` → ``("eq", True)``; more than one ``!`` is refused (Ironic's ``parse_inverted_operator``)."""
    op = op.strip()
    if op.count("!") > 1:
        raise ValueError(
            "Multiple exclamation marks are not allowed. To apply the invert of an operation, "
            "simply add an exclamation mark (with an optional space) before the operator, e.g. "
            "eq - !eq."
        )
    return op.lstrip("!").strip(), op.startswith("!")


def normalize_path(path: str) -> list[str]:
    """A path in slash or dot notation as its parts."""
    return path.strip("/").split("/") if "/" in path else path.split(".")
