"""The state machine table and its diagram (``ironworks states --dot``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ironworks import states
from ironworks.conductor import fsm

IRONWORKS = str(Path(sys.executable).with_name("ironworks"))


def test_dot_has_every_state_and_transition() -> None:
    out = subprocess.run([IRONWORKS, "states", "--dot"], check=True, capture_output=True, text=True).stdout
    assert out.startswith("digraph provisioning {") and out.rstrip().endswith("}")
    for state in states.ALL_STATES:
        assert f'"{state}"' in out
    edges = [line for line in out.splitlines() if "->" in line]
    assert len(edges) == len(states.TRANSITIONS)
    assert '"available" -> "deploying" [label="deploy"];' in out


def test_table_is_closed_and_targets_are_consistent() -> None:
    for (source, _event), dest in states.TRANSITIONS.items():
        assert source in states.ALL_STATES and dest in states.ALL_STATES
    for state in states.ALL_STATES:
        if state not in states.STABLE_STATES:
            assert fsm.target_of(state) in states.STABLE_STATES
    for state, event in fsm.CRASH_EVENTS.items():
        assert fsm.next_state(state, event) in states.FAILURE_STATES + (states.ENROLL,)
    assert fsm.next_state(states.ENROLL, "deploy") is None
