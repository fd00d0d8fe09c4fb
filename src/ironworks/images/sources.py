"""What the deploy agent can fetch and verify: the image source policy, checked when a request comes in.

The ramdisk agent downloads an image itself, over ``http://`` or ``https://`` only, and verifies it with sha256
or sha512; MD5 is disabled, as Ironic's ``[agent]allow_md5_checksum`` is by default. A source it would refuse
is refused here instead, with 400, by the image catalogue (``/v1/images``), ``/v1/instances`` and a deploy
request (the direct deploy's ``validate``), so nothing fails minutes later inside the ramdisk.

``file://`` URLs: Ironic serves them from its conductor's own HTTP server (and only from its
``file_url_allowed_paths``); Ironworks does not, yet, so they are refused with a pointer to an http(s) URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ironworks import errors

SCHEMES = ("http://", "https://")
#: hash algorithm the agent verifies -> length of its hex digest
AGENT_HASHES = {"sha256": 64, "sha512": 128}
#: hex digest length -> algorithm, for a bare ``image_checksum``
_BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_HEX = re.compile(r"^[0-9a-f]+$")

MD5_DISABLED = (
    "MD5 image checksums are disabled (as Ironic's [agent]allow_md5_checksum = False): give a sha256 or sha512 "
    "digest (os_hash_algo and os_hash_value)."
)


def _bad(message: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(message)


def check_url(url: Any, what: str = "Image URL") -> str:
    if not isinstance(url, str) or not url:
        raise _bad(f"{what} is required.")
    if url.startswith("file://"):
        raise _bad(
            f"{what} {url!r}: file:// URLs are not supported; the ramdisk agent downloads the image itself, over "
            f"http(s) only. Serve the file over HTTP and give its http:// or https:// URL."
        )
    if not url.startswith(SCHEMES):
        raise _bad(f"{what} {url!r} must start with http:// or https://.")
    return url


def check_hash(algo: str, value: str) -> None:
    """An ``os_hash_algo`` / ``os_hash_value`` pair the agent can verify."""
    if algo == "md5":
        raise _bad(MD5_DISABLED)
    if algo not in AGENT_HASHES:
        raise _bad(f"Image hash algorithm {algo!r} is not supported by the deploy agent: use sha256 or sha512.")
    if len(value) != AGENT_HASHES[algo] or not _HEX.match(value):
        raise _bad(f"os_hash_value is not a {algo} hex digest.")


def check_checksum(checksum: str) -> None:
    """Ironic's ``image_checksum``: ``<algo>:<hex>`` or a bare hex digest (its length names the algorithm)."""
    text = checksum.strip().lower()
    algo, _, value = text.rpartition(":") if ":" in text and "://" not in text else ("", "", text)
    if "://" in text:
        raise _bad("A checksum URL is not supported by the deploy agent: give the sha256 or sha512 digest itself.")
    check_hash(algo or _BY_LENGTH.get(len(value), "unknown"), value)


def check_image(url: Any, checksum: Any = None, algo: Any = None, value: Any = None, what: str = "Image URL") -> None:
    """The whole source: URL, then either the hash pair or the (legacy) checksum."""
    check_url(url, what)
    if algo and value:
        check_hash(str(algo).lower(), str(value).lower())
    elif checksum:
        check_checksum(str(checksum))
    else:
        raise _bad("An image needs a sha256 or sha512 checksum (os_hash_algo and os_hash_value).")


def check_instance_info(info: Mapping[str, Any]) -> None:
    """A node's ``instance_info`` image fields, at the deploy request (direct deploy ``validate``)."""
    check_image(
        info.get("image_source"),
        info.get("image_checksum"),
        info.get("image_os_hash_algo"),
        info.get("image_os_hash_value"),
        "instance_info.image_source",
    )
