"""The inspection rule engine, table style: operators, loops, inversion, interpolation (and its guards),
actions on a target, priority order, masking, and the bounded regular expressions."""

from __future__ import annotations

import pytest

from ironworks.inventory.inspection_rules import engine, interpolate, operators, regexes
from ironworks.inventory.inspection_rules.actions import Target, execute
from ironworks.inventory.inspection_rules.errors import HardwareInspectionFailure, RuleExecutionFailure

NODE = {
    "uuid": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123",
    "properties": {"cpu_arch": "x86_64"},
    "driver_info": {"ipmi_address": "192.0.2.1", "ipmi_password": "hunter2"},
    "extra": {},
}
INVENTORY = {
    "cpu": {"count": 8, "architecture": "x86_64"},
    "bmc_address": "192.0.2.200",
    "interfaces": [{"name": "eth0", "mac_address": "52:54:00:12:34:56"}],
    "system_vendor": {"manufacturer": "Dell Inc."},
    "password": "secret",
}


def _context(plugin_data: dict | None = None, mask: bool = True) -> dict:
    return {
        "node": interpolate.NodeView(NODE),
        "inventory": interpolate.masked(INVENTORY, mask),
        "plugin_data": plugin_data or {},
    }


CONDITIONS = [
    ({"op": "eq", "args": {"values": [1, 1, 1]}}, True),
    ({"op": "eq", "args": {"values": ["{inventory[cpu][count]}", 8]}}, False),  # interpolation gives text
    ({"op": "eq", "args": {"values": ["{inventory[cpu][count]}", "8"]}}, True),
    ({"op": "!eq", "args": {"values": [1, 2]}}, True),
    ({"op": "eq", "args": [[1, 1]]}, True),  # the deprecated list form
    ({"op": "lt", "args": {"values": [1, 2, 3]}}, True),
    ({"op": "gt", "args": {"values": [3, 2, 2]}}, False),
    ({"op": "is-empty", "args": {"value": "{inventory[missing]}"}}, True),
    ({"op": "is-empty", "args": {"value": "{inventory[cpu]}"}}, False),
    ({"op": "in-net", "args": {"address": "{inventory[bmc_address]}", "subnet": "192.0.2.0/24"}}, True),
    ({"op": "in-net", "args": {"address": "10.0.0.1", "subnet": "192.0.2.0/24"}}, False),
    ({"op": "matches", "args": {"value": "{inventory[system_vendor][manufacturer]}", "regex": "Dell.*"}}, True),
    ({"op": "matches", "args": {"value": "{inventory[system_vendor][manufacturer]}", "regex": "Dell"}}, False),
    ({"op": "contains", "args": {"value": "{inventory[system_vendor][manufacturer]}", "regex": "Inc"}}, True),
    ({"op": "one-of", "args": {"value": "x86_64", "values": ["aarch64", "x86_64"]}}, True),
    ({"op": "is-none", "args": {"value": None}}, True),
    ({"op": "is-true", "args": {"value": "Yes"}}, True),
    ({"op": "is-false", "args": {"value": 0}}, True),
    ({"op": "eq", "args": {"values": ["{node.properties[cpu_arch]}", "x86_64"]}}, True),
    ({"op": "eq", "args": {"values": ["{node.driver_info[ipmi_password]}", "hunter2"]}}, False),  # masked
    ({"op": "eq", "args": {"values": ["{inventory[password]}", "***"]}}, True),  # Ironic's mask
    ({"op": "eq", "args": {"values": ["{item}", 1]}, "loop": [1, 2], "multiple": "any"}, True),
    ({"op": "eq", "args": {"values": ["{item}", 1]}, "loop": [1, 2], "multiple": "all"}, False),
    ({"op": "eq", "args": {"values": ["{item}", 2]}, "loop": [1, 2], "multiple": "first"}, True),
    ({"op": "eq", "args": {"values": ["{item}", 1]}, "loop": [1, 2], "multiple": "last"}, False),
    ({"op": "eq", "args": {"values": ["{item[a]}", "b"]}, "loop": {"a": "b"}}, True),
    # format-string escapes are refused: the text stays as it was
    ({"op": "one-of", "args": {"value": "{node.__class__}", "values": ["{node.__class__}"]}}, True),
    ({"op": "one-of", "args": {"value": "{inventory:>99999999}", "values": ["{inventory:>99999999}"]}}, True),
    ({"op": "one-of", "args": {"value": "{inventory.__class__}", "values": ["{inventory.__class__}"]}}, True),
    ({"op": "one-of", "args": {"value": "{node._fields}", "values": ["{node._fields}"]}}, True),
]


