"""The ``fake`` firmware interface of ``fake-hardware``: a simulated server with three firmware components.

The simulated versions live in ``driver_internal_info.fake_firmware`` (``{component: version}``; absent means
the factory versions, :data:`FACTORY`). ``cache_firmware_components`` (run when cleaning starts) reads them
into the node's firmware cache; the manual clean step ``update`` (Ironic's ``firmware.update`` with its
``settings`` list of ``{"component", "url"}``) "flashes" each component — to ``version`` when given, else to
the version at the end of the URL's file name (``bios-1.2.0.bin`` → ``1.2.0``) — records
``last_version_flashed`` and refreshes the cache. An unknown component, or a URL that is not http(s), fails the
step with Ironic's ``InvalidParameterValue`` and nothing changes.
"""

from __future__ import annotations

import posixpath
import re
import urllib.parse
from typing import Any

from ironworks import errors
from ironworks.drivers import base
from ironworks.drivers.base import TaskView, clean_step
from ironworks.drivers.firmware import parse_settings, record

STATE_KEY = "fake_firmware"
_TRAILING_VERSION = re.compile(r"(\d+(?:\.\d+)*)$")
FLASHED_KEY = "fake_firmware_flashed"

#: component -> (factory version, identity fields of API 1.114), as Ironic's redfish firmware reports them
FACTORY: dict[str, tuple[str, dict[str, str | None]]] = {
    "bios": ("1.0.0", {"vendor": None, "model": None, "serial_number": None}),
    "bmc": ("2.10.1", {"vendor": None, "model": "Fake BMC", "serial_number": None}),
    "nic:NIC.Slot.1": ("14.32.20", {"vendor": "Fake Networks", "model": "FN-25G", "serial_number": "FN0001"}),
}

_SETTINGS_ARG = {
    "settings": {
        "description": "List of Firmware components, each item needs to contain a dictionary with name/value pairs",
        "required": True,
    }
}


def _version_from(item: dict[str, Any]) -> str:
    if item.get("version") is not None:
        return str(item["version"])[:255]
    name = posixpath.basename(urllib.parse.urlsplit(item["url"]).path)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    found = _TRAILING_VERSION.search(stem)
    return (found.group(1) if found else stem)[:255] or "unknown"


class FakeFirmware(base.FirmwareInterface):
    name = "fake"

    def _versions(self, task: TaskView) -> dict[str, str]:
        current = task.node["driver_internal_info"].get(STATE_KEY)
        factory = {name: version for name, (version, _) in FACTORY.items()}
        return {**factory, **current} if isinstance(current, dict) else factory

    def read_components(self, task: TaskView) -> list[dict[str, Any]]:
        versions = self._versions(task)
        flashed = task.node["driver_internal_info"].get(FLASHED_KEY) or {}
        out = []
        for name, (_, identity) in FACTORY.items():
            item: dict[str, Any] = {"component": name, "current_version": versions[name], **identity}
            if name in flashed:
                item["last_version_flashed"] = flashed[name]
            out.append(item)
        return out

    def cache_firmware_components(self, task: TaskView) -> None:
        base_behave(task)
        record(task, self.read_components(task))

    @clean_step(priority=0, requires_ramdisk=False, argsinfo=_SETTINGS_ARG)
    def update(self, task: TaskView, settings: Any) -> None:
        """Flash the given firmware components (all or none) and cache the result."""
        items = parse_settings(settings)
        unknown = sorted({item["component"] for item in items} - set(FACTORY))
        if unknown:
            raise errors.InvalidParameterValue(
                f"Firmware component(s) {', '.join(unknown)} are not supported; supported: {', '.join(FACTORY)}."
            )
        base_behave(task)
        versions = self._versions(task)
        flashed = dict(task.node["driver_internal_info"].get(FLASHED_KEY) or {})
        for item in items:
            versions[item["component"]] = flashed[item["component"]] = _version_from(item)
        task.set_internal(**{STATE_KEY: versions, FLASHED_KEY: flashed})
        self.cache_firmware_components(task)


def base_behave(task: TaskView) -> None:
    """The injected sleep / failure of the ``firmware`` operation (drivers/fake.py's ``fake_*_firmware`` keys)."""
    from ironworks.drivers.fake import _behave

    _behave(task, "firmware")
