"""The policy as data: patch paths to rules, provision targets, fail-closed defaults and node sanitising."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ironworks.auth import hook, policy
from ironworks.auth.identity import NOAUTH, Forbidden, Identity, Role

MEMBER = Identity("mia", "acme", Role.MEMBER)
OWNED = {"owner": "acme", "lessee": None}


def test_patch_paths_map_to_ironics_rules():
    def actions(*paths: str) -> list[str]:
        return policy.patch_actions([{"op": "add", "path": p, "value": "x"} for p in paths])

    n = "baremetal:node:"
    assert actions("/driver_info/ipmi_password") == [n + "update:driver_info"]
    assert actions("/extra/a", "/instance_info/image_source") == [n + "update_extra", n + "update_instance_info"]
    assert actions("/deploy_interface") == [n + "update:driver_interfaces"]
    assert actions("/driver") == [n + "update:driver_interfaces"]
    assert actions("/description") == [n + "update"]
    assert actions("/name", "/description") == [n + "update:name", n + "update"]
    assert policy.patch_actions([{"op": "add", "path": "/automated_clean", "value": False}]) == [n + "disable_cleaning"]
    assert policy.patch_actions("not a patch") == [n + "update"]


def test_provision_targets_split_instance_and_hardware():
    assert policy.provision_actions({"target": "active"}) == ["baremetal:node:set_provision_state"]
    assert policy.provision_actions({"target": "manage"})[-1] == "baremetal:node:set_provision_state:hardware"


def test_unknown_actions_and_routes_are_admin_only():
    assert not policy.allowed(MEMBER, "baremetal:something:new", OWNED)
    assert policy.allowed(NOAUTH, "baremetal:something:new", OWNED)
    request = SimpleNamespace(
        method="POST",
        scope={"route": SimpleNamespace(path="/v1/not-mapped")},
        url=SimpleNamespace(path="/v1/not-mapped"),
    )
    with pytest.raises(Forbidden):
        hook.authorize(SimpleNamespace(request=request, identity=MEMBER))  # type: ignore[arg-type]
    hook.authorize(SimpleNamespace(request=request, identity=NOAUTH))  # type: ignore[arg-type]


def test_a_user_without_project_relates_to_no_node():
    lost = Identity("x", None, Role.MEMBER)
    assert not policy.allowed(lost, "baremetal:node:get", {"owner": None, "lessee": None})
    with pytest.raises(Forbidden):
        hook.list_scope(lost)


def test_sanitising_leaves_admins_alone_and_masks_for_members():
    body = {"driver_info": {"ipmi_address": "10.0.0.1"}, "last_error": "conductor c1 failed"}
    assert policy.sanitize_node(NOAUTH, OWNED, dict(body)) == body
    owner_view = policy.sanitize_node(MEMBER, OWNED, dict(body))
    assert owner_view == {"driver_info": {"ipmi_address": "******"}, "last_error": "conductor c1 failed"}
    lessee_view = policy.sanitize_node(MEMBER, {"owner": "x", "lessee": "acme"}, dict(body))
    assert "Redacted" in lessee_view["driver_info"]["content"] and "Redacted" in lessee_view["last_error"]
