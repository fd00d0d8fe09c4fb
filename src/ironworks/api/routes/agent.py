"""The agent's API (docs/agent-protocol.md): lookup, heartbeat, command long poll and results, and the stored
inventory (``GET /v1/nodes/{node}/inventory``).

Lookup issues the agent token once per ramdisk boot; every later call must carry it (header
``X-Ironworks-Agent-Token``, or ``agent_token`` in a heartbeat body) or gets 401. Only the token's hash is
stored. Heartbeats record what the agent reports and let ``drivers/agent/resume.py`` continue the waiting flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any, cast

from sqlalchemy import Table, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ironworks import errors, states
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.conductor.service import Conductor
from ironworks.conductor.task import acquire, load
from ironworks.db.models import Port, utcnow
from ironworks.db.repos import agent_commands as repo
from ironworks.db.repos.base import Record
from ironworks.drivers.agent import fasttrack, resume
from ironworks.drivers.agent.channel import (
    RECHECK_SECONDS,
    TOKEN_HASH,
    AgentChannel,
    hash_token,
    new_token,
    token_matches,
)
from ironworks.identifiers import is_uuid_like
from ironworks.inventory import nodes as inventory
from ironworks.logs import MASK, mask_secrets

PORTS = cast(Table, Port.__table__)
TOKEN_HEADER = "X-Ironworks-Agent-Token"
#: states in which a node expects its ramdisk agent
AGENT_STATES = (states.DEPLOYING, states.DEPLOYWAIT, states.CLEANING, states.CLEANWAIT, states.INSPECTING,
                states.INSPECTWAIT, states.RESCUING, states.RESCUEWAIT)
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
HEARTBEAT_INTERVAL = 10
AGENT_HEARTBEAT_TIMEOUT = 300
POLL_WAIT_DEFAULT = 30
POLL_WAIT_MAX = 60
_RESULT_KEYS = {"status", "result", "error", "started_at", "finished_at"}
_HEARTBEAT_KEYS = {"callback_url", "agent_token", "agent_version", "busy", "current_command", "progress",
                   "agent_verify_ca", "agent_status", "agent_status_message"}


class AgentTokenRejected(errors.IronworksError):
    http_status = 401
    template = "The agent token is missing, wrong or no longer valid for node %(node)s."


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
    """A ramdisk state, or a resting state with fast track (the agent stays up between operations)."""
    return node["provision_state"] in AGENT_STATES or fasttrack.agent_may_call(node, ctx.services.settings)


def _node_by_uuid(ctx: Ctx, ident: str) -> Record:
    if not is_uuid_like(ident):
        raise errors.NodeNotFound(node=ident)
    with ctx.services.db.read() as session:
        return load(session, ident)


def _authorised(ctx: Ctx, body_token: Any = None) -> Record:
    """The node of the path, if the request carries its valid agent token (401 otherwise)."""
    node = _node_by_uuid(ctx, ctx.path_params["node"])
    header = ctx.request.headers.get(TOKEN_HEADER)
    if header and body_token and header != body_token:
        raise AgentTokenRejected(node=node["uuid"])
    token = header or body_token
    stored = (node["driver_internal_info"] or {}).get(TOKEN_HASH)
    if not isinstance(token, str) or not _expects_agent(ctx, node) or not token_matches(token, stored):
        raise AgentTokenRejected(node=node["uuid"])
    return node


# --- lookup -------------------------------------------------------------------------------------------------
def _find_for_lookup(ctx: Ctx, macs: list[str], node_uuid: str | None) -> Record:
    with ctx.services.db.read() as session:
        if node_uuid:
            try:
                return load(session, node_uuid)
            except errors.NodeNotFound:
                pass
        if macs:
            ids = session.execute(select(PORTS.c.node_id).where(PORTS.c.address.in_(macs))).scalars().all()
            for node_id in sorted(set(ids)):
                return load(session, node_id)
    raise errors.NotFound("No node was found for the given addresses.")


def lookup(ctx: Ctx) -> Any:
    ctx.check_params(("addresses", "node_uuid"))
    macs = [m.strip().lower() for m in (ctx.q_str("addresses") or "").split(",") if m.strip()]
    node_uuid = ctx.q_str("node_uuid")
    bad = [m for m in macs if not _MAC.match(m)]
    if bad:
        raise errors.InvalidMAC(f"Invalid MAC address(es): {', '.join(bad)}.")
    if node_uuid is not None and not is_uuid_like(node_uuid):
        raise errors.InvalidUUID(uuid=node_uuid)
    if not macs and not node_uuid:
        raise errors.Invalid("Lookup needs 'addresses' (MACs) or 'node_uuid'.")
    found = _find_for_lookup(ctx, macs, node_uuid)
    if not _expects_agent(ctx, found):
        raise errors.NotFound("No node was found for the given addresses.")
    token = MASK
    with acquire(_conductor(ctx).ctx, found["id"], "agent lookup") as task:
        node = task.node
        if not _expects_agent(ctx, node):
            raise errors.NotFound("No node was found for the given addresses.")
        if not (node["driver_internal_info"] or {}).get(TOKEN_HASH):
            token = new_token()
            task.set_internal(**{TOKEN_HASH: hash_token(token)})
    internal = {k: v for k, v in (node["driver_internal_info"] or {}).items() if k != TOKEN_HASH}
    return {
        "node": {"uuid": node["uuid"], "properties": mask_secrets(node["properties"] or {}),
                 "instance_info": mask_secrets(node["instance_info"] or {}),
                 "driver_internal_info": mask_secrets(internal)},
        "config": {"agent_token": token, "agent_token_required": True,
                   "heartbeat_timeout": AGENT_HEARTBEAT_TIMEOUT,
                   "heartbeat_interval": HEARTBEAT_INTERVAL, "poll_wait": POLL_WAIT_DEFAULT,
                   "agent_md5_checksum_enable": False},
    }


# --- heartbeat ------------------------------------------------------------------------------------------------
def heartbeat(ctx: Ctx) -> Any:
    ctx.check_params(())
    body = ctx.json_object() if ctx.raw_body.strip() else {}
    unknown = set(body) - _HEARTBEAT_KEYS
    if unknown:
        raise errors.Invalid(f"Unknown heartbeat field(s): {', '.join(sorted(unknown))}.")
    node = _authorised(ctx, body.get("agent_token"))
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
    resume.on_callback(_conductor(ctx), _channel(ctx), node["uuid"], record)
    return Reply(202)


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
    return {"command": {"id": command["uuid"], "name": command["name"], "params": command["params"] or {},
                        "created_at": _iso_z(command["created_at"])}}


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
    # Ironic gates this at 1.81; Ironworks serves it at every version as an extension, like node history.
    ctx.check_params(())
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    with ctx.services.db.read() as session:
        row = repo.get_inventory(session, node["id"])
    if row is None:
        raise errors.NotFound(f"Node {node['uuid']} has no inventory.")
    return {"inventory": row["inventory"], "plugin_data": row["plugin_data"]}


routes = [
    Route("/v1/lookup", endpoint(lookup), methods=["GET"]),
    Route("/v1/heartbeat/{node}", endpoint(heartbeat), methods=["POST"]),
    Route("/v1/agent/{node}/commands/next", next_command, methods=["GET"]),
    Route("/v1/agent/{node}/commands/{command}/result", endpoint(post_result), methods=["POST"]),
    Route("/v1/nodes/{node}/inventory", endpoint(get_inventory), methods=["GET"]),
]
