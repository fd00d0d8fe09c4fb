"""Questions about the state machine table in ``ironworks.states``: may this event happen, where does it lead,
what does the diagram look like. Pure functions over data; the only writer of states is ``task.process_event``.
"""

from __future__ import annotations

from ironworks import errors, states


def next_state(current: str, event: str) -> str | None:
    """The destination of ``event`` from ``current``, or None when the table does not allow it."""
    return states.TRANSITIONS.get((current, event))


def is_actionable(current: str, event: str) -> bool:
    return (current, event) in states.TRANSITIONS


def require(current: str, event: str, node: str, action: str | None = None) -> str:
    dest = next_state(current, event)
    if dest is None:
        raise errors.InvalidStateRequested(action=action or event, node=node, state=current)
    return dest


def target_of(state: str) -> str | None:
    """``target_provision_state`` for a node that just entered ``state`` (None once stable)."""
    if state in states.STABLE_STATES:
        return None
    return states.TARGETS.get(state)


#: transient states a crashed conductor leaves behind, and the event that fails them (wait states are
#: persisted waits, handled by callback timeouts, not crashes)
CRASH_EVENTS: dict[str, str] = {
    states.VERIFYING: "fail",
    states.DEPLOYING: "fail",
    states.CLEANING: "fail",
    states.DELETING: "fail",
    states.INSPECTING: "fail",
    states.ADOPTING: "fail",
    states.RESCUING: "fail",
    states.UNRESCUING: "fail",
    states.SERVICING: "fail",
}


def to_dot() -> str:
    """The provisioning state machine as a Graphviz digraph: stable states boxed, failures red."""
    lines = ["digraph provisioning {", "  rankdir=LR;", '  node [shape=ellipse, fontname="Helvetica"];']
    for state in states.ALL_STATES:
        attrs = []
        if state in states.STABLE_STATES:
            attrs.append("shape=box, style=bold")
        if state in states.FAILURE_STATES:
            attrs.append("color=red")
        if state in states.WAIT_STATES:
            attrs.append("style=dashed")
        lines.append(f'  "{state}"' + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    for (source, event), dest in states.TRANSITIONS.items():
        lines.append(f'  "{source}" -> "{dest}" [label="{event}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
