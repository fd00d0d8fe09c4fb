"""The agent's API (docs/agent-protocol.md): lookup, heartbeat, command long poll and results, and the stored
inventory (``GET /v1/nodes/{node}/inventory``).

Lookup issues the agent token once per ramdisk boot, only while the node waits for its agent, and only to a
claimant whose address is a DHCP lease of one of the node's MACs or who shows the boot's secret
(``drivers/agent/trust.py``, §9 of the protocol document). A second claim fails the node's operation. Every later
call must carry the token (header ``X-Ironworks-Agent-Token``, or ``agent_token`` in a heartbeat body) and come
from the address it was issued to, or gets 401; a heartbeat's header token is checked before its body is read.
``POST /v1/heartbeat`` naming the node in the body (``node_ident``, as Ironic's pecan routing accepts) runs the
same checks once its bounded body is read; like Ironic it is not a public route when authentication is on.
Only the token's hash is stored. Heartbeats record what the agent reports and let ``drivers/agent/resume.py``
continue the waiting flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid as uuidlib
from typing import Any, cast

from sqlalchemy import Table, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ironworks import errors, states
from ironworks.api.common import Ctx, Reply, endpoint, error_response, version_headers
from ironworks.conductor.service import Conductor
from ironworks.conductor.task import acquire, load
from ironworks.db.models import Port, utcnow
from ironworks.db.repos import agent_commands as repo
from ironworks.db.repos.base import Record
from ironworks.drivers.agent import fasttrack, resume, trust
from ironworks.drivers.agent.channel import (
    RECHECK_SECONDS,
    TOKEN_HASH,
    AgentChannel,
    new_token,
    token_matches,
)
from ironworks.identifiers import is_uuid_like
from ironworks.inventory import nodes as inventory
from ironworks.logs import mask_secrets
from ironworks.netboot.leases import LeaseTable, lease_file
from ironworks.resources import microversion as mv

LOG = logging.getLogger(__name__)

PORTS = cast(Table, Port.__table__)
TOKEN_HEADER = "X-Ironworks-Agent-Token"
#: states in which a node expects its ramdisk agent
AGENT_STATES = (
    states.DEPLOYING,
    states.DEPLOYWAIT,
    states.CLEANING,
    states.CLEANWAIT,
    states.INSPECTING,
    states.INSPECTWAIT,
    states.RESCUING,
    states.RESCUEWAIT,
    states.SERVICING,
    states.SERVICEWAIT,
)
#: states in which a node waits for its agent: the only ones (besides fast track's) where a token is issued
WAIT_STATES = (states.DEPLOYWAIT, states.CLEANWAIT, states.INSPECTWAIT, states.RESCUEWAIT, states.SERVICEWAIT)
#: driver_internal_info keys never shown to the agent
_PRIVATE_KEYS = {TOKEN_HASH, trust.BOOT_SECRET_HASH, trust.USED_SECRET_HASH, trust.AGENT_ADDRESS}
#: a heartbeat carrying its token only in the body (Ironic's agent) may not be larger than this
HEARTBEAT_MAX_BYTES = 64 * 1024
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
HEARTBEAT_INTERVAL = 10
AGENT_HEARTBEAT_TIMEOUT = 300
POLL_WAIT_DEFAULT = 30
POLL_WAIT_MAX = 60
_RESULT_KEYS = {"status", "result", "error", "started_at", "finished_at"}
_HEARTBEAT_KEYS = {
    "callback_url",
    "agent_token",
    "agent_version",
    "busy",
    "current_command",
    "progress",
    "agent_verify_ca",
    "agent_status",
    "agent_status_message",
}


#: Ironic's valid ``agent_status`` values (API 1.72)
AGENT_STATUSES = ("start", "end", "error")


class AgentTokenRejected(errors.IronworksError):
    http_status = 401
    template = "The agent token is missing, wrong or no longer valid for node %(node)s."


class SecondClaim(errors.Conflict):
    template = (
        "The agent token of node %(node)s was issued already for this ramdisk boot; this second lookup "
        "failed the node's operation (see its last_error)."
    )


def _channel(ctx: Ctx) -> AgentChannel:
    channel = getattr(ctx.services, "agent", None)
    if channel is None:
        raise errors.NoFreeWorker("The agent channel is not running in this service.")
    return cast(AgentChannel, channel)


def _conductor(ctx: Ctx) -> Conductor:
    conductor = getattr(ctx.services, "conductor", None)
    if conductor is None or not conductor.started:
        raise errors.NoFreeWorker("No conductor is running in this service.")
    return cast(Conductor, conductor)


def _expects_agent(ctx: Ctx, node: Record) -> bool:
    return _expects_agent_settings(ctx.services.settings, node)


def _expects_agent_settings(settings: Any, node: Record) -> bool:
    """A ramdisk state, or a resting state with fast track (the agent stays up between operations)."""
    return node["provision_state"] in AGENT_STATES or fasttrack.agent_may_call(node, settings)


def _node_by_uuid(ctx: Ctx, ident: str) -> Record:
    if not is_uuid_like(ident):
        raise errors.NodeNotFound(node=ident)
    with ctx.services.db.read() as session:
        return load(session, ident)


def _authorised(ctx: Ctx, body_token: Any = None, ident: str | None = None) -> Record:
    """The node of the path (or ``ident``), if the request carries its valid agent token and comes from the
    address the token was issued to (401 otherwise)."""
    node = _node_by_uuid(ctx, ctx.path_params["node"] if ident is None else ident)
    header = ctx.request.headers.get(TOKEN_HEADER)
    if header and body_token and header != body_token:
        raise AgentTokenRejected(node=node["uuid"])
    _check_token(ctx.services.settings, ctx.request, node, header or body_token)
    return node


def _check_token(settings: Any, request: Request, node: Record, token: Any) -> None:
    stored = (node["driver_internal_info"] or {}).get(TOKEN_HASH)
    if not isinstance(token, str) or not _expects_agent_settings(settings, node) or not token_matches(token, stored):
        raise AgentTokenRejected(node=node["uuid"])
    if not trust.bound_address_ok(node, trust.client_address(request, settings)):
        LOG.warning("Node %s: a call with its agent token came from another address than the token's", node["uuid"])
        raise AgentTokenRejected(node=node["uuid"])


# --- lookup -------------------------------------------------------------------------------------------------
def _node_macs(ctx: Ctx, node_id: int) -> list[str]:
    with ctx.services.db.read() as session:
        return [
            str(m).lower()
            for m in session.execute(select(PORTS.c.address).where(PORTS.c.node_id == node_id)).scalars().all()
        ]


def _find_for_lookup(ctx: Ctx, macs: list[str], node_uuid: str | None) -> Record:
    """The node owning a port with one of ``macs``; with ``node_uuid`` it must be that node."""
    with ctx.services.db.read() as session:
        ids = session.execute(select(PORTS.c.node_id).where(PORTS.c.address.in_(macs))).scalars().all()
        for node_id in sorted(set(ids)):
            node = load(session, node_id)
            if node_uuid is None or node["uuid"] == node_uuid:
                return node
    raise errors.NotFound("No node was found for the given addresses.")


def _leases(ctx: Ctx) -> LeaseTable:
    """The service's dnsmasq leases (one cached reader per application)."""
    state = ctx.request.app.state
    table = getattr(state, "agent_leases", None)
    if not isinstance(table, LeaseTable):
        table = state.agent_leases = LeaseTable(lease_file(ctx.services.settings))
    return table


