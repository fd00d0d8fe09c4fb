"""Which projects are isolated, and their pools: the ``isolated_projects`` setting plus ``/v1/projects``.

A setting entry is ``project`` (its pool is named like the project) or ``project:pool``; a policy stored
through the API overrides the setting for the same project. Pool names must be unique: a pool shared by two
isolated projects would hand one tenant's nodes to another.

``allocation_cap`` is how many nodes a project may hold through allocations: its ``max_allocations`` from
``/v1/projects`` when set, else the ``max_allocations_per_project`` setting; 0 is unlimited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ironworks import errors
from ironworks.scheduler.filters import Tenancy

if TYPE_CHECKING:
    from ironworks.bootstrap import Services


def from_setting(entries: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in entries:
        project, _, pool = entry.partition(":")
        if project.strip():
            out[project.strip()] = pool.strip() or project.strip()
    return out


def load(svc: Services) -> Tenancy:
    isolated = from_setting(svc.settings.isolated_projects)
    for project, is_isolated, pool in svc.projects.policies():
        if is_isolated:
            isolated[project] = pool or project
        else:
            isolated.pop(project, None)
    return Tenancy(isolated)


def allocation_cap(svc: Services, project: str) -> int:
    override = svc.projects.max_allocations(project)
    return svc.settings.max_allocations_per_project if override is None else override


def show(svc: Services, record: dict[str, Any] | None, project_id: str) -> dict[str, Any]:
    """A project's effective policy, whether it comes from the API or the setting."""
    configured = from_setting(svc.settings.isolated_projects)
    if record is not None:
        return {
            "project_id": project_id,
            "isolated": record["isolated"],
            "pool": (record["pool"] or project_id) if record["isolated"] else None,
            "description": record["description"],
            "max_allocations": record["max_allocations"],
            "source": "api",
        }
    if project_id in configured:
        return {
            "project_id": project_id,
            "isolated": True,
            "pool": configured[project_id],
            "description": None,
            "max_allocations": None,
            "source": "settings",
        }
    raise errors.NotFound(f"Project {project_id} has no scheduling policy.")


def check_pool_unique(svc: Services, project_id: str, pool: str) -> None:
    for other, other_pool in load(svc).isolated.items():
        if other != project_id and other_pool == pool:
            raise errors.Conflict(f"Pool {pool!r} already belongs to isolated project {other}.")
