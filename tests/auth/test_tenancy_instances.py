"""Server names are unique per project, not across the deployment (issue 12): two projects may each have
"web-1", one project may not have two, and ``/v1/instances/{name}`` resolves a name within the caller's
project."""

from __future__ import annotations

from tests.api.helpers import fault
from tests.auth.conftest import MEMBER, OTHER_MEMBER, READER, client
from tests.instances.helpers import server_node, world

BODY = {"flavor": "small", "image": "debian-12", "networks": ["web"]}


def test_two_projects_may_each_name_a_server_web_1(auth_service, admin):
    world(admin)
    server_node(admin, "acme-1", "52:54:00:00:15:01", owner="acme")
    server_node(admin, "acme-2", "52:54:00:00:15:02", owner="acme")
    server_node(admin, "evil-1", "52:54:00:00:15:03", owner="evil")
    with client(auth_service, MEMBER) as mia, client(auth_service, OTHER_MEMBER) as mallory:
        r = mia.post("/v1/instances", json={"name": "web-1", **BODY})
        assert r.status_code == 202, r.text
        acme = r.json()["uuid"]
        r = mallory.post("/v1/instances", json={"name": "web-1", **BODY})
        assert r.status_code == 202, r.text
        evil = r.json()["uuid"]
        # within one project the name is taken (and nothing is allocated for the refused request)
        r = mia.post("/v1/instances", json={"name": "web-1", **BODY})
        assert r.status_code == 409 and "already exists" in fault(r)["faultstring"], r.text
        used = [admin.get(f"/v1/nodes/acme-{i}").json()["instance_uuid"] for i in (1, 2)]
        assert sorted(used, key=str) == sorted([acme, None], key=str)
        # a name resolves within the caller's project
        assert mia.get("/v1/instances/web-1").json()["uuid"] == acme
        assert mallory.get("/v1/instances/web-1").json()["uuid"] == evil
        with client(auth_service, READER) as rob:
            assert rob.get("/v1/instances/web-1").json()["uuid"] == acme
        assert mallory.get(f"/v1/instances/{acme}").status_code == 404
        # the operator sees both; a name two projects use must be given as a uuid
        r = admin.get("/v1/instances/web-1")
        assert r.status_code == 409 and acme in fault(r)["faultstring"] and evil in fault(r)["faultstring"]
        assert admin.get(f"/v1/instances/{acme}").json()["owner"] == "acme"
        assert sorted(i["owner"] for i in admin.get("/v1/instances").json()["instances"]) == ["acme", "evil"]
        # deleting by name deletes the caller's own server only
        assert mallory.delete("/v1/instances/web-1").status_code == 202
        assert mia.get("/v1/instances/web-1").json()["state"] != "deleting"
        assert admin.get(f"/v1/instances/{acme}").json()["state"] != "deleting"
