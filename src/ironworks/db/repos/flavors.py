"""Flavor storage (an Ironworks extension): records are dicts of the flavor's columns."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from ironworks import errors
from ironworks.db.models import Flavor
from ironworks.db.repos.base import Repository, sortable

FLAVORS = cast(Table, Flavor.__table__)
SORTABLE = sortable(FLAVORS)


def not_found(ident: str) -> errors.NotFound:
    return errors.NotFound(f"Flavor {ident} could not be found.")


class FlavorRepo(Repository[Flavor]):
    model = Flavor
    named = True
    unique = [
        ("uuid", lambda _: errors.Conflict("A flavor with that UUID already exists.")),
        ("name", lambda _: errors.Conflict("A flavor with that name already exists.")),
    ]

    def not_found(self, ident: str) -> errors.IronworksError:
        return not_found(ident)
