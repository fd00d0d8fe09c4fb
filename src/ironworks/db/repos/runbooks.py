"""Runbook storage: records are plain dicts of the runbook's columns (steps and traits as JSON lists)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, or_

from ironworks import errors
from ironworks.db.models import Runbook
from ironworks.db.repos.base import Repository, sortable

RUNBOOKS = cast(Table, Runbook.__table__)

#: columns a list may be sorted by (Ironic refuses extra, steps and traits; JSON columns cannot be sorted)
SORTABLE = sortable(RUNBOOKS)


class RunbookRepo(Repository[Runbook]):
    """By uuid (any case) or name. The ``project`` filter: the runbooks it owns and the public ones."""

    model = Runbook
    named = True
    lower_uuid = True
    unique = [
        ("uuid", lambda values: errors.RunbookAlreadyExists(uuid=values.get("uuid"))),
        ("name", lambda values: errors.RunbookDuplicateName(name=values.get("name"))),
    ]

    def not_found(self, ident: str) -> errors.IronworksError:
        return errors.RunbookNotFound(runbook=ident)

    def filter_clause(self, key: str, value: Any) -> Any:
        if key == "project":
            return or_(RUNBOOKS.c.owner == value, RUNBOOKS.c.public.is_(True))
        return super().filter_clause(key, value)