def _may_issue(ctx: Ctx, node: Record) -> bool:
    """A token is issued only while the node waits for an agent, once per ramdisk boot."""
    if trust.claimed(node) or (node["driver_internal_info"] or {}).get(TOKEN_HASH):
        return False
    if node["provision_state"] in WAIT_STATES:
        return True
    # fast track, resting: only for a ramdisk boot Ironworks prepared that no agent has claimed yet
    return fasttrack.agent_may_call(node, ctx.services.settings) and trust.prepared(node)


def _second_claim(task: Any, address: str | None) -> None:
    """A token was issued for this boot already: whoever claims again, the boot can no longer be trusted."""
    node = task.node
    bound = (node["driver_internal_info"] or {}).get(trust.AGENT_ADDRESS) or "an unrecorded address"
    message = (
        f"A second agent lookup for node {node['uuid']} came from {address} after its agent token had "
        f"been issued (to {bound}) for this ramdisk boot; the agent can no longer be trusted, so the "
        f"operation was failed."
    )
    LOG.error("%s", message)
    if node["provision_state"] in WAIT_STATES:
        task.fail(message)
        return
    fasttrack.forget_agent(task)  # fast track will not use this agent; its token stops working
    task.update(last_error=message)
    task.record(message, "agent lookup")


def lookup(ctx: Ctx) -> Any:
    ctx.check_params(("addresses", "node_uuid"))
    macs = [m.strip().lower() for m in (ctx.q_str("addresses") or "").split(",") if m.strip()]
    node_uuid = ctx.q_str("node_uuid")
    bad = [m for m in macs if not _MAC.match(m)]
    if bad:
        raise errors.InvalidMAC(f"Invalid MAC address(es): {', '.join(bad)}.")
    if node_uuid is not None and not is_uuid_like(node_uuid):
        raise errors.InvalidUUID(uuid=node_uuid)
    if not macs:
        raise errors.Invalid("Lookup needs 'addresses' (the machine's MACs); a node UUID alone is not accepted.")
    settings = ctx.services.settings
    address = trust.client_address(ctx.request, settings)
    secret = ctx.request.headers.get(trust.SECRET_HEADER)
    found = _find_for_lookup(ctx, macs, node_uuid)
    if not _expects_agent(ctx, found):
        raise errors.NotFound("No node was found for the given addresses.")
    leased = _leases(ctx).leased_to(address, _node_macs(ctx, found["id"]))
    with acquire(_conductor(ctx).ctx, found["id"], "agent lookup") as task:
        node = task.node
        if not _expects_agent(ctx, node):
            raise errors.NotFound("No node was found for the given addresses.")
        if not leased and not trust.secret_matches(node, secret):
            LOG.warning(
                "Node %s: agent lookup from %s refused: not its DHCP lease and no valid boot secret",
                node["uuid"],
                address,
            )
            raise errors.NotFound("No node was found for the given addresses.")
        if trust.claimed(node) or (node["driver_internal_info"] or {}).get(TOKEN_HASH):
            _second_claim(task, address)
            raise SecondClaim(node=node["uuid"])
        if not _may_issue(ctx, node):
            raise errors.NotFound("No node was found for the given addresses.")
        token = new_token()
        trust.claim(task, TOKEN_HASH, token, address)
    LOG.info("Node %s: agent token issued to %s (%s)", node["uuid"], address, "DHCP lease" if leased else "boot secret")
    internal = {k: v for k, v in (node["driver_internal_info"] or {}).items() if k not in _PRIVATE_KEYS}
    return {
        "node": {
            "uuid": node["uuid"],
            "properties": mask_secrets(node["properties"] or {}),
            "instance_info": mask_secrets(node["instance_info"] or {}),
            "driver_internal_info": mask_secrets(internal),
        },
        "config": {
            "agent_token": token,
            "agent_token_required": True,
            "heartbeat_timeout": AGENT_HEARTBEAT_TIMEOUT,
            "heartbeat_interval": HEARTBEAT_INTERVAL,
            "poll_wait": POLL_WAIT_DEFAULT,
            "agent_md5_checksum_enable": False,
        },
    }


