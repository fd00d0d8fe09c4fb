"""``/v1/nodes/{node}/management/indicators`` (API 1.63), as Ironic's code serves it.

* ``GET …/indicators`` → ``{"indicators": [{"name": "<indicator>@<component>", "component", "readonly",
  "states", "links"}]}``;
* ``GET …/indicators/<indicator>@<component>`` → ``{"state": "ON" | "OFF" | "BLINKING" | "UNKNOWN"}``;
* ``PUT …/indicators/<indicator>@<component>`` with ``state`` in the query or the JSON body → 204.

As Ironic's code (not its API reference), no version check: served at every microversion. An identifier
without ``@`` is 400 ("Malformed indicator name"); an unknown indicator, a read-only one or a state it does not
offer is the driver's 400; a driver without indicators answers Ironic's "does not support" 400.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ironworks import errors
from ironworks.api.common import Ctx, Reply, endpoint
from ironworks.conductor import node_actions
from ironworks.inventory import nodes as inventory


def _split(unique_name: str) -> tuple[str, str]:
    """``"<indicator>@<component>"`` → (component, indicator); the first ``@`` separates, as Ironic."""
    name, sep, component = unique_name.partition("@")
    if not sep:
        raise errors.InvalidParameterValue(f'Malformed indicator name "{unique_name}"')
    return component, name


def list_indicators(ctx: Ctx) -> Any:
    ctx.check_params(())
    ident = ctx.path_params["node"]
    node = inventory.find(ctx.services, ident, ctx.version)
    supported = node_actions.supported_indicators(ctx.services, node)
    items = []
    for component, names in supported.items():
        for name, info in names.items():
            unique = f"{name}@{component}"
            items.append(
                {
                    "name": unique,
                    "component": component,
                    "readonly": info.get("readonly", True),
                    "states": list(info.get("states", [])),
                    "links": ctx.links("nodes", f"{ident}/management/indicators/{unique}"),
                }
            )
    return {"indicators": items}


def get_indicator(ctx: Ctx) -> Any:
    ctx.check_params(())
    component, name = _split(ctx.path_params["indicator"])
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    return {"state": node_actions.indicator_state(ctx.services, node, component, name)}


def set_indicator(ctx: Ctx) -> Any:
    ctx.check_params(("state",))
    body = ctx.json_object() if ctx.raw_body.strip() else {}
    unknown = set(body) - {"state"}
    if unknown:
        raise errors.Invalid(f"Unknown argument(s): {', '.join(sorted(unknown))}.")
    state = ctx.query.get("state", body.get("state"))
    if state is None:
        raise errors.Invalid('Missing argument: "state"')
    if not isinstance(state, str):
        raise errors.Invalid("Argument 'state' must be a string.")
    component, name = _split(ctx.path_params["indicator"])
    node = inventory.find(ctx.services, ctx.path_params["node"], ctx.version)
    node_actions.set_indicator_state(ctx.services, node, component, name, state)
    return Reply(204)


routes = [
    Route("/v1/nodes/{node}/management/indicators", endpoint(list_indicators), methods=["GET"]),
    Route("/v1/nodes/{node}/management/indicators/{indicator}", endpoint(get_indicator), methods=["GET"]),
    Route("/v1/nodes/{node}/management/indicators/{indicator}", endpoint(set_indicator), methods=["PUT"]),
]
