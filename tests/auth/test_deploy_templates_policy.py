"""Deploy templates are the operator's: project members and readers may neither read nor change them."""

from __future__ import annotations

from tests.auth.conftest import MEMBER, READER, client

STEP = {"interface": "deploy", "step": "sleep", "args": {"seconds": 0}, "priority": 0}


def test_only_admins_read_and_write_deploy_templates(auth_service, admin):
    r = admin.post("/v1/deploy_templates", json={"name": "CUSTOM_A", "steps": [STEP]})
    assert r.status_code == 201, r.text
    uuid = r.json()["uuid"]
    for user in (MEMBER, READER):
        with client(auth_service, user) as c:
            for method, path, body in (
                ("GET", "/v1/deploy_templates", None),
                ("GET", f"/v1/deploy_templates/{uuid}", None),
                ("POST", "/v1/deploy_templates", {"name": "CUSTOM_B", "steps": [STEP]}),
                ("PATCH", f"/v1/deploy_templates/{uuid}", [{"op": "add", "path": "/extra/x", "value": 1}]),
                ("DELETE", f"/v1/deploy_templates/{uuid}", None),
            ):
                r = c.request(method, path, json=body)
                assert r.status_code == 403, (user.name, method, path, r.text)
    shown = admin.get(f"/v1/deploy_templates/{uuid}").json()
    assert shown["extra"] == {} and [
        t["name"] for t in admin.get("/v1/deploy_templates").json()["deploy_templates"]
    ] == ["CUSTOM_A"]
