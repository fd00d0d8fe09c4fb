"""External events (``POST /v1/events``, API 1.54): Neutron's port binding notices, validated as Ironic's schema
(``ironic/api/schemas/v1/event.py``) and recorded: logged, and in the node history when a port with the event's
MAC address belongs to a node. Ironic itself only logs them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ironworks import errors
from ironworks.db.repos.history import INFO, HistoryRepo
from ironworks.db.repos.ports import PORTS
from ironworks.identifiers import is_uuid_like, normalize_mac

if TYPE_CHECKING:
    from ironworks.bootstrap import Services

LOG = logging.getLogger(__name__)
EVENT_TYPES = ("network.bind_port", "network.unbind_port", "network.delete_port")
REQUIRED = ("event", "port_id", "mac_address", "status")
NULLABLE_UUIDS = ("device_id", "binding:host_id")
#: a bounded batch: Neutron sends one event per port change
MAX_EVENTS = 1000


def _bad(message: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(message)


def validate(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise _bad("Schema error for events: the body must be an object.")
    extra = sorted(set(body) - {"events"})
    if extra:
        raise _bad(f"Schema error for events: additional properties are not allowed ({', '.join(extra)}).")
    events = body.get("events")
    if not isinstance(events, list) or not events:
        raise _bad("Schema error for events: 'events' must be a non-empty list.")
    if len(events) > MAX_EVENTS:
        raise _bad(f"Schema error for events: at most {MAX_EVENTS} events per request.")
    for i, event in enumerate(events):
        where = f"events[{i}]"
        if not isinstance(event, dict):
            raise _bad(f"Schema error for {where}: an event must be an object.")
        extra = sorted(set(event) - {*REQUIRED, *NULLABLE_UUIDS, "binding:vnic_type"})
        if extra:
            raise _bad(f"Schema error for {where}: additional properties are not allowed ({', '.join(extra)}).")
        missing = [key for key in REQUIRED if key not in event]
        if missing:
            raise _bad(f"Schema error for {where}: '{missing[0]}' is a required property.")
        if event["event"] not in EVENT_TYPES:
            raise _bad(f"Schema error for {where}.event: must be one of {', '.join(EVENT_TYPES)}.")
        if not is_uuid_like(event["port_id"]):
            raise _bad(f"Schema error for {where}.port_id: must be a UUID.")
        try:
            normalize_mac(event["mac_address"])
        except errors.IronworksError:
            raise _bad(f"Schema error for {where}.mac_address: must be a MAC address.") from None
        if not isinstance(event["status"], str):
            raise _bad(f"Schema error for {where}.status: must be a string.")
        for key in NULLABLE_UUIDS:
            if event.get(key) is not None and not is_uuid_like(event[key]):
                raise _bad(f"Schema error for {where}.{key}: must be a UUID or null.")
        if event.get("binding:vnic_type") is not None and not isinstance(event["binding:vnic_type"], str):
            raise _bad(f"Schema error for {where}.binding:vnic_type: must be a string or null.")
    return events


def record(svc: Services, events: list[dict[str, Any]], user: str | None) -> None:
    history = HistoryRepo(svc.db)
    for event in events:
        mac = normalize_mac(event["mac_address"])
        LOG.info(
            "external event %s: port %s (%s) status %s, device %s, host %s, vnic %s",
            event["event"],
            event["port_id"],
            mac,
            str(event["status"])[:64],
            event.get("device_id"),
            event.get("binding:host_id"),
            str(event.get("binding:vnic_type"))[:32],
        )
        with svc.db.read() as session:
            node_id = session.execute(select(PORTS.c.node_id).where(PORTS.c.address == mac)).scalar_one_or_none()
        if node_id is None:
            continue
        text = (
            f"Network event {event['event']} for port {mac} (Neutron port {event['port_id']}): status "
            f"{str(event['status'])[:64]}"
        )
        history.record(node_id, text, "network", severity=INFO, user=user)
