"""Checking a server create request completely before anything is written: the ``Plan``.

Everything a create needs is resolved here, in this order, and a failure is a 400 (or 403/409) in Ironic's
error format with nothing written:

1. The body's shape (unknown fields, wrong types). ``root_password`` and ``user_data`` are checked by hand so
   an error message never quotes them.
2. The owner: ``owner`` (or its alias ``project``); a caller confined to a project (not an admin) may only
   create servers for that project, which becomes the owner.
3. Name (a logical name, unused in the owner's project: names are unique per project) and hostname
   (RFC 1123; defaults to the name when the name is one).
4. What to allocate: a flavor that exists, or a resource class (+ traits); candidate nodes are resolved by the
   scheduler, which also refuses before writing.
5. The image (instances/images.py): a catalogue name or an inline source with its checksum.
6. The networks: each exists and the caller may use it (its project's or shared; any other network is
   answered exactly like a missing one), has the ``tenant`` role, and a ``fixed_ip`` lies inside its CIDR.
7. Root access: SSH public keys, and the root password hashed now (SHA-512 crypt): the clear text goes no
   further than this module. The user_data that reaches the config drive is composed here too
   (configdrive/userdata.py), with the hash and ``disable_root: false`` for the keys.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.auth.identity import Forbidden
from ironworks.configdrive import userdata
from ironworks.configdrive.userdata import RootLogin
from ironworks.db.repos.instances import InstanceRepo
from ironworks.db.repos.networks import NetLookup
from ironworks.identifiers import is_valid_logical_name, new_uuid, validate_trait
from ironworks.instances import images
from ironworks.instances.images import ImageSpec
from ironworks.networking import addressing
from ironworks.networking.networks import repo as network_repo
from ironworks.networking.vifs import usable
from ironworks.resources.schemas import instances as schema
from ironworks.resources.schemas.validation import parse_model

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
#: the largest user_data accepted (Nova's limit)
MAX_USER_DATA = 65535


@dataclasses.dataclass(frozen=True)
class Plan:
    """A checked server create request."""

    uuid: str
    name: str
    hostname: str
    owner: str | None
    caller_project: str | None
    flavor: str | None
    resource_class: str | None
    traits: tuple[str, ...]
    candidate_nodes: tuple[str, ...] | None
    image: ImageSpec
    networks: tuple[tuple[str, str | None], ...]
    ssh_keys: tuple[str, ...]
    has_root_password: bool
    has_user_data: bool
    #: the config drive's user_data: the user's data merged with root's password hash and SSH access
    user_data: str | None = dataclasses.field(repr=False)

    def public_keys(self) -> dict[str, str]:
        return {f"key-{i}": key for i, key in enumerate(self.ssh_keys)}

    def configdrive(self) -> dict[str, Any]:
        """The deploy's configdrive dict; network_data is generated from the VIFs when the deploy starts."""
        meta: dict[str, Any] = {"uuid": self.uuid, "name": self.name, "hostname": self.hostname}
        if self.ssh_keys:
            meta["public_keys"] = self.public_keys()
        drive: dict[str, Any] = {"meta_data": meta}
        if self.user_data is not None:
            drive["user_data"] = self.user_data
        return drive


def _owner(body: schema.InstanceCreate, caller_project: str | None) -> str | None:
    if body.owner is not None and body.project is not None and body.owner != body.project:
        raise errors.InvalidParameterValue("owner and project name the same thing; they differ.")
    owner = body.owner or body.project
    if caller_project is not None:
        if owner is not None and owner != caller_project:
            raise Forbidden(action=f"creating an instance for project {owner}")
        owner = caller_project
    return owner


def _hostname(body: schema.InstanceCreate) -> str:
    if body.hostname is not None:
        host = body.hostname.lower()
        if not _HOSTNAME.match(host):
            raise errors.InvalidParameterValue(f"Invalid hostname {body.hostname!r} (RFC 1123: a-z, 0-9, '-', '.').")
        return host
    host = body.name.lower()
    if not _HOSTNAME.match(host):
        raise errors.InvalidParameterValue(f"The name {body.name!r} is not a valid hostname; give a hostname.")
    return host