# --- heartbeat ------------------------------------------------------------------------------------------------
def _check_versioned_fields(body: dict[str, Any], version: int) -> None:
    """Ironic's gates: ``agent_verify_ca`` from 1.68, ``agent_status``/``agent_status_message`` from 1.72 (400)."""
    if (body.get("agent_status") or body.get("agent_status_message")) and version < mv.HEARTBEAT_STATUS:
        raise errors.InvalidParameterValue('Fields "agent_status" and "agent_status_message" not recognised.')
    if body.get("agent_verify_ca") is not None and version < mv.HEARTBEAT_VERIFY_CA:
        raise errors.InvalidParameterValue('Field "agent_verify_ca" not recognised in this version')
    status = body.get("agent_status")
    if status is not None and status not in AGENT_STATUSES:
        raise errors.InvalidParameterValue(f"Agent status is invalid. Valid states are {','.join(AGENT_STATUSES)}.")


def heartbeat(ctx: Ctx) -> Any:
    """``POST /v1/heartbeat/{node}``."""
    ctx.check_params(())
    body = ctx.json_object() if ctx.raw_body.strip() else {}
    return _heartbeat_of(ctx, body, None)


def heartbeat_by_body(ctx: Ctx) -> Any:
    """``POST /v1/heartbeat`` with ``node_ident`` in the body: Ironic's pecan fills the controller's ``node_ident``
    argument from JSON body keys, so its agents' heartbeats may name the node there."""
    ctx.check_params(())
    body = ctx.json_object() if ctx.raw_body.strip() else {}
    ident = body.pop("node_ident", None)
    if not isinstance(ident, str) or not ident:
        raise errors.Invalid('Missing argument: "node_ident"')
    return _heartbeat_of(ctx, body, ident)


