"""The RBAC matrix, through openstacksdk logged in with ``auth_type=http_basic``.

Rows: admin / member / reader (each of a project: "ops" for the admin, "acme" for the others) against a node
that project owns, leases, or has nothing to do with. Columns: what a user relies on:

* read         ``GET /v1/nodes/{node}``
* update       ``PATCH /properties`` (owner's members only: Ironic's ``update:properties``)
* provision    deploy (``PUT states/provision`` target ``active``): owner's and lessee's members
* credentials  ``PATCH /driver_info`` (BMC credentials): admins only, and what ``GET`` shows of them

"ok" is the success answer, 403 "you may see it but not do this", 404 "as if the node did not exist".
"""

from __future__ import annotations

import pytest
from openstack import exceptions as sdk_exc

from tests.auth.conftest import ADMIN, MEMBER, READER, sdk
from tests.auth.helpers import BMC_PASSWORD, BMC_USER, node_for

OK = "ok"
REDACTED = "redacted"
MASKED = "******"

#: (role, relation) -> (read, update, provision, credentials patch, what GET shows as driver_info.ipmi_username)
MATRIX = {
    ("admin", "own"): (OK, OK, OK, OK, BMC_USER),
    ("admin", "leased"): (OK, OK, OK, OK, BMC_USER),
    ("admin", "foreign"): (OK, OK, OK, OK, BMC_USER),
    ("member", "own"): (OK, OK, OK, 403, MASKED),
    ("member", "leased"): (OK, 403, OK, 403, REDACTED),
    ("member", "foreign"): (404, 404, 404, 404, None),
    ("reader", "own"): (OK, 403, 403, 403, MASKED),
    ("reader", "leased"): (OK, 403, 403, 403, REDACTED),
    ("reader", "foreign"): (404, 404, 404, 404, None),
}
USERS = {"admin": ADMIN, "member": MEMBER, "reader": READER}


def _outcome(call):  # type: ignore[no-untyped-def]
    try:
        call()
    except sdk_exc.HttpException as exc:
        return exc.status_code
    return OK


@pytest.mark.parametrize(("role", "relation"), list(MATRIX))
def test_rbac_matrix(auth_service, admin, role, relation):
    user = USERS[role]
    node = node_for(admin, user.project, relation)
    uuid = node["uuid"]
    read, update, provision, credentials, shown_user = MATRIX[(role, relation)]
    conn = sdk(auth_service, user)
    try:
        seen = {}
        outcomes = (
            _outcome(lambda: seen.update(node=conn.baremetal.get_node(uuid))),
            _outcome(lambda: conn.baremetal.patch_node(uuid, [{"op": "add", "path": "/properties/cpus", "value": 16}])),
            _outcome(
                lambda: conn.baremetal.patch_node(
                    uuid, [{"op": "add", "path": "/driver_info/ipmi_username", "value": "intruder"}]
                )
            ),
            _outcome(lambda: conn.baremetal.set_node_provision_state(uuid, "active")),
        )
    finally:
        conn.close()
    assert outcomes == (read, update, credentials, provision)

    # what the caller saw of the BMC credentials: the password never, the username only as an admin
    if shown_user is None:
        assert "node" not in seen
    else:
        info = seen["node"].driver_info
        assert BMC_PASSWORD not in str(info)
        if shown_user == REDACTED:
            assert set(info) == {"content"} and "Redacted" in info["content"]
        else:
            assert info["ipmi_username"] == shown_user and info["ipmi_password"] == MASKED

    # refused changes changed nothing
    after = admin.get(f"/v1/nodes/{uuid}").json()
    assert after["driver_info"]["ipmi_username"] == ("intruder" if credentials == OK else BMC_USER)
    assert after["properties"].get("cpus") == (16 if update == OK else None)
    if provision != OK:
        assert after["provision_state"] == "available" and after["target_provision_state"] is None