def _networks(
    svc: Services, wanted: list[schema.NetworkRequest | str], scope: str | None
) -> tuple[tuple[str, str | None], ...]:
    specs = [schema.NetworkRequest(network=w) if isinstance(w, str) else w for w in wanted]

    def check(lk: NetLookup) -> list[tuple[str, str | None]]:
        out = []
        for spec in specs:
            network = usable(lk, spec.network, scope)
            if network is None:
                raise errors.InvalidParameterValue(f"Network {spec.network} could not be found.")
            if "tenant" not in (network["roles"] or []):
                raise errors.InvalidParameterValue(
                    f"Network {network['name']} does not have the 'tenant' role; servers attach to tenant networks."
                )
            fixed = addressing.check_fixed(network, spec.fixed_ip, ()) if spec.fixed_ip is not None else None
            out.append((network["name"], fixed))
        return out

    checked: list[tuple[str, str | None]] = network_repo(svc).read(check)
    if len({name for name, _ in checked}) != len(checked):
        raise errors.InvalidParameterValue("A network is named twice; a server gets one VIF per network.")
    return tuple(checked)


def _root(body: schema.InstanceCreate) -> tuple[RootLogin, Any]:
    password = body.root_password
    if password is not None and (not isinstance(password, str) or not password):
        raise errors.InvalidParameterValue("root_password must be a non-empty string.")
    data = body.user_data
    if data is not None and not isinstance(data, str | Mapping | list):
        raise errors.InvalidParameterValue("user_data must be a string, an object or a list.")
    if isinstance(data, str) and len(data.encode()) > MAX_USER_DATA:
        raise errors.InvalidParameterValue(f"user_data is larger than {MAX_USER_DATA} bytes.")
    keys = {f"key-{i}": userdata.check_ssh_key(f"key-{i}", key) for i, key in enumerate(body.ssh_keys or ())}
    return RootLogin(password=password, ssh_keys=keys), data


def plan(svc: Services, raw: dict[str, Any], caller_project: str | None) -> Plan:
    """Check a POST /v1/instances body (see the module docstring); raises the error to answer."""
    body = parse_model(schema.InstanceCreate, raw)
    owner = _owner(body, caller_project)
    if not is_valid_logical_name(body.name):
        raise errors.InvalidParameterValue(
            f"Invalid instance name {body.name!r}: letters, digits, '-', '.', '_' and '~', not a UUID."
        )
    hostname = _hostname(body)
    if body.flavor is None and body.resource_class is None:
        raise errors.InvalidParameterValue("Give a flavor, or a resource_class (with optional traits).")
    if body.flavor is not None:
        try:
            svc.flavors.get(body.flavor)
        except errors.NotFound as exc:
            raise errors.InvalidParameterValue(exc.message) from None
    traits = tuple(validate_trait(t) for t in body.traits or ())
    if body.image is None:
        raise errors.Invalid("'image' is a required property: an image name, or {url, checksum, disk_format}.")
    image = images.resolve(svc, body.image)
    networks = _networks(svc, body.networks or [], caller_project)
    root, data = _root(body)
    if InstanceRepo(svc.db).exists(body.name, owner):
        raise errors.Conflict(f"An instance named {body.name} already exists in the project.")
    composed = userdata.compose(data, root if root else None)
    return Plan(
        uuid=new_uuid(),
        name=body.name,
        hostname=hostname,
        owner=owner,
        caller_project=caller_project,
        flavor=body.flavor,
        resource_class=body.resource_class,
        traits=traits,
        candidate_nodes=tuple(body.candidate_nodes) if body.candidate_nodes is not None else None,
        image=image,
        networks=networks,
        ssh_keys=tuple(root.ssh_keys.values()),
        has_root_password=root.password is not None,
        has_user_data=data is not None and data != "",
        user_data=composed.decode("utf-8") if composed is not None else None,
    )
