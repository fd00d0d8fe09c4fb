"""Applying rules to inspection data, as Ironic's ``engine.apply_rules``.

Rules of the phase run by priority, highest first (equal priorities in creation order). For each: the
inventory and plugin data are masked (``mask_secrets``: ``always`` — Ironic's default —, ``sensitive`` for
non-sensitive rules only, or ``never``); every condition must hold (none: the rule applies); then its actions
run in order on the target. A ``fail`` action or any error stops everything: the caller fails the inspection
with the message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ironworks import errors
from ironworks.inventory.inspection_rules import actions, operators
from ironworks.inventory.inspection_rules.actions import Target
from ironworks.inventory.inspection_rules.errors import HardwareInspectionFailure
from ironworks.inventory.inspection_rules.interpolate import NodeView, masked

LOG = logging.getLogger(__name__)

MASK_MODES = ("always", "never", "sensitive")


class RuleFailed(errors.IronworksError):
    http_status = 400
    template = "Failed to apply rule %(rule)s to node %(node)s: %(error)s"


def ordered(rules: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rules, key=lambda r: r.get("priority") or 0, reverse=True)


def applies(rule: dict[str, Any], context: dict[str, Any]) -> bool:
    for condition in rule.get("conditions") or []:
        if not operators.check(condition, context):
            LOG.debug(
                "Skipping rule %s: condition %s %s failed", rule.get("uuid"), condition.get("op"), condition.get("args")
            )
            return False
    return True


def apply_rules(
    rules: Iterable[dict[str, Any]],
    node: dict[str, Any],
    target: Target,
    inventory: dict[str, Any],
    *,
    mask_secrets: str = "always",
) -> list[str]:
    """Apply ``rules`` to ``target``; returns the uuids of the rules whose actions ran.

    ``node`` is the node record (read through ``{node.…}`` together with the target's changes so far).
    """
    applied: list[str] = []
    for rule in ordered(rules):
        mask = mask_secrets == "always" or (mask_secrets == "sensitive" and not rule.get("sensitive"))
        context = {
            "node": NodeView({**node, **target.node, "traits": list(target.traits)}),
            "inventory": masked(inventory, mask),
            "plugin_data": masked(target.plugin_data, mask),
        }
        try:
            if not applies(rule, context):
                continue
            LOG.info("Applying actions for rule %s to node %s", rule.get("uuid"), node.get("uuid"))
            for action in rule.get("actions") or []:
                actions.execute(action, target, context)
        except HardwareInspectionFailure:
            raise
        except errors.IronworksError as exc:
            raise RuleFailed(rule=rule.get("uuid"), node=node.get("uuid"), error=exc.message) from exc
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            raise RuleFailed(rule=rule.get("uuid"), node=node.get("uuid"), error=repr(exc)) from exc
        applied.append(str(rule.get("uuid")))
    actions.check_types(target)
    return applied
