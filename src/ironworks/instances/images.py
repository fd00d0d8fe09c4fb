"""The image catalogue, and turning an instance's ``image`` (a catalogue name or an inline source) into the
``instance_info`` fields a deploy needs.

An image is whole-disk (partition images are not supported), ``raw`` or ``qcow2``, at an ``http(s)://`` URL,
checked by ``os_hash_algo`` + ``os_hash_value`` (sha256 or sha512: what the deploy agent verifies). ``file://``
URLs and MD5 (the legacy ``checksum`` field, ``os_hash_algo`` md5) are refused with 400 (images/sources.py).
Everything is checked before anything is written; a name that is a UUID is refused so lookups by name or uuid
never clash.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.db.repos.base import Record
from ironworks.db.repos.images import ImageNotFound, ImageRepo
from ironworks.identifiers import is_valid_logical_name, new_uuid, normalize_uuid
from ironworks.images import sources
from ironworks.resources.schemas import images as schema
from ironworks.resources.schemas.validation import parse_model

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)

DISK_FORMATS = ("raw", "qcow2")
IMAGE_TYPES = ("whole-disk",)
#: hash algorithm -> length of its hex digest
HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
_HEX = re.compile(r"^[0-9a-f]+$")
_SCHEMES = ("http://", "https://", "file://")


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """A checked image source: what an instance records and what goes into the node's instance_info."""

    url: str
    disk_format: str
    checksum: str | None = None
    os_hash_algo: str | None = None
    os_hash_value: str | None = None
    image_type: str = "whole-disk"
    name: str | None = None

    def as_record(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def instance_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "image_source": self.url,
            "image_disk_format": self.disk_format,
            "image_type": self.image_type,
        }
        if self.os_hash_algo:
            info.update(image_os_hash_algo=self.os_hash_algo, image_os_hash_value=self.os_hash_value)
        else:
            info["image_checksum"] = self.checksum
        return info


def _bad(message: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(message)


def check_source(source: schema.ImageSource, name: str | None = None) -> ImageSpec:
    """The ImageSpec of a parsed source, or 400 saying what is wrong."""
    sources.check_url(source.url)  # http(s) only: what the agent downloads
    disk_format = source.disk_format or "raw"
    if disk_format not in DISK_FORMATS:
        raise _bad(f"Image disk_format {disk_format!r} is not one of {', '.join(DISK_FORMATS)}.")
    image_type = source.image_type or "whole-disk"
    if image_type not in IMAGE_TYPES:
        raise _bad(f"Image type {image_type!r} is not supported: only whole-disk images are.")
    checksum = source.checksum.lower() if source.checksum else None
    algo = source.os_hash_algo.lower() if source.os_hash_algo else None
    value = source.os_hash_value.lower() if source.os_hash_value else None
    if (algo is None) != (value is None):
        raise _bad("os_hash_algo and os_hash_value go together.")
    if checksum is None and algo is None:
        raise _bad("An image needs a checksum, or os_hash_algo and os_hash_value.")
    if checksum is not None and algo is not None:
        raise _bad("Give either checksum or os_hash_algo and os_hash_value, not both.")
    if algo is not None:
        if algo not in HASH_LENGTHS:
            raise _bad(f"os_hash_algo {algo!r} is not one of {', '.join(HASH_LENGTHS)}.")
        assert value is not None
        if len(value) != HASH_LENGTHS[algo] or not _HEX.match(value):
            raise _bad(f"os_hash_value is not a {algo} hex digest.")
    if checksum is not None and (len(checksum) != HASH_LENGTHS["md5"] or not _HEX.match(checksum)):
        raise _bad("checksum must be an MD5 hex digest; use os_hash_algo and os_hash_value for others.")
    if checksum is not None:
        raise _bad(sources.MD5_DISABLED)
    if algo is not None and value is not None:
        sources.check_hash(algo, value)  # sha256 / sha512 only
    return ImageSpec(
        url=source.url,
        disk_format=disk_format,
        checksum=checksum,
        os_hash_algo=algo,
        os_hash_value=value,
        image_type=image_type,
        name=name,
    )


def resolve(svc: Services, image: Any) -> ImageSpec:
    """An instance's ``image``: a catalogue name or uuid (unknown: 400), or an inline source object."""
    if isinstance(image, str):
        try:
            record = ImageRepo(svc.db).get(image)
        except ImageNotFound as exc:
            raise _bad(exc.message) from None
        spec = spec_of(record)
        sources.check_image(spec.url, spec.checksum, spec.os_hash_algo, spec.os_hash_value)  # older entries
        return spec
    if isinstance(image, dict):
        return check_source(parse_model(schema.ImageSource, image))
    raise errors.Invalid("'image' must be an image name, or an object with url, checksum and disk_format.")


def spec_of(record: Record) -> ImageSpec:
    return ImageSpec(
        url=record["url"],
        disk_format=record["disk_format"],
        checksum=record["checksum"],
        os_hash_algo=record["os_hash_algo"],
        os_hash_value=record["os_hash_value"],
        image_type=record["image_type"],
        name=record["name"],
    )


# --- the catalogue ------------------------------------------------------------------------------------------
def find(svc: Services, ident: str) -> Record:
    return ImageRepo(svc.db).get(ident)


def list_images(svc: Services, **page: Any) -> list[Record]:
    return ImageRepo(svc.db).list(**page)


def create(svc: Services, body: dict[str, Any]) -> Record:
    model = parse_model(schema.ImageCreate, body)
    if not is_valid_logical_name(model.name):
        raise _bad(f"Invalid image name {model.name!r}: letters, digits, '-', '.', '_' and '~', not a UUID.")
    spec = check_source(model, model.name)
    values = {
        "uuid": normalize_uuid(model.uuid) if model.uuid else new_uuid(),
        "name": model.name,
        "url": spec.url,
        "checksum": spec.checksum,
        "os_hash_algo": spec.os_hash_algo,
        "os_hash_value": spec.os_hash_value,
        "disk_format": spec.disk_format,
        "image_type": spec.image_type,
        "description": model.description,
        "extra": model.extra or {},
    }
    record = ImageRepo(svc.db).create(values)
    LOG.info("Added image %s (%s) to the catalogue", record["name"], record["uuid"])
    return record


def delete(svc: Services, ident: str) -> None:
    """Remove a catalogue entry; instances made from it keep their own copy of its source."""
    record = ImageRepo(svc.db).delete(ident)
    LOG.info("Removed image %s (%s) from the catalogue", record["name"], record["uuid"])
