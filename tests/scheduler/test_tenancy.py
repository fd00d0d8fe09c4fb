"""Isolated projects from the ``isolated_projects`` setting, and stored policies overriding it."""

from __future__ import annotations

from ironworks.bootstrap import build_services
from ironworks.scheduler import tenancy
from tests.fixtures.servers import make_settings


def test_setting_entries_name_a_project_and_optionally_its_pool():
    assert tenancy.from_setting(("acme", " beta : b-pool ", "")) == {"acme": "acme", "beta": "b-pool"}


def test_stored_policies_override_the_setting(tmp_path):
    svc = build_services(make_settings(str(tmp_path), isolated_projects=("acme", "beta:b-pool")))
    try:
        assert dict(tenancy.load(svc).isolated) == {"acme": "acme", "beta": "b-pool"}
        svc.projects.put("beta", {"isolated": False, "pool": None, "description": None})
        svc.projects.put("gamma", {"isolated": True, "pool": "g", "description": None})
        assert dict(tenancy.load(svc).isolated) == {"acme": "acme", "gamma": "g"}
        assert tenancy.show(svc, None, "acme")["source"] == "settings"
    finally:
        svc.close()
