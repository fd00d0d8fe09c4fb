"""/v1/projects (an Ironworks extension): per-project scheduling policy, i.e. hardware isolation.

``PUT /v1/projects/{id}`` with ``{"isolated": true, "pool": "gold-pool"}`` makes a project isolated: its
allocations only get nodes dedicated to it (owned or leased by it, or whose ``extra.pool`` is its pool; the
pool defaults to the project id) and nobody else gets those nodes. ``GET`` shows the effective policy, also
for projects isolated through the ``isolated_projects`` setting; ``DELETE`` removes a stored policy.
``max_allocations`` (optional, >= 0; 0: unlimited) caps the nodes the project's members may hold through
allocations and servers, overriding the ``max_allocations_per_project`` setting (null: the setting applies).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.resources.schemas.validation import parse_model
from ironworks.scheduler import tenancy

Str255 = Annotated[StrictStr, Field(min_length=1, max_length=255)]


class ProjectPolicyBody(BaseModel):
    """PUT /v1/projects/{project} body."""

    model_config = ConfigDict(extra="forbid")

    isolated: StrictBool
    pool: Str255 | None = None
    description: StrictStr | None = None
    max_allocations: Annotated[StrictInt, Field(ge=0, le=2**31 - 1)] | None = None


def _render(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    project = body["project_id"]
    return {
        **body,
        "links": [
            {"href": f"{ctx.base_url}/v1/projects/{project}", "rel": "self"},
            {"href": f"{ctx.base_url}/projects/{project}", "rel": "bookmark"},
        ],
    }


def _project_id(ctx: Ctx) -> str:
    project = ctx.path_params["project"]
    if not project or len(project) > 255:
        raise errors.InvalidParameterValue("A project id is 1-255 characters.")
    return project


def list_projects(ctx: Ctx) -> Any:
    ctx.check_params(())
    svc = ctx.services
    stored = {r["project_id"]: r for r in svc.projects.list()}
    ids = sorted(set(stored) | set(tenancy.from_setting(svc.settings.isolated_projects)))
    return {"projects": [_render(ctx, tenancy.show(svc, stored.get(p), p)) for p in ids]}


def show_project(ctx: Ctx) -> Any:
    ctx.check_params(())
    project = _project_id(ctx)
    stored = {r["project_id"]: r for r in ctx.services.projects.list()}
    return _render(ctx, tenancy.show(ctx.services, stored.get(project), project))


def put_project(ctx: Ctx) -> Any:
    ctx.check_params(())
    project = _project_id(ctx)
    body = parse_model(ProjectPolicyBody, ctx.json_object())
    if body.pool is not None and not body.isolated:
        raise errors.InvalidParameterValue("A pool belongs to an isolated project: set isolated to true.")
    if body.isolated:
        tenancy.check_pool_unique(ctx.services, project, body.pool or project)
    record, created = ctx.services.projects.put(
        project,
        {
            "isolated": body.isolated,
            "pool": body.pool,
            "description": body.description,
            "max_allocations": body.max_allocations,
        },
    )
    return Reply(201 if created else 200, _render(ctx, tenancy.show(ctx.services, record, project)))


def delete_project(ctx: Ctx) -> Any:
    ctx.check_params(())
    ctx.services.projects.delete(_project_id(ctx))
    return Reply(204)


routes = [
    Route("/v1/projects", endpoint(list_projects), methods=["GET"]),
    Route("/v1/projects/{project}", endpoint(show_project), methods=["GET"]),
    Route("/v1/projects/{project}", endpoint(put_project), methods=["PUT"]),
    Route("/v1/projects/{project}", endpoint(delete_project), methods=["DELETE"]),
]
