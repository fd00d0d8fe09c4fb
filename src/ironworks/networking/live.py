"""VIF changes on a deployed node reach its switch ports at once (as Ironic binds Neutron ports of an active node).

When a VIF is attached to or detached from a node that is ``active`` with the ``vlan`` network interface, and
this process runs a conductor, the change is made under the node lock: the VIF is written, then the tenant
networks are configured again. If the switch refuses, the VIF change is undone and the error (the switch and
port named) is returned: the database never claims a VIF the switch does not carry. In any other state the
VIF is recorded only; the next deploy or unrescue configures the switch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ironworks import errors, states
from ironworks.db.repos.base import Record

if TYPE_CHECKING:
    from ironworks.bootstrap import Services
    from ironworks.conductor.task import Task

NETWORK_INTERFACES = frozenset({"vlan"})


def check_lock(node: Record, holder: str | None) -> None:
    """NodeLocked (409) unless the node is free or held by ``holder`` (this request's own lock)."""
    if node["reservation"] and node["reservation"] != holder:
        raise errors.NodeLocked(node=node["uuid"], host=node["reservation"])


@contextlib.contextmanager
def held(svc: Services, node: Record) -> Iterator[Task | None]:
    """The node's lock while a VIF change is applied live; None when it is only recorded."""
    conductor = getattr(svc, "conductor", None)
    live = (
        node["provision_state"] == states.ACTIVE
        and node.get("network_interface") in NETWORK_INTERFACES
        and conductor is not None
        and conductor.started
    )
    if not live:
        yield None
        return
    check_lock(node, None)
    from ironworks.conductor.task import acquire

    assert conductor is not None
    with acquire(conductor.ctx, node["uuid"], "vif change") as task:
        yield task


def apply(task: Task) -> None:
    task.driver.network.configure_tenant_networks(task)
