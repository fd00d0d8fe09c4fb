"""Boot mode / secure boot (1.76), virtual media (1.89/1.93) and firmware (1.86) follow Ironic's project-scoped
defaults as Ironworks adapts them (auth/policy.py): the owner's readers read firmware and virtual media, the
owner's members change boot settings and virtual media; a stranger gets the node's 404. SQLite and PostgreSQL."""

from __future__ import annotations

from tests.auth.conftest import MEMBER, OTHER_MEMBER, READER, client
from tests.auth.helpers import make_node
from tests.conductor.helpers import settle

ISO = "https://images.example.org/boot.iso"


def test_owner_reads_and_members_change(auth_service, admin):
    node = make_node(admin, owner="acme")["uuid"]
    base = f"/v1/nodes/{node}"
    with client(auth_service, READER) as c:
        assert c.get(f"{base}/firmware").status_code == 200
        assert c.get(f"{base}/vmedia").status_code == 200
        assert c.put(f"{base}/states/boot_mode", json={"target": "bios"}).status_code == 403
        assert c.put(f"{base}/states/secure_boot", json={"target": False}).status_code == 403
        assert c.post(f"{base}/vmedia", json={"device_type": "cdrom", "image_url": ISO}).status_code == 403
        assert c.delete(f"{base}/vmedia").status_code == 403
    with client(auth_service, MEMBER) as c:
        assert c.put(f"{base}/states/boot_mode", json={"target": "bios"}).status_code == 202
        settle(admin, node)
        assert c.post(f"{base}/vmedia", json={"device_type": "cdrom", "image_url": ISO}).status_code == 204
        settle(admin, node)
    with client(auth_service, OTHER_MEMBER) as c:
        for r in (
            c.get(f"{base}/firmware"),
            c.get(f"{base}/vmedia"),
            c.put(f"{base}/states/boot_mode", json={"target": "uefi"}),
            c.post(f"{base}/vmedia", json={"device_type": "cdrom", "image_url": ISO}),
        ):
            assert r.status_code == 404, r.text
    shown = admin.get(base).json()
    assert shown["boot_mode"] == "bios"
    assert [d["image"] for d in admin.get(f"{base}/vmedia").json() if d["inserted"]] == [ISO]