def _heartbeat_of(ctx: Ctx, body: dict[str, Any], ident: str | None) -> Any:
    unknown = set(body) - _HEARTBEAT_KEYS
    if unknown:
        raise errors.Invalid(f"Unknown heartbeat field(s): {', '.join(sorted(unknown))}.")
    _check_versioned_fields(body, ctx.version)
    node = _authorised(ctx, body.get("agent_token"), ident)
    progress = body.get("progress")
    if progress is not None and not isinstance(progress, dict):
        raise errors.Invalid("'progress' must be an object or null.")
    record = {
        "agent_last_heartbeat": utcnow().isoformat() + "Z",
        "agent_url": str(body.get("callback_url") or "") or None,
        "agent_version": str(body["agent_version"]) if body.get("agent_version") else None,
        "agent_busy": bool(body.get("busy")),
        "agent_progress": progress,
    }
    # kept as Ironic's agent_base does (only when given): the 1.68 CA path and the 1.72 status, for operators
    record.update({key: body[key] for key in ("agent_verify_ca", "agent_status", "agent_status_message")
                   if body.get(key)})
    resume.on_callback(_conductor(ctx), _channel(ctx), node["uuid"], record)
    return Reply(202)


_heartbeat = endpoint(heartbeat)
_heartbeat_by_body = endpoint(heartbeat_by_body)


def _token_refusal(request: Request) -> errors.IronworksError | None:
    """Checked before the body is read: a token in the header must be valid; without one, the body (where Ironic's
    agent puts the token) may be at most HEARTBEAT_MAX_BYTES."""
    services = request.app.state.services
    header = request.headers.get(TOKEN_HEADER)
    ident = request.path_params.get("node", "")
    if header is None:
        length = request.headers.get("content-length")
        if length is None or not length.isdigit() or int(length) > HEARTBEAT_MAX_BYTES:
            return AgentTokenRejected(
                f"A heartbeat without the {TOKEN_HEADER} header must carry its token in a body of known length "
                f"below {HEARTBEAT_MAX_BYTES} bytes."
            )
        return None
    try:
        if not is_uuid_like(ident):
            raise errors.NodeNotFound(node=ident)
        with services.db.read() as session:
            node = load(session, ident)
        _check_token(services.settings, request, node, header)
    except errors.IronworksError as exc:
        return exc
    return None


async def heartbeat_endpoint(request: Request) -> Response:
    """The heartbeat: the token is checked before a byte of the body is read (a wrong token never costs a parse)."""
    refusal = await run_in_threadpool(_token_refusal, request)
    if refusal is not None:
        headers = {"Openstack-Request-Id": f"req-{uuidlib.uuid4()}", **version_headers(None)}
        return error_response(refusal, headers)
    return await _heartbeat(request)


