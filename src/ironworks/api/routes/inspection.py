"""``POST /v1/continue_inspection`` (API 1.84, and exactly 1.1 as Ironic keeps it for ironic-inspector's
ramdisks): a ramdisk posts its inspection data (``inventory`` + plugin data) and the node finishes inspecting.

As Ironic: 404 "API version 1.84 or newer is required" at 1.2–1.83 (and for ``?node_uuid=`` below 1.84); the
body must hold ``inventory.interfaces`` (≥ 1, each with ``mac_address``); the node is looked up by the
interfaces' MACs, the ``bmc_address``/``bmc_v6address`` of the inventory (against ``driver_info`` ``*_address``
of nodes in ``inspect wait``) and ``node_uuid``, every mismatch or ambiguity answering the same bare 404; the
node must be in ``inspect wait`` (404). The answer is 202: at 1.84+ the lookup shape (``node``: uuid,
properties, instance_info, driver_internal_info, links; ``config`` with the agent token), at 1.1 ``{"uuid"}``.

Agent trust (docs/agent-protocol.md §9, the rules ``/v1/lookup`` enforces, reused from ``agent.py``): the data
is accepted only from an address Ironworks' DHCP leased to one of the node's MACs, or with the boot's secret
(``X-Ironworks-Boot-Secret``), or with the agent token already issued for this boot (``X-Ironworks-Agent-Token``,
from the address it was issued to; the answer then carries ``******`` as Ironic's does when a token exists).
Otherwise: the same 404 as an unknown node. Posting it claims the boot: the token is issued here, once; a
second claimant without the token fails the inspection (409). Bodies are bounded (``MAX_BYTES``, known length)
before they are read: the endpoint needs no credentials.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ironworks import errors, states
from ironworks.api.common import Ctx, Reply, endpoint, error_response, version_headers
from ironworks.api.routes import agent
from ironworks.conductor.flows import inspect
from ironworks.conductor.task import acquire, load
from ironworks.db.repos.nodes import NODES
from ironworks.drivers.agent import trust
from ironworks.drivers.agent.channel import TOKEN_HASH, new_token
from ironworks.identifiers import is_uuid_like, normalize_mac
from ironworks.logs import mask_secrets
from ironworks.netboot.leases import normalise_address
from ironworks.resources import microversion as mv

LOG = logging.getLogger(__name__)

#: inspection data larger than this is refused before it is read (Ironic's ramdisk logs included)
MAX_BYTES = 16 * 1024 * 1024
PORTS = agent.PORTS


class LookupFailed(errors.NotFound):
    template = "Resource could not be found."  # one answer for every lookup failure, as Ironic


def _gate(ctx: Ctx, node_uuid: str | None) -> None:
    new = ctx.version >= mv.CONTINUE_INSPECTION
    if not (new or ctx.version == mv.MIN_MINOR) or (node_uuid is not None and not new):
        raise errors.NotFound(f"API version 1.{mv.CONTINUE_INSPECTION} or newer is required")


def _schema(message: str) -> errors.IronworksError:
    return errors.InvalidParameterValue(f"Schema error: {message}")


def _validate(data: dict[str, Any]) -> dict[str, Any]:
    """Ironic's ``DATA_VALIDATOR``: the minimal inventory a lookup needs."""
    if "inventory" not in data:
        raise _schema("'inventory' is a required property")
    inventory = data["inventory"]
    if not isinstance(inventory, dict):
        raise _schema(f"{inventory!r} is not of type 'object'")
    for key in ("bmc_address", "bmc_v6address"):
        if inventory.get(key) is not None and not isinstance(inventory[key], str):
            raise _schema(f"{inventory[key]!r} is not of type 'string', 'null'")
    if "interfaces" not in inventory:
        raise _schema("'interfaces' is a required property")
    ifaces = inventory["interfaces"]
    if not isinstance(ifaces, list):
        raise _schema(f"{ifaces!r} is not of type 'array'")
    if not ifaces:
        raise _schema("[] should be non-empty")
    for iface in ifaces:
        if not isinstance(iface, dict):
            raise _schema(f"{iface!r} is not of type 'object'")
        if "mac_address" not in iface:
            raise _schema("'mac_address' is a required property")
        if not isinstance(iface["mac_address"], str):
            raise _schema(f"{iface['mac_address']!r} is not of type 'string'")
    return inventory


def _valid_macs(inventory: dict[str, Any]) -> list[str]:
    macs = []
    for iface in inventory["interfaces"]:
        try:
            macs.append(normalize_mac(iface["mac_address"]))
        except errors.IronworksError:
            LOG.warning("Continue inspection: invalid MAC address %r ignored", iface["mac_address"][:64])
    return macs


def _bmc_addresses(driver_info: dict[str, Any]) -> set[str]:
    """The node's BMC addresses as Ironic's ``_get_bmc_addresses`` takes them (no DNS resolution here)."""
    found = set()
    for name, value in (driver_info or {}).items():
        if not name.endswith("_address") or not isinstance(value, str):
            continue
        host = urlparse(value).hostname if "//" in value else value.strip("[]")
        address = normalise_address(host or "")
        if address is not None and not address.startswith("127.") and address != "::1":
            found.add(address)
    return found


