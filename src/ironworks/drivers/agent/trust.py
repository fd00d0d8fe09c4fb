"""Who may claim a node's agent token: the rules of docs/agent-protocol.md §9, in one place.

* **Per ramdisk boot.** ``new_boot`` (called when a node is prepared for a ramdisk boot) mints a per-boot secret,
  stores only its SHA-256 and marks the boot *prepared*; the boot interface puts the secret on the ramdisk's
  kernel command line (``ironworks.boot_secret=``) in the node's own iPXE script. The first accepted lookup marks
  the boot *claimed* and uses the secret up (its hash kept as *used*: showing it again is a replay, which fails
  the operation like any second claim); no other token is issued until the next ``new_boot``.
* **Who may look up.** The claimant's address must be one that Ironworks' dnsmasq leased to one of the node's
  port MACs (``netboot/leases.py``), or the claimant must present the boot's secret (header
  ``X-Ironworks-Boot-Secret``). The stock ironic-python-agent passes by the first rule, Ironworks' agent by both.
* **Token bound to the address.** The token is issued together with the claimant's address; every later call
  (heartbeat, command poll, result) must come from that address too.
* **The real address through a relay.** A request from the trusted relay (the header ``X-Ironworks-Relay``
  carrying the key from ``agent_relay_key_file``, from a peer in ``agent_relay_addresses``) is taken to come
  from its ``X-Forwarded-For`` address. A forwarded address without that key, or a wrong key, is refused (403).
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

from ironworks import errors
from ironworks.drivers.agent.channel import hash_token, new_token, token_matches
from ironworks.netboot.leases import normalise_address

if TYPE_CHECKING:
    from ironworks.drivers.base import TaskView
    from ironworks.settings import Settings

#: driver_internal_info keys
BOOT_SECRET_HASH = "agent_boot_secret_hash"
#: the used secret's hash: presenting it again is a replay, a second claim of the boot
USED_SECRET_HASH = "agent_boot_secret_used_hash"
BOOT_STATE = "agent_boot"  # "prepared" → "claimed"
PREPARED, CLAIMED = "prepared", "claimed"
AGENT_ADDRESS = "agent_address"
#: kernel parameter and lookup header carrying the per-boot secret
SECRET_PARAM = "ironworks.boot_secret"
SECRET_HEADER = "X-Ironworks-Boot-Secret"
RELAY_HEADER = "X-Ironworks-Relay"
FORWARDED_HEADER = "X-Forwarded-For"
#: the relay key file's name in the state directory when ``agent_relay_key_file`` is empty
RELAY_KEY_NAME = "agent-relay.key"
_PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


class RelayRefused(errors.IronworksError):
    http_status = 403
    template = "The request claims to come through the agent relay but does not carry its key."


def new_boot(task: TaskView) -> str:
    """A new ramdisk boot: a fresh secret (its hash stored), no claim, no token yet. Returns the secret."""
    secret = new_token()
    task.set_internal(
        **{BOOT_SECRET_HASH: hash_token(secret), USED_SECRET_HASH: None, BOOT_STATE: PREPARED, AGENT_ADDRESS: None}
    )
    return secret


def kernel_params(secret: str) -> list[str]:
    return [f"{SECRET_PARAM}={secret}"]


def claimed(node: dict[str, Any]) -> bool:
    return (node.get("driver_internal_info") or {}).get(BOOT_STATE) == CLAIMED


def prepared(node: dict[str, Any]) -> bool:
    return (node.get("driver_internal_info") or {}).get(BOOT_STATE) == PREPARED


def secret_matches(node: dict[str, Any], secret: str | None) -> bool:
    """``secret`` is this boot's, unused or used (a replay of it is a second claim, not a stranger's probe)."""
    info = node.get("driver_internal_info") or {}
    return bool(secret) and any(
        token_matches(str(secret), info.get(key)) for key in (BOOT_SECRET_HASH, USED_SECRET_HASH)
    )


def claim(task: TaskView, token_hash_key: str, token: str, address: str | None) -> None:
    """Issue ``token`` for this boot to ``address``; the boot's secret is used up."""
    info = task.node.get("driver_internal_info") or {}
    task.set_internal(
        **{
            token_hash_key: hash_token(token),
            BOOT_STATE: CLAIMED,
            BOOT_SECRET_HASH: None,
            USED_SECRET_HASH: info.get(BOOT_SECRET_HASH) or info.get(USED_SECRET_HASH),
            AGENT_ADDRESS: address,
        }
    )


def bound_address_ok(node: dict[str, Any], address: str | None) -> bool:
    """A token-bearing call comes from the address the token was issued to (no address recorded: any)."""
    bound = (node.get("driver_internal_info") or {}).get(AGENT_ADDRESS)
    return not bound or (address is not None and bound == address)


# --- the claimant's address -----------------------------------------------------------------------------------
def relay_key(settings: Settings) -> bytes | None:
    path = Path(settings.agent_relay_key_file or Path(settings.state_dir) / RELAY_KEY_NAME)
    try:
        key = path.read_bytes().strip()
    except OSError:
        return None
    return key or None


def client_address(conn: HTTPConnection, settings: Settings) -> str | None:
    """The address the request really came from: the peer, or what the trusted relay says it relayed.

    A forwarded address (``X-Forwarded-For``, ``Forwarded``, ``X-Real-IP``) without the relay's key is refused
    (403), not ignored: an HTTP server in front may already have put it in place of the peer (uvicorn does so for
    connections from 127.0.0.1 unless told not to), so such a request's peer cannot be known.
    """
    peer = normalise_address(conn.client.host) if conn.client else None
    claimed_key = conn.headers.get(RELAY_HEADER)
    if claimed_key is None:
        if any(name in conn.headers for name in _PROXY_HEADERS):
            raise RelayRefused("Forwarded addresses are accepted only from the agent relay.")
        return peer
    key = relay_key(settings)
    if key is None or not hmac.compare_digest(claimed_key.encode(), key):
        raise RelayRefused()
    forwarded = conn.headers.getlist(FORWARDED_HEADER)
    address = normalise_address(forwarded[0]) if len(forwarded) == 1 and "," not in forwarded[0] else None
    if address is None:
        raise RelayRefused("The agent relay did not say which address it relayed.")
    trusted = {normalise_address(a) for a in settings.agent_relay_addresses}
    if peer not in trusted and peer != address:  # peer == address: the server in front replaced the peer already
        raise RelayRefused()
    return address