async def heartbeat_by_body_endpoint(request: Request) -> Response:
    """The heartbeat naming its node in the body: no node to check a header token against before the body is
    read, so every such body must be of known length below HEARTBEAT_MAX_BYTES; then the same checks run."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > HEARTBEAT_MAX_BYTES:
        refusal = AgentTokenRejected(f"A heartbeat naming its node in the body must have a body of known length "
                                     f"below {HEARTBEAT_MAX_BYTES} bytes.")
        headers = {"Openstack-Request-Id": f"req-{uuidlib.uuid4()}", **version_headers(None)}
        return error_response(refusal, headers)
    return await _heartbeat_by_body(request)


# --- commands -------------------------------------------------------------------------------------------------
def _iso_z(value: Any) -> str | None:
    return None if value is None else value.isoformat(timespec="milliseconds") + "Z"


def poll_once(ctx: Ctx) -> Any:
    """One look for the next command (token checked each time); ``next_command`` repeats it while waiting."""
    ctx.check_params(("wait",))
    node = _authorised(ctx)
    ctx.q_int("wait")  # 400 for a non-integer
    command = _channel(ctx).next_command(node["id"])
    if command is None:
        return Reply(204)
    return {
        "command": {
            "id": command["uuid"],
            "name": command["name"],
            "params": command["params"] or {},
            "created_at": _iso_z(command["created_at"]),
        }
    }


_poll_once = endpoint(poll_once)


async def next_command(request: Request) -> Response:
    """The long poll: waits on the event loop (no worker thread held) until a command is queued or ``wait``
    seconds passed, re-reading the database at least every ``RECHECK_SECONDS`` (other processes' commands)."""
    try:
        wait = max(1, min(int(request.query_params.get("wait", POLL_WAIT_DEFAULT)), POLL_WAIT_MAX))
    except ValueError:
        wait = 1  # poll_once answers 400
    channel: AgentChannel | None = getattr(request.app.state.services, "agent", None)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        entry = channel.waiter() if channel is not None else None
        try:
            response = await _poll_once(request)
            remaining = deadline - loop.time()
            if response.status_code != 204 or remaining <= 0 or entry is None:
                return response
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(entry[1].wait(), min(remaining, RECHECK_SECONDS))
        finally:
            if entry is not None and channel is not None:
                channel.drop_waiter(entry)


def post_result(ctx: Ctx) -> Any:
    ctx.check_params(())
    node = _authorised(ctx)
    body = ctx.json_object()
    unknown = set(body) - _RESULT_KEYS
    if unknown:
        raise errors.Invalid(f"Unknown result field(s): {', '.join(sorted(unknown))}.")
    status = body.get("status")
    if status not in repo.FINISHED:
        raise errors.Invalid("'status' must be SUCCEEDED or FAILED.")
    result, error = body.get("result"), body.get("error")
    if result is not None and not isinstance(result, dict):
        raise errors.Invalid("'result' must be an object or null.")
    if error is not None and not isinstance(error, dict):
        raise errors.Invalid("'error' must be an object or null.")
    if status == repo.FAILED and not error:
        raise errors.Invalid("A FAILED result needs an 'error' object.")
    stored = _channel(ctx).finish(node["id"], ctx.path_params["command"], status, result, error)
    if stored:
        with contextlib.suppress(errors.Conflict):  # node busy: the agent's next heartbeat continues the flow
            resume.on_callback(_conductor(ctx), _channel(ctx), node["uuid"])
    return Reply(204)


# --- inventory ------------------------------------------------------------------------------------------------
def get_inventory(ctx: Ctx) -> Any:
    ctx.check_params(())
    if ctx.version < mv.INVENTORY:  # as Ironic: no inventory sub-resource below 1.81 (404)
        raise errors.NotFound(f"The resource could not be found: {ctx.request.url.path}")
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    with ctx.services.db.read() as session:
        row = repo.get_inventory(session, node["id"])
    if row is None:
        raise errors.NotFound(f"Node {node['uuid']} has no inventory.")
    return {"inventory": row["inventory"], "plugin_data": row["plugin_data"]}


routes = [
    Route("/v1/lookup", endpoint(lookup), methods=["GET"]),
    Route("/v1/heartbeat/{node}", heartbeat_endpoint, methods=["POST"]),
    Route("/v1/heartbeat", heartbeat_by_body_endpoint, methods=["POST"]),
    Route("/v1/agent/{node}/commands/next", next_command, methods=["GET"]),
    Route("/v1/agent/{node}/commands/{command}/result", endpoint(post_result), methods=["POST"]),
    Route("/v1/nodes/{node}/inventory", endpoint(get_inventory), methods=["GET"]),
]