@pytest.mark.parametrize(("condition", "expected"), CONDITIONS, ids=[str(c) for c, _ in CONDITIONS])
def test_conditions(condition: dict, expected: bool) -> None:
    assert operators.check(condition, _context()) is expected


@pytest.mark.parametrize(
    "condition",
    [
        {"op": "eq", "args": {"values": "not a list"}},
        {"op": "lt", "args": {"values": [1, "a"]}},
        {"op": "in-net", "args": {"address": "x", "subnet": "nope"}},
        {"op": "matches", "args": {"value": "a" * 50000, "regex": ".*a.*a.*"}},
        {"op": "matches", "args": {"value": "x", "regex": "{item}"}, "loop": ["(a+)+"]},
    ],
)
def test_condition_errors(condition: dict) -> None:
    with pytest.raises(RuleExecutionFailure):
        operators.check(condition, _context())


def _target() -> Target:
    ports = [
        {"uuid": "p1", "address": "52:54:00:12:34:56", "extra": {}, "local_link_connection": {}, "pxe_enabled": True}
    ]
    return Target.of(NODE, ["CUSTOM_OLD"], ports, {"keep": 1})


ACTIONS = [
    (
        {"op": "set-attribute", "args": {"path": "properties/cpus", "value": "{inventory[cpu][count]}"}},
        lambda t: t.node["properties"]["cpus"] == "8" and t.changed == {"properties"},
    ),
    ({"op": "set-attribute", "args": {"path": "extra.a.b", "value": 1}}, lambda t: t.node["extra"] == {"a": {"b": 1}}),
    (
        {"op": "extend-attribute", "args": {"path": "extra/l", "value": 1, "unique": True}},
        lambda t: t.node["extra"]["l"] == [1],
    ),
    ({"op": "del-attribute", "args": {"path": "properties/cpu_arch"}}, lambda t: t.node["properties"] == {}),
    (
        {"op": "set-capability", "args": {"name": "boot_mode", "value": "uefi"}},
        lambda t: t.node["properties"]["capabilities"] == "boot_mode:uefi",
    ),
    ({"op": "add-trait", "args": {"name": "CUSTOM_NEW"}}, lambda t: t.traits == ["CUSTOM_OLD", "CUSTOM_NEW"]),
    ({"op": "remove-trait", "args": {"name": "CUSTOM_OLD"}}, lambda t: t.traits == [] and t.traits_changed),
    ({"op": "remove-trait", "args": {"name": "CUSTOM_NONE"}}, lambda t: not t.traits_changed),
    (
        {"op": "set-plugin-data", "args": {"path": "a.b", "value": "{inventory[cpu][architecture]}"}},
        lambda t: t.plugin_data["a"] == {"b": "x86_64"},
    ),
    ({"op": "extend-plugin-data", "args": {"path": "l", "value": 2}}, lambda t: t.plugin_data["l"] == [2]),
    ({"op": "unset-plugin-data", "args": {"path": "keep"}}, lambda t: t.plugin_data == {}),
    (
        {"op": "set-port-attribute", "args": {"port_id": "p1", "path": "physical_network", "value": "physnet1"}},
        lambda t: t.ports["p1"]["physical_network"] == "physnet1" and t.changed_ports == {"p1"},
    ),
    (
        {
            "op": "set-port-attribute",
            "args": {"port_id": "{item[id]}", "path": "extra/x", "value": "{item[v]}"},
            "loop": [{"id": "p1", "v": "a"}],
        },
        lambda t: t.ports["p1"]["extra"] == {"x": "a"},
    ),
    ({"op": "log", "args": {"msg": "cpus: {inventory[cpu][count]}"}}, lambda t: not t.changed),
]


@pytest.mark.parametrize(("action", "check"), ACTIONS, ids=[a["op"] + str(i) for i, (a, _) in enumerate(ACTIONS)])
def test_actions(action: dict, check) -> None:
    target = _target()
    execute(action, target, _context(target.plugin_data))
    assert check(target)


@pytest.mark.parametrize(
    "action",
    [
        {"op": "fail", "args": {"msg": "no"}},
        {"op": "set-attribute", "args": {"path": "provision_state", "value": "active"}},  # not a rule's to set
        {"op": "set-attribute", "args": {"path": "uuid", "value": "x"}},
        {"op": "add-trait", "args": {"name": "lowercase"}},
        {"op": "set-port-attribute", "args": {"port_id": "other", "path": "extra/x", "value": 1}},
        {"op": "log", "args": {"msg": "x", "level": "loud"}},
        {"op": "api-call", "args": {"url": "file:///etc/passwd"}},
    ],
)
def test_action_errors(action: dict) -> None:
    from ironworks import errors

    with pytest.raises(errors.IronworksError):
        execute(action, _target(), _context())


