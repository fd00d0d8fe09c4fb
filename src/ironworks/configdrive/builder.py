"""Config drives from the ``configdrive`` argument of deploy/rebuild, in either of Ironic's two forms.

1. **An image**: gzipped, base64-encoded ISO9660 text. It is decoded and checked to be an ISO (``iso.decode``),
   then kept as given; a root password or SSH keys cannot be added to it (400).
2. **A dict** with ``meta_data``, ``network_data``, ``user_data`` and ``vendor_data`` (all optional, no other
   keys). ``meta_data`` gets the node's ``uuid`` and ``name`` unless given, ``hostname`` defaults to the node's
   name, and root SSH keys are added to ``public_keys``. ``network_data`` defaults to the document generated
   from the node's VIFs (passed in by the caller). ``user_data`` goes through ``userdata.compose``.
   ``vendor_data`` is written as ``vendor_data2.json`` (as openstacksdk does); ``vendor_data_static`` as
   ``vendor_data.json``.

The image holds the same files under ``openstack/latest/`` and each dated version directory (``VERSIONS``), so
cloud-init reads network_data.json (it needs a version from 2015-10-15 on). The result carries both the ISO bytes
and the gzip+base64 text Ironic stores in ``instance_info``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ironworks import errors
from ironworks.configdrive import iso, network_data, userdata
from ironworks.configdrive.userdata import RootLogin

VERSIONS = ("2018-08-27", "latest")
DICT_KEYS = frozenset({"meta_data", "network_data", "user_data", "vendor_data"})
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


@dataclass(frozen=True)
class ConfigDrive:
    image: bytes

    @property
    def encoded(self) -> str:
        """gzip+base64, the form Ironic stores and the agent writes."""
        return iso.encode(self.image)


def meta_data(
    given: Mapping[str, Any] | None,
    *,
    node_uuid: str,
    node_name: str | None = None,
    hostname: str | None = None,
    public_keys: Mapping[str, str] | None = None,
    availability_zone: str | None = None,
) -> dict[str, Any]:
    """meta_data.json: the given document completed with the node's identity and the root SSH keys."""
    if given is not None and not isinstance(given, Mapping):
        raise errors.InvalidConfigDrive(reason="meta_data must be an object")
    meta: dict[str, Any] = dict(given or {})
    meta.setdefault("uuid", node_uuid)
    if node_name:
        meta.setdefault("name", node_name)
    host = hostname or meta.get("hostname") or (node_name if node_name and _HOSTNAME.match(node_name) else None)
    if host:
        if not isinstance(host, str) or not _HOSTNAME.match(host.lower()):
            raise errors.InvalidConfigDrive(reason=f"{host!r} is not a valid hostname")
        meta["hostname"] = host
    meta.setdefault("launch_index", 0)
    if availability_zone:
        meta.setdefault("availability_zone", availability_zone)
    keys = meta.get("public_keys") or {}
    if not isinstance(keys, Mapping):
        raise errors.InvalidConfigDrive(reason="meta_data.public_keys must be an object of {name: key}")
    merged = {str(k): userdata.check_ssh_key(str(k), str(v)) for k, v in keys.items()}
    for name, key in (public_keys or {}).items():
        merged.setdefault(name, userdata.check_ssh_key(name, key))
    if merged:
        meta["public_keys"] = merged
    return meta


def _json(doc: Any) -> bytes:
    return json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n"


def build(
    meta: Mapping[str, Any],
    *,
    network: Mapping[str, Any] | None = None,
    user_data: bytes | None = None,
    vendor_data: Mapping[str, Any] | None = None,
    vendor_data_static: Mapping[str, Any] | None = None,
    versions: Sequence[str] = VERSIONS,
) -> ConfigDrive:
    """A config-2 image with these documents under each version directory."""
    files: dict[str, bytes] = {}
    for version in versions:
        base = f"openstack/{version}/"
        files[base + "meta_data.json"] = _json(meta)
        if network is not None:
            files[base + "network_data.json"] = _json(network)
        if user_data is not None:
            files[base + "user_data"] = user_data
        if vendor_data is not None:
            files[base + "vendor_data2.json"] = _json(vendor_data)
        if vendor_data_static is not None:
            files[base + "vendor_data.json"] = _json(vendor_data_static)
    return ConfigDrive(iso.make_iso(files))


def from_request(
    configdrive: str | Mapping[str, Any],
    *,
    node_uuid: str,
    node_name: str | None = None,
    generated_network_data: Mapping[str, Any] | None = None,
    root: RootLogin | None = None,
    availability_zone: str | None = None,
    vendor_data_static: Mapping[str, Any] | None = None,
) -> ConfigDrive:
    """The config drive a deploy/rebuild ``configdrive`` argument asks for (see the module docstring)."""
    if isinstance(configdrive, str):
        if root:
            raise errors.InvalidConfigDrive(
                reason="a root password or SSH keys cannot be added to a ready-made image; send a dict instead"
            )
        return ConfigDrive(iso.decode(configdrive))
    if not isinstance(configdrive, Mapping):
        raise errors.InvalidConfigDrive(reason="expected a gzipped base64 ISO string or an object")
    unknown = set(configdrive) - DICT_KEYS
    if unknown:
        raise errors.InvalidConfigDrive(
            reason=f"unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(DICT_KEYS))}"
        )
    vendor = configdrive.get("vendor_data")
    if vendor is not None and not isinstance(vendor, Mapping):
        raise errors.InvalidConfigDrive(reason="vendor_data must be an object")
    network = configdrive.get("network_data")
    if network is None:
        network = generated_network_data
    elif not isinstance(network, Mapping):
        raise errors.InvalidConfigDrive(reason="network_data must be an object")
    if network is not None:
        network = network_data.validate_document(dict(network))
    raw_user = configdrive.get("user_data")
    if raw_user is not None and not isinstance(raw_user, str | Mapping | list):
        raise errors.InvalidConfigDrive(reason="user_data must be a string, an object or a list")
    meta = meta_data(
        configdrive.get("meta_data"),
        node_uuid=node_uuid,
        node_name=node_name,
        public_keys=root.ssh_keys if root else None,
        availability_zone=availability_zone,
    )
    return build(
        meta,
        network=network,
        user_data=userdata.compose(raw_user, root),
        vendor_data=vendor,
        vendor_data_static=vendor_data_static,
    )
