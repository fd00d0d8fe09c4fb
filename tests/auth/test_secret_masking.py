"""Secrets in node fields are masked in every API answer: keys such as ``ipmi_hex_kg_key``, and credentials
inside URLs wherever they appear (driver_info values, instance_info image URLs)."""

from __future__ import annotations

from typing import Any

from tests.auth.conftest import MEMBER, client
from tests.auth.helpers import make_node

KG_KEY = "0badc0ffee1234567890"
BMC_URL = "https://root:calvin-bmc-77@10.0.0.5/redfish/v1"
IMAGE_URL = "http://deployer:img-pass-88@images.example/disk.qcow2"
TOKEN_URL = "http://ghp-token-99@images.example/kernel"
SECRETS = ("calvin-bmc-77", "img-pass-88", "ghp-token-99", KG_KEY)


def _assert_masked(body: Any) -> None:
    text = repr(body)
    for secret in SECRETS:
        assert secret not in text, secret


def test_kg_key_and_url_credentials_are_masked_in_node_answers(auth_service, admin):
    node = make_node(admin, owner="acme")
    uuid = node["uuid"]
    patch = [
        {"op": "add", "path": "/driver_info/ipmi_hex_kg_key", "value": KG_KEY},
        {"op": "add", "path": "/driver_info/redfish_address", "value": BMC_URL},
        {"op": "add", "path": "/driver_info/deploy_kernel", "value": TOKEN_URL},
        {"op": "add", "path": "/instance_info/image_source", "value": IMAGE_URL},
    ]
    patched = admin.patch(f"/v1/nodes/{uuid}", json=patch)
    assert patched.status_code == 200, patched.text
    answers = [
        patched.json(),
        admin.get(f"/v1/nodes/{uuid}").json(),
        admin.get(f"/v1/nodes/{uuid}", params={"fields": "driver_info,instance_info"}).json(),
        admin.get("/v1/nodes/detail").json(),
    ]
    for body in answers:
        _assert_masked(body)
    shown = answers[1]
    assert shown["driver_info"]["ipmi_hex_kg_key"] == "******"
    assert shown["driver_info"]["redfish_address"] == "https://root:******@10.0.0.5/redfish/v1"
    assert shown["driver_info"]["deploy_kernel"] == "http://******@images.example/kernel"
    assert shown["instance_info"]["image_source"] == "http://deployer:******@images.example/disk.qcow2"
    with client(auth_service, MEMBER) as member:  # the owner's member sees even less, and no secret
        r = member.get(f"/v1/nodes/{uuid}")
    assert r.status_code == 200
    _assert_masked(r.json())
    # the secrets are stored as given (masking is on the way out only)
    with auth_service.services.db.read() as session:
        from sqlalchemy import text

        stored = session.execute(text("SELECT driver_info FROM nodes WHERE uuid = :u"), {"u": uuid}).scalar()
    assert KG_KEY in str(stored) and "calvin-bmc-77" in str(stored)


def test_url_credentials_quoted_in_last_error_are_masked(auth_service, admin):
    """An agent or BMC error may quote the URL it failed on; last_error is free text, masked on the way out."""
    from ironworks.db.repos.nodes import NodeRepo

    uuid = make_node(admin, owner="acme")["uuid"]
    NodeRepo(auth_service.services.db).update(uuid, lambda _: {"last_error": f"Download of {IMAGE_URL} failed: 401"})
    for body in (admin.get(f"/v1/nodes/{uuid}").json(), admin.get("/v1/nodes/detail").json()):
        _assert_masked(body)
    shown = admin.get(f"/v1/nodes/{uuid}", params={"fields": "last_error"}).json()
    assert shown["last_error"] == "Download of http://deployer:******@images.example/disk.qcow2 failed: 401"
