"""One-call servers under http_basic: a member creates servers only for its own project and on nodes its
project may use; other projects see none of it (404); readers read; the image catalogue is the operator's."""

from __future__ import annotations

from ironworks.db.models import Instance
from tests.auth.conftest import MEMBER, OTHER_MEMBER, READER, client
from tests.instances.helpers import DEBIAN, server_node, wait_instance, world


def _body(**fields):
    return {"name": "web-1", "flavor": "small", "image": "debian-12", "networks": [{"network": "web"}], **fields}


def _instance_count(service) -> int:
    with service.services.db.engine.connect() as conn:
        return len(conn.execute(Instance.__table__.select()).all())


def test_member_creates_for_its_own_project_and_others_see_nothing(auth_service, admin) -> None:
    world(admin)
    own = server_node(admin, "acme-1", "52:54:00:00:07:01", owner="acme")
    server_node(admin, "evil-1", "52:54:00:00:07:02", owner="evil")
    with client(auth_service, MEMBER) as mia, client(auth_service, OTHER_MEMBER) as mallory, client(
        auth_service, READER
    ) as rob:
        # asking for another project's server is refused and writes nothing
        r = mallory.post("/v1/instances", json=_body(owner="acme"))
        assert r.status_code == 403, r.text
        assert _instance_count(auth_service) == 0

        r = mia.post("/v1/instances", json=_body())
        assert r.status_code == 202, r.text
        created = r.json()
        assert created["owner"] == "acme" and created["node_uuid"] == own["uuid"]
        assert wait_instance(mia, created["uuid"], ("active", "error"))["state"] == "active"

        # the other project cannot see, list or delete it; the reader of acme reads but cannot create
        assert mallory.get(f"/v1/instances/{created['uuid']}").status_code == 404
        assert mallory.delete(f"/v1/instances/{created['uuid']}").status_code == 404
        assert [i["uuid"] for i in mallory.get("/v1/instances").json()["instances"]] == []
        assert rob.get(f"/v1/instances/{created['uuid']}").status_code == 200
        assert rob.post("/v1/instances", json=_body(name="web-2")).status_code == 403
        assert _instance_count(auth_service) == 1

        # the catalogue is read by everyone and written by the operator only
        assert mia.get("/v1/images/debian-12").status_code == 200
        r = mia.post("/v1/images", json={**DEBIAN, "name": "mine"})
        assert r.status_code == 403, r.text

        r = mia.delete(f"/v1/instances/{created['uuid']}")
        assert r.status_code == 202, r.text
        assert wait_instance(mia, created["uuid"], ("gone",)) == {}
