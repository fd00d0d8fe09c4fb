"""Trait-based networking rules (networking/trait_networking): the filter language and the rules file, as tables."""

from __future__ import annotations

import pytest

from ironworks.networking.trait_networking.expressions import ExpressionError, NetworkFacts, Subject, parse
from ironworks.networking.trait_networking.rules import Candidate, applicable, load_rules, plan

PORT = Subject(False, address="52:54:00:00:00:01", category="fast", physical_network="fabric", vendor="acme")
GROUP = Subject(True, physical_network="fabric")
NET = NetworkFacts("web-1", frozenset({"prod", "eu-west"}))

EVAL = [
    ("port.vendor == 'acme'", PORT, True),
    ("port.vendor != 'acme'", PORT, False),
    ("port.vendor =~ 'ac'", PORT, True),
    ("port.category >= 'fast'", PORT, True),
    ("port.category > 'fast'", PORT, False),
    ("port.category < 'g'", PORT, True),
    ("port.category <= 'f'", PORT, False),
    ("port.vendor == 'acme' && network.name =~ 'web'", PORT, True),
    ("port.vendor == 'x' || network.name == 'web-1'", PORT, True),
    ("port.vendor == 'x' || port.vendor == 'y' || port.vendor == 'acme'", PORT, True),
    ("(port.vendor == 'x' || port.is_portgroup) && network.tags == 'prod'", GROUP, True),
    ("network.tags != 'prod'", PORT, False),
    ("network.tags =~ 'eu'", PORT, True),
    ("port.is_port", PORT, True),
    ("port.is_port", GROUP, False),
    ("port.vendor == 'acme'", GROUP, False),  # unset attribute: false
]


@pytest.mark.parametrize("text,subject,expected", EVAL)
def test_filter_evaluation(text, subject, expected):
    assert parse(text).eval(subject, NET) is expected


REFUSED = [
    ("port.vendor == 'a' && port.vendor == 'b' || port.is_port", "mixed"),
    ("port.is_port == 'x'", "unknown variable"),
    ("port.colour == 'red'", "unknown variable"),
    ("node.name == 'x'", "unknown variable"),
    ("network.tags > 'a'", "network.tags is a set"),
    ("port.vendor == acme", "unexpected text"),
    ("port.vendor == port.vendor", "quoted literal"),
    ("port.vendor == 'a b'", "unexpected"),
    ("(port.is_port", "end of expression"),
    ("port.is_port)", "unexpected"),
    ("", "empty"),
    ("(" * 40 + "port.is_port" + ")" * 40, "nested"),
    ("port.is_port || " * 200 + "port.is_port", "limited"),
]


@pytest.mark.parametrize("text,why", REFUSED)
def test_refused_filters(text, why):
    with pytest.raises(ExpressionError, match=why):
        parse(text)


def _rules(action):
    return {"CUSTOM_T": {"actions": [action]}}


LOAD = [
    ({"action": "group_and_attach_ports", "filter": "port.is_port", "min_count": 2}, ""),
    ({"action": "attach_port", "filter": "port.is_port"}, ""),
    ({"action": "attach_portgroup", "filter": "port.is_portgroup", "max_count": 1}, ""),
    ({"action": "bond_ports", "filter": "port.is_port"}, "bond_ports"),
    ({"action": "group_and_attach_ports", "filter": "port.is_port"}, "min_count of 2"),
    ({"action": "group_and_attach_ports", "filter": "port.is_port", "min_count": 3, "max_count": 2}, "below"),
    ({"action": "attach_port", "filter": "port.is_port", "min_count": 2}, "attaches one NIC"),
    ({"action": "attach_port", "filter": "port.is_port", "colour": 1}, "unrecognized key 'colour'"),
    ({"action": "attach_port"}, "missing 'filter'"),
    ({"action": "attach_port", "filter": "port.vendor ="}, "malformed filter"),
    ({"action": "attach_port", "filter": "port.is_port", "max_count": "1"}, "integer"),
]


@pytest.mark.parametrize("action,why", LOAD)
def test_rules_file_validation(action, why):
    traits, reasons = load_rules(_rules(action))
    if why:
        assert traits == [] and any(why in r for r in reasons), reasons
    else:
        assert reasons == [] and [t.name for t in traits] == ["CUSTOM_T"]


def test_rules_file_shape_refusals():
    assert load_rules(["x"])[1]
    two = {"A": {"actions": [{"action": "attach_port", "filter": "port.is_port"}] * 2}}
    assert "exactly one action" in load_rules(two)[1][0]
    assert "'actions'" in load_rules({"A": {"order": 1}})[1][0]


def _cand(uuid, i, avail=True, physnet="fabric", vendor="acme"):
    return Candidate(uuid, i, Subject(False, physical_network=physnet, vendor=vendor), avail)


def test_plan_groups_available_ports_on_one_physnet_newest_first():
    traits, _ = load_rules(
        _rules({"action": "group_and_attach_ports", "filter": "port.vendor == 'acme'", "min_count": 2, "max_count": 2})
    )
    ports = [_cand("a", 1), _cand("b", 2, avail=False), _cand("c", 3, physnet="other"), _cand("d", 4, physnet="other")]
    result = plan(traits, ports, [], NET)
    assert result is not None and result.kind == "group" and [c.uuid for c in result.group] == ["d", "c"]
    assert plan(traits, [_cand("a", 1), _cand("b", 2, avail=False)], [], NET) is None


def test_applicable_traits_and_default():
    traits, _ = load_rules(
        {
            "B": {"order": 2, "actions": [{"action": "attach_port", "filter": "port.is_port"}]},
            "A": {"order": 1, "actions": [{"action": "attach_portgroup", "filter": "port.is_portgroup"}]},
        }
    )
    assert [t.name for t in applicable(traits, ["B", "A"], use_default=True)] == ["A", "B"]
    assert [t.name for t in applicable(traits, [], use_default=True)] == ["CUSTOM_DEFAULT_TBN_TRAIT"]
    assert applicable(traits, "A", use_default=False) == []
    default = applicable(traits, [], use_default=True)
    assert plan(default, [_cand("a", 1), _cand("b", 2)], [], NET).uuid == "b"  # newest free port
