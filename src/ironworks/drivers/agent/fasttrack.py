"""Fast deploy: keep the ramdisk agent between operations (fast track) and kexec into the deployed kernel.

Most of a real deploy is firmware POST. Two ways around it:

**Fast track** (Ironic's semantics). With ``fast_track`` on (the setting, or the node's ``driver_info.fast_track``
which overrides it):

1. Cleaning and inspection end without powering the node off or removing the ramdisk's boot configuration;
   the agent keeps heartbeating and long-polling while the node rests in ``available`` / ``manageable``, where
   lookup and heartbeats stay allowed (``agent_may_call``).
2. An operation that needs the ramdisk next (the deploy's ``deploy`` step, cleaning, inspection) asks
   ``usable``: fast track on, the node powered on, an agent token issued and the last heartbeat within
   ``fast_track_timeout`` seconds. Then it sends its commands at once instead of rebooting into the ramdisk.
   Otherwise the normal path runs: the ramdisk is booted again, and an old agent, if one is still there, gets
   401 and looks the node up again.
3. When a deploy leaves the ramdisk, ``forget_agent`` drops the token and the heartbeat record, so an
   instance is never mistaken for a live agent.

**kexec.** When ``instance_info.kexec`` (or else the ``deploy_boot`` setting) asks for it, the deploy's
``tear_down_agent`` step sends the agent's ``kexec`` command instead of powering off: the agent finds the
deployed kernel, initrd and command line on the written disk, loads them, answers, and jumps into the kernel
(no firmware POST). A result with ``loaded: false`` (the image has no kernel the agent can find) falls back to
the power cycle, as does a failed command.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from ironworks import errors, states
from ironworks.drivers.agent.channel import TOKEN_HASH
from ironworks.drivers.agent.trust import AGENT_ADDRESS
from ironworks.drivers.base import TaskView
from ironworks.settings import Settings

LOG = logging.getLogger(__name__)

#: states a node rests in with its agent still running, when fast track is on (besides the agent states)
RESTING_STATES = (states.ENROLL, states.MANAGEABLE, states.AVAILABLE)
DEPLOY_BOOTS = ("reboot", "kexec")
#: driver_internal_info keys of the live agent
AGENT_KEYS = ("agent_last_heartbeat", "agent_url", "agent_busy", "agent_progress")
KEXEC_RESULT = "agent_kexec"


def _flag(value: Any, what: str) -> bool | None:
    """A boolean from JSON or a string ("true", "0"…); None when unset."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise errors.InvalidParameterValue(f"{what} must be a boolean, not {value!r}")


def enabled(node: dict[str, Any], settings: Settings) -> bool:
    """Fast track is on for ``node``: its ``driver_info.fast_track`` if set, else the setting."""
    try:
        per_node = _flag((node.get("driver_info") or {}).get("fast_track"), "driver_info.fast_track")
    except errors.InvalidParameterValue:
        return False  # an unreadable override never keeps a ramdisk running
    return settings.fast_track if per_node is None else per_node


def last_heartbeat(node: dict[str, Any]) -> dt.datetime | None:
    text = (node.get("driver_internal_info") or {}).get("agent_last_heartbeat")
    if not isinstance(text, str) or not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.rstrip("Z")).replace(tzinfo=None)
    except ValueError:
        return None


def agent_alive(node: dict[str, Any], timeout: float, now: dt.datetime | None = None) -> bool:
    """An agent token was issued and the agent's last heartbeat is at most ``timeout`` seconds old."""
    if not (node.get("driver_internal_info") or {}).get(TOKEN_HASH):
        return False
    seen = last_heartbeat(node)
    if seen is None:
        return False
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now - seen <= dt.timedelta(seconds=timeout)  # a stamp from the future (clock skew) counts as alive


def usable(task: TaskView) -> bool:
    """The next ramdisk operation can reuse the running agent instead of rebooting into a new one."""
    node = task.node
    if not enabled(node, task.settings):
        return False
    ok = node.get("power_state") == states.POWER_ON and agent_alive(node, task.settings.fast_track_timeout)
    LOG.info("Node %s: fast track %s", node.get("uuid"), "finds the agent alive" if ok else "finds no live agent")
    return ok


def agent_may_call(node: dict[str, Any], settings: Settings) -> bool:
    """Lookup and heartbeats are allowed in a resting state only with fast track (Ironic does the same)."""
    return node.get("provision_state") in RESTING_STATES and enabled(node, settings)


def forget_agent(task: TaskView) -> None:
    """The ramdisk is gone (or going): no token, no heartbeat record; fast track will not trust it again."""
    task.set_internal(**{TOKEN_HASH: None, AGENT_ADDRESS: None, **dict.fromkeys(AGENT_KEYS)})


# --- kexec ------------------------------------------------------------------------------------------------------
def kexec_requested(node: dict[str, Any], settings: Settings) -> bool:
    """``instance_info.kexec`` if set, else the ``deploy_boot`` setting."""
    per_node = _flag((node.get("instance_info") or {}).get("kexec"), "instance_info.kexec")
    if per_node is not None:
        return per_node
    return settings.deploy_boot == "kexec"


def validate(node: dict[str, Any], settings: Settings) -> None:
    """No I/O: the fast-deploy knobs of ``node`` are readable (400 otherwise)."""
    _flag((node.get("driver_info") or {}).get("fast_track"), "driver_info.fast_track")
    kexec_requested(node, settings)
    if settings.deploy_boot not in DEPLOY_BOOTS:
        raise errors.InvalidParameterValue(
            f"the deploy_boot setting must be one of {', '.join(DEPLOY_BOOTS)}, not {settings.deploy_boot!r}"
        )


def kexec_params(node: dict[str, Any]) -> dict[str, Any]:
    """The ``kexec`` command's parameters: the device the image was written to (the agent's choice otherwise)."""
    device = ((node.get("driver_internal_info") or {}).get("agent_image") or {}).get("device")
    return {"device": device} if device else {}


def apply_kexec_result(task: TaskView, result: dict[str, Any]) -> bool:
    """Record what the agent loaded; True when it is jumping into the instance, False for the reboot fallback."""
    loaded = bool(result.get("loaded"))
    task.set_internal(
        **{KEXEC_RESULT: {k: result.get(k) for k in ("loaded", "reason", "source", "kernel", "initrd", "cmdline")}}
    )
    if not loaded:
        LOG.warning(
            "Node %s: kexec not possible (%s); falling back to a reboot",
            task.node.get("uuid"),
            result.get("reason") or "no reason given",
        )
    return loaded
