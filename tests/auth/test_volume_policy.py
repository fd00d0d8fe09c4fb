"""Volume connectors and targets under project scoping (Ironic's baremetal:volume:* defaults mapped onto
auth/policy.py): lists hold only the project's nodes' objects, a foreign object or node is a 404 exactly like a
missing one, create/delete are the operator's, update the owner's members', and target properties are
redacted for everyone but the operator. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from tests.api.helpers import fault
from tests.auth.conftest import MEMBER, OTHER_MEMBER, READER, client
from tests.auth.helpers import make_node

SECRET = "chap-secret-policy-5"


def _power_off(admin, node):
    from tests.conductor.helpers import settle

    assert admin.put(f"/v1/nodes/{node}/states/power", json={"target": "power off"}).status_code == 202
    settle(admin, node)


@pytest.fixture
def estate(auth_service, admin):
    """A connector and a target on a node acme owns, one acme leases, and one of another project."""
    out = {}
    for i, (key, owner, lessee) in enumerate(
        (("own", "acme", None), ("leased", "landlord", "acme"), ("foreign", "landlord", "evil"))
    ):
        node = make_node(admin, owner=owner, lessee=lessee, name=key)["uuid"]
        _power_off(admin, node)
        conn = admin.post(
            "/v1/volume/connectors",
            json={"node_uuid": node, "type": "iqn", "connector_id": f"iqn.2026-12.org.example:{key}"},
        )
        tgt = admin.post(
            "/v1/volume/targets",
            json={
                "node_uuid": node,
                "volume_type": "iscsi",
                "boot_index": i,
                "volume_id": f"vol-{key}",
                "properties": {"auth_password": SECRET, "lun": i},
            },
        )
        assert conn.status_code == 201 and tgt.status_code == 201, (conn.text, tgt.text)
        out[key] = {"node": node, "connector": conn.json()["uuid"], "target": tgt.json()["uuid"]}
    return out


def test_lists_and_reads_follow_the_node(auth_service, admin, estate):
    for user in (MEMBER, READER):
        with client(auth_service, user) as c:
            for kind in ("connectors", "targets"):
                seen = {o["uuid"] for o in c.get(f"/v1/volume/{kind}").json()[kind]}
                assert seen == {estate["own"][kind[:-1]], estate["leased"][kind[:-1]]}
                foreign = estate["foreign"]
                r = c.get(f"/v1/volume/{kind}/{foreign[kind[:-1]]}")
                assert r.status_code == 404, r.text
                missing = c.get(f"/v1/volume/{kind}/{uuid.uuid4()}")
                assert missing.status_code == 404
                assert fault(r)["faultstring"].replace(foreign[kind[:-1]], "X") == fault(missing)[
                    "faultstring"
                ].replace(missing.url.path.rsplit("/", 1)[1], "X")
                assert c.get(f"/v1/volume/{kind}", params={"node": foreign["node"]}).status_code == 404
                assert c.get(f"/v1/nodes/{foreign['node']}/volume/{kind}").status_code == 404
                assert c.get(f"/v1/nodes/{estate['own']['node']}/volume/{kind}").status_code == 200
            shown = c.get(f"/v1/volume/targets/{estate['leased']['target']}").json()
            assert shown["properties"] == {
                "redacted_contents": "** Value redacted: Requires permission "
                "baremetal:volume:view_target_properties access. Permission denied. **"
            }
            listed = c.get("/v1/volume/targets", params={"detail": "true"})
            assert SECRET not in listed.text and "redacted_contents" in listed.text
            assert c.get("/v1/volume").status_code == 403  # Ironic's volume:get without a node
    with client(auth_service, OTHER_MEMBER) as c:
        assert [o["uuid"] for o in c.get("/v1/volume/connectors").json()["connectors"]] == [
            estate["foreign"]["connector"]
        ]
    shown = admin.get(f"/v1/volume/targets/{estate['foreign']['target']}").json()
    assert shown["properties"] == {"auth_password": "******", "lun": 2}  # the operator: masked, not redacted


def test_changes_follow_the_role(auth_service, admin, estate):
    own, leased, foreign = estate["own"], estate["leased"], estate["foreign"]
    patch = [{"op": "add", "path": "/extra/by", "value": "mia"}]
    with client(auth_service, MEMBER) as c:
        r = c.post("/v1/volume/connectors", json={"node_uuid": own["node"], "type": "iqn", "connector_id": "x"})
        assert r.status_code == 403, r.text
        r = c.patch(f"/v1/volume/connectors/{own['connector']}", json=patch)
        assert r.status_code == 200 and r.json()["extra"] == {"by": "mia"}, r.text
        assert c.patch(f"/v1/volume/targets/{leased['target']}", json=patch).status_code == 403  # a lessee
        assert c.patch(f"/v1/volume/targets/{foreign['target']}", json=patch).status_code == 404
        # moving it to a node the caller cannot see, or with another owner: 400, not telling which
        for node in (foreign["node"], leased["node"]):
            r = c.patch(
                f"/v1/volume/connectors/{own['connector']}",
                json=[{"op": "replace", "path": "/node_uuid", "value": node}],
            )
            assert r.status_code == 400, r.text
            assert fault(r)["faultstring"] == (
                f"Unable to apply the requested node_uuid '{node}'. Requested value was invalid."
            )
        assert c.delete(f"/v1/volume/connectors/{own['connector']}").status_code == 403
        assert c.delete(f"/v1/volume/targets/{foreign['target']}").status_code == 404
    with client(auth_service, READER) as c:
        assert c.patch(f"/v1/volume/connectors/{own['connector']}", json=patch).status_code == 403
    assert admin.delete(f"/v1/volume/connectors/{own['connector']}").status_code == 204
