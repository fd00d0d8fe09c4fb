"""Image catalogue storage (an Ironworks extension): records are dicts of the image's columns."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from ironworks import errors
from ironworks.db.models import Image
from ironworks.db.repos.base import Repository, sortable

IMAGES = cast(Table, Image.__table__)
SORTABLE = sortable(IMAGES)


class ImageNotFound(errors.NotFound):
    template = "Image %(image)s could not be found."


class ImageRepo(Repository[Image]):
    model = Image
    named = True
    unique = [
        ("uuid", lambda _: errors.Conflict("An image with that UUID already exists.")),
        ("name", lambda _: errors.Conflict("An image with that name already exists.")),
    ]

    def not_found(self, ident: str) -> errors.IronworksError:
        return ImageNotFound(image=ident)
