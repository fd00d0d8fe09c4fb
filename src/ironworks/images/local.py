"""Which conductor-local files an API user may point Ironworks at: the path policy.

Two kinds of local path come in through the API (``driver_info``) or the settings:

* **deploy kernels and ramdisks** (``deploy_kernel`` / ``deploy_ramdisk``): a local path is copied onto the boot
  file server, which answers anyone on the provisioning network without authentication. Only files under
  ``local_image_dirs`` qualify (default: ``<state_dir>/images``, ``<state_dir>/ramdisk-cache`` and the shared
  ramdisk build cache); the service's own secret files (the SQLite database, the htpasswd file, the switches
  file) never do, whatever the directories say.
* **the fake driver's power file** (``fake_power_file``): the fake BMC writes it, so it must lie under
  ``<state_dir>/fake/``.

Paths are resolved first (symlinks followed, ``..`` removed), so a link or a ``../`` cannot lead out of an allowed
directory. Every refusal is ``InvalidParameterValue`` (400), at enrollment, PATCH, validation and again when the
file is used. Only a path's own name and the directories allowed are quoted back, never a file's content.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ironworks import errors

if TYPE_CHECKING:
    from ironworks.settings import Settings

#: the ramdisk build cache the lab, tests and benchmarks share (lab/ramdisk/builder.py ``shared_cache_dir``)
SHARED_RAMDISK_CACHE = "/var/tmp/ironworks-ramdisk-cache"
#: driver_info keys (and settings) naming a deploy kernel or ramdisk
IMAGE_KEYS = ("deploy_kernel", "deploy_ramdisk")
FAKE_POWER_KEY = "fake_power_file"
_URL_SCHEMES = ("http://", "https://")


def image_dirs(settings: Settings) -> tuple[Path, ...]:
    """The resolved directories local deploy images may come from."""
    configured: Iterable[str] = settings.local_image_dirs or (
        str(Path(settings.state_dir) / "images"),
        str(Path(settings.state_dir) / "ramdisk-cache"),
        SHARED_RAMDISK_CACHE,
    )
    return tuple(Path(d).resolve() for d in configured if d)


def fake_dir(settings: Settings) -> Path:
    """The one directory the fake driver's files may live in: ``<state_dir>/fake``."""
    return (Path(settings.state_dir) / "fake").resolve()


def secret_files(settings: Settings) -> set[Path]:
    """Files that are never served whatever ``local_image_dirs`` says: the database and credential files."""
    found: set[Path] = set()
    url = settings.effective_database_url
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        found.update(Path(f"{db}{suffix}") for suffix in ("", "-wal", "-shm", "-journal"))
    for name in (settings.http_basic_auth_user_file, settings.switches_file):
        if name:
            found.add(Path(name))
    return {p.resolve() for p in found}


def _resolve(text: str, what: str) -> Path:
    if "\x00" in text:
        raise errors.InvalidParameterValue(f"{what} contains a NUL byte.")
    path = Path(text)
    if not path.is_absolute():
        raise errors.InvalidParameterValue(f"{what} {text!r} must be an absolute path or an http(s) URL.")
    return path.resolve()


def _inside(path: Path, directories: Iterable[Path]) -> bool:
    return any(path.is_relative_to(d) for d in directories)


def check_image_ref(ref: Any, settings: Settings, what: str) -> str:
    """Accept an http(s) URL as is; a local path (or ``file://`` URL) only under ``local_image_dirs``.

    Returns the reference to use: the URL, or the resolved local path. Raises InvalidParameterValue (400).
    """
    if not isinstance(ref, str) or not ref.strip():
        raise errors.InvalidParameterValue(f"{what} must be a non-empty string.")
    if ref.startswith(_URL_SCHEMES):
        return ref
    text = ref.removeprefix("file://")
    if "://" in text:
        raise errors.InvalidParameterValue(f"{what} {ref!r}: only http://, https:// or a local path are supported.")
    path = _resolve(text, what)
    allowed = image_dirs(settings)
    if path in secret_files(settings) or not _inside(path, allowed):
        raise errors.InvalidParameterValue(
            f"{what} {ref!r} is not in a local image directory ({', '.join(map(str, allowed)) or 'none'}): put "
            f"the file there (setting local_image_dirs) or give an http(s) URL."
        )
    return str(path)


def check_fake_power_file(ref: Any, settings: Settings) -> Path:
    """The resolved ``fake_power_file``, which must lie under ``<state_dir>/fake/``."""
    what = f"driver_info.{FAKE_POWER_KEY}"
    if not isinstance(ref, str) or not ref.strip():
        raise errors.InvalidParameterValue(f"{what} must be a non-empty string.")
    path = _resolve(ref, what)
    allowed = fake_dir(settings)
    if path == allowed or not path.is_relative_to(allowed):
        raise errors.InvalidParameterValue(f"{what} {ref!r} must be a file under {allowed}{os.sep}.")
    return path


def check_driver_info(driver_info: Mapping[str, Any], settings: Settings) -> None:
    """The local paths a node's ``driver_info`` names (enrollment and PATCH): 400 for any outside its directory."""
    for key in IMAGE_KEYS:
        if driver_info.get(key):
            check_image_ref(driver_info[key], settings, f"driver_info.{key}")
    if driver_info.get(FAKE_POWER_KEY):
        check_fake_power_file(driver_info[FAKE_POWER_KEY], settings)
