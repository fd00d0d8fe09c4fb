"""Inspection rule storage: records are plain dicts of the rule's columns (conditions/actions as JSON lists)."""

from __future__ import annotations

import builtins
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from ironworks import errors
from ironworks.db.models import InspectionRule
from ironworks.db.repos.base import Record, Repository

RULES = cast(Table, InspectionRule.__table__)

#: columns a list may be sorted by (Ironic refuses actions and conditions)
SORTABLE = frozenset(c.name for c in RULES.columns if c.name not in ("actions", "conditions"))


class InspectionRuleNotFound(errors.NotFound):
    template = "Rule %(rule)s could not be found."


class InspectionRuleAlreadyExists(errors.Duplicate):
    template = "A rule with UUID %(uuid)s already exists."


class InspectionRuleRepo(Repository[InspectionRule]):
    """By UUID only (any case), as Ironic; ``filters={"phase": …}`` on lists."""

    model = InspectionRule
    lower_uuid = True
    unique = [("uuid", lambda values: InspectionRuleAlreadyExists(uuid=values.get("uuid")))]

    def not_found(self, ident: str) -> errors.IronworksError:
        return InspectionRuleNotFound(rule=ident)

    def for_phase(self, session: Session, phase: str) -> builtins.list[Record]:
        """Every rule of ``phase`` (inside the caller's transaction), in creation order."""
        rows = session.execute(select(RULES).where(RULES.c.phase == phase).order_by(RULES.c.id)).mappings()
        return [dict(r) for r in rows]