def test_rules_run_by_priority_and_stop_at_fail() -> None:
    rules = [
        {
            "uuid": "low",
            "priority": 1,
            "actions": [{"op": "set-attribute", "args": {"path": "extra/x", "value": "low"}}],
        },
        {
            "uuid": "high",
            "priority": 9,
            "actions": [{"op": "set-attribute", "args": {"path": "extra/x", "value": "high"}}],
        },
        {
            "uuid": "skip",
            "priority": 5,
            "conditions": [{"op": "is-none", "args": {"value": "x"}}],
            "actions": [{"op": "fail", "args": {"msg": "skipped"}}],
        },
    ]
    target = _target()
    assert engine.apply_rules(rules, NODE, target, INVENTORY) == ["high", "low"]
    assert target.node["extra"]["x"] == "low"  # the last to run wins
    rules.append({"uuid": "stop", "priority": 3, "actions": [{"op": "fail", "args": {"msg": "stop here"}}]})
    with pytest.raises(HardwareInspectionFailure, match="stop here"):
        engine.apply_rules(rules, NODE, _target(), INVENTORY)
    bad = [{"uuid": "bad", "actions": [{"op": "set-attribute", "args": {"path": "properties", "value": [1]}}]}]
    with pytest.raises(HardwareInspectionFailure, match="not a valid value"):
        engine.apply_rules(bad, NODE, _target(), INVENTORY)


@pytest.mark.parametrize(
    ("mode", "sensitive", "seen"),
    [("always", True, "***"), ("never", False, "secret"), ("sensitive", True, "secret"), ("sensitive", False, "***")],
)
def test_mask_secrets_modes(mode: str, sensitive: bool, seen: str) -> None:
    rule = {
        "uuid": "r",
        "sensitive": sensitive,
        "actions": [{"op": "set-attribute", "args": {"path": "extra/p", "value": "{inventory[password]}"}}],
    }
    target = _target()
    engine.apply_rules([rule], NODE, target, INVENTORY, mask_secrets=mode)
    assert target.node["extra"]["p"] == seen


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        (".*PowerEdge.*", True),
        ("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", True),
        ("(?:ab){3}", True),
        ("(a+)+$", False),
        ("(a*)*b", False),
        ("(a|aa)+", False),
        ("(x)\\1", False),
        ("a" * 2000, False),
        ("[", False),
    ],
)
def test_regex_bounds(pattern: str, ok: bool) -> None:
    if ok:
        regexes.check(pattern)
    else:
        with pytest.raises(regexes.UnsafeRegex):
            regexes.check(pattern)


def test_built_in_rules_file(tmp_path) -> None:
    from ironworks import errors
    from ironworks.inventory.inspection_rules import builtin

    path = tmp_path / "rules.yaml"
    path.write_text(
        "- description: big first\n"
        "  priority: 20000\n"  # above the API's 9999: allowed for built-in rules, as Ironic
        "  actions: [{op: set-attribute, args: {path: extra/x, value: builtin}}]\n"
        "- uuid: 6b2bd2a2-8a8e-4b4d-9d57-6d1b0c6bd7b1\n"
        "  actions: [{op: add-trait, args: {name: CUSTOM_BUILTIN}}]\n"
        "- actions: [{op: log, args: {msg: third}}]\n"
    )
    rules = builtin.load(str(path))
    assert [r["uuid"] for r in rules] == [
        "00000000-0000-0000-0000-000000000000",
        "6b2bd2a2-8a8e-4b4d-9d57-6d1b0c6bd7b1",
        "00000000-0000-0000-0000-000000000001",
    ]
    target = _target()
    stored = [
        {
            "uuid": "db",
            "priority": 9999,
            "actions": [{"op": "set-attribute", "args": {"path": "extra/x", "value": "db"}}],
        }
    ]
    engine.apply_rules(stored + rules, NODE, target, INVENTORY)
    assert target.node["extra"]["x"] == "db" and "CUSTOM_BUILTIN" in target.traits  # 20000 ran before 9999
    assert builtin.load("") == []
    for text, message in (
        ("{a: 1}", "should contain a list"),
        ("- actions: []", "should be non-empty"),
        ("- [", "Error parsing"),
    ):
        path.write_text(text)
        with pytest.raises(errors.IronworksError, match=message):
            builtin.load(str(path))
    with pytest.raises(errors.IronworksError, match="not found"):
        builtin.load(str(tmp_path / "missing.yaml"))
