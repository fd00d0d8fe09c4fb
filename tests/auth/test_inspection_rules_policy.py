"""Inspection rules are the operator's (Ironic's ``baremetal:inspection_rule:*`` are system-scoped): project
members and readers may neither read nor change them. ``/v1/continue_inspection`` is public as in Ironic (the
ramdisk has no credentials): without any it reaches the handler (its own checks answer)."""

from __future__ import annotations

from tests.auth.conftest import MEMBER, READER, client

RULE = {"actions": [{"op": "add-trait", "args": {"name": "CUSTOM_X"}}]}


def test_only_admins_read_and_write_inspection_rules(auth_service, admin):
    r = admin.post("/v1/inspection_rules", json=RULE, headers={"X-OpenStack-Ironic-API-Version": "1.96"})
    assert r.status_code == 201, r.text
    uuid = r.json()["uuid"]
    for user in (MEMBER, READER):
        with client(auth_service, user) as c:
            for method, path, body in (
                ("GET", "/v1/inspection_rules", None),
                ("GET", f"/v1/inspection_rules/{uuid}", None),
                ("POST", "/v1/inspection_rules", RULE),
                ("PATCH", f"/v1/inspection_rules/{uuid}", [{"op": "replace", "path": "/priority", "value": 1}]),
                ("DELETE", f"/v1/inspection_rules/{uuid}", None),
            ):
                r = c.request(method, path, json=body, headers={"X-OpenStack-Ironic-API-Version": "1.96"})
                assert r.status_code == 403, (user.name, method, path, r.text)
    shown = admin.get(f"/v1/inspection_rules/{uuid}", headers={"X-OpenStack-Ironic-API-Version": "1.96"}).json()
    assert shown["priority"] == 0


def test_continue_inspection_needs_no_credentials(auth_service):
    import httpx

    with httpx.Client(base_url=auth_service.url, headers={"X-OpenStack-Ironic-API-Version": "1.84"}) as anon:
        r = anon.post(
            "/v1/continue_inspection", json={"inventory": {"interfaces": [{"mac_address": "52:54:00:aa:bb:cc"}]}}
        )
    assert r.status_code == 404, r.text  # the lookup's answer, not 401