def _lookup(ctx: Ctx, macs: list[str], bmcs: list[str], node_uuid: str | None) -> dict[str, Any]:
    """Ironic's ``lookup_node``: every failure the same 404."""
    with ctx.services.db.read() as session:
        node = None
        if node_uuid is not None:
            try:
                node = load(session, node_uuid)
            except errors.NotFound:
                raise LookupFailed() from None
        if macs:
            ids = set(session.execute(select(PORTS.c.node_id).where(PORTS.c.address.in_(macs))).scalars())
            if len(ids) > 1:
                LOG.error("Conflict on inspection lookup: multiple nodes match MAC addresses %s", ", ".join(macs))
                raise LookupFailed()
            if ids:
                by_mac = load(session, ids.pop())
                if node is not None and by_mac["uuid"] != node["uuid"]:
                    raise LookupFailed()
                node = by_mac
        if node is not None and node["provision_state"] != states.INSPECTWAIT:
            LOG.error(
                "Node %s was found during inspection lookup but is in provision state %s",
                node["uuid"],
                node["provision_state"],
            )
            raise LookupFailed()
        if bmcs:
            wanted = {a for a in (normalise_address(b) for b in bmcs) if a}
            rows = session.execute(
                select(NODES.c.uuid, NODES.c.driver_info).where(NODES.c.provision_state == states.INSPECTWAIT)
            ).all()
            by_bmc = {uuid for uuid, info in rows if _bmc_addresses(info) & wanted}
            if node is not None and by_bmc and node["uuid"] not in by_bmc:
                raise LookupFailed()
            if node is None and by_bmc:
                if len(by_bmc) > 1:
                    raise LookupFailed()
                node = load(session, by_bmc.pop())
    if node is None:
        LOG.error(
            "No nodes satisfy MAC addresses (%s) and BMC address(es) (%s) during inspection lookup",
            ", ".join(macs),
            ", ".join(bmcs),
        )
        raise LookupFailed()  # Ironic's auto-discovery (off by default) is not offered
    return node


def _answer(ctx: Ctx, node: dict[str, Any], token: str) -> dict[str, Any]:
    internal = {k: v for k, v in (node["driver_internal_info"] or {}).items() if k not in agent._PRIVATE_KEYS}
    return {
        "node": {
            "uuid": node["uuid"],
            "properties": mask_secrets(node["properties"] or {}),
            "instance_info": mask_secrets(node["instance_info"] or {}),
            "driver_internal_info": mask_secrets(internal),
            "links": ctx.links("nodes", node["uuid"]),
        },
        "config": {
            "agent_token": token,
            "agent_token_required": True,
            "heartbeat_timeout": agent.AGENT_HEARTBEAT_TIMEOUT,
            "heartbeat_interval": agent.HEARTBEAT_INTERVAL,
            "poll_wait": agent.POLL_WAIT_DEFAULT,
            "agent_md5_checksum_enable": False,
        },
    }


def continue_inspection(ctx: Ctx) -> Any:
    node_uuid = ctx.q_str("node_uuid")
    _gate(ctx, node_uuid)
    ctx.check_params(("node_uuid",))
    if node_uuid is not None and not is_uuid_like(node_uuid):
        raise errors.InvalidUUID(f"Expected a UUID for node_uuid but received {node_uuid[:64]!r}.")
    data = ctx.json_object()
    inventory = _validate(data)
    plugin_data = {k: v for k, v in data.items() if k != "inventory"}
    macs = _valid_macs(inventory)
    bmcs = [a for a in (inventory.get("bmc_address"), inventory.get("bmc_v6address")) if a]
    if not macs and not bmcs and node_uuid is None:
        raise errors.Invalid("No lookup information provided")
    found = _lookup(ctx, macs, bmcs, node_uuid)
    settings = ctx.services.settings
    address = trust.client_address(ctx.request, settings)
    secret = ctx.request.headers.get(trust.SECRET_HEADER)
    token_header = ctx.request.headers.get(agent.TOKEN_HEADER)
    leased = agent._leases(ctx).leased_to(address, agent._node_macs(ctx, found["id"]))
    conductor = agent._conductor(ctx)
    with acquire(conductor.ctx, found["id"], "continue inspection") as task:
        node = task.node
        if node["provision_state"] != states.INSPECTWAIT:
            raise LookupFailed()
        if token_header is not None:
            agent._check_token(settings, ctx.request, node, token_header)  # 401: wrong token or address
            token = "******"  # issued already (Ironic answers the same when a token exists)
        else:
            if not leased and not trust.secret_matches(node, secret):
                LOG.warning(
                    "Node %s: inspection data from %s refused: not its DHCP lease, no valid boot secret",
                    node["uuid"],
                    address,
                )
                raise LookupFailed()
            if trust.claimed(node) or (node["driver_internal_info"] or {}).get(TOKEN_HASH):
                agent._second_claim(task, address)
                raise agent.SecondClaim(node=node["uuid"])
            token = ""
        slot = conductor.reserve_worker()  # 503 before anything is claimed: the ramdisk may post again
        try:
            if not token:
                token = new_token()
                trust.claim(task, TOKEN_HASH, token, address)
                LOG.info("Node %s: agent token issued to %s with its inspection data", node["uuid"], address)
            answer = _answer(ctx, task.node, token) if ctx.version >= mv.CONTINUE_INSPECTION else {"uuid": node["uuid"]}
            task.process_event("resume", target=task.node["target_provision_state"])
        except Exception:
            slot.cancel()
            raise
        conductor.run(slot, task, inspect.CONTINUE, {"inventory": inventory, "plugin_data": plugin_data})
    return Reply(202, answer)


_continue = endpoint(continue_inspection)


async def continue_inspection_endpoint(request: Request) -> Response:
    """The body's size is checked before it is read: anyone may call this endpoint."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_BYTES:
        refusal = errors.Invalid(f"Inspection data must be a body of known length of at most {MAX_BYTES} bytes.")
        headers = {"Openstack-Request-Id": f"req-{uuidlib.uuid4()}", **version_headers(None)}
        return error_response(refusal, headers)
    return await _continue(request)


routes = [Route("/v1/continue_inspection", continue_inspection_endpoint, methods=["POST"])]
