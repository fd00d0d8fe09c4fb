"""Deploy template storage: records are plain dicts of the template's columns (steps as a JSON list)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import cast

from sqlalchemy import Table, select

from ironworks import errors
from ironworks.db.models import DeployTemplate
from ironworks.db.repos.base import Record, Repository, sortable

TEMPLATES = cast(Table, DeployTemplate.__table__)

#: columns a list may be sorted by (JSON columns cannot be)
SORTABLE = sortable(TEMPLATES)


class DeployTemplateRepo(Repository[DeployTemplate]):
    """By uuid (any case) or name."""

    model = DeployTemplate
    named = True
    lower_uuid = True
    unique = [
        ("uuid", lambda values: errors.DeployTemplateAlreadyExists(uuid=values.get("uuid"))),
        ("name", lambda values: errors.DeployTemplateDuplicateName(name=values.get("name"))),
    ]

    def not_found(self, ident: str) -> errors.IronworksError:
        return errors.DeployTemplateNotFound(template=ident)

    def list_by_names(self, names: Iterable[str]) -> builtins.list[Record]:
        """The templates named in ``names`` (an instance's traits), in name order."""
        wanted = sorted({n for n in names if isinstance(n, str)})
        if not wanted:
            return []
        with self.db.read() as session:
            rows = session.execute(
                select(TEMPLATES).where(TEMPLATES.c.name.in_(wanted)).order_by(TEMPLATES.c.name)
            ).mappings()
            return [dict(r) for r in rows]
