"""``GET /v1/conductors[/{hostname}]`` (API 1.49, 404 below): Ironic's fields, ``detail``, ``fields``,
pagination by hostname; the ``v1`` document links it from 1.49. SQLite and PostgreSQL (``service``)."""

from __future__ import annotations

from ironworks.db.repos.conductors import ConductorRepo
from tests.api.helpers import fault

DRIVERS = ["fake-hardware", "ipmi", "redfish"]


def _register(service) -> None:
    repo = ConductorRepo(service.services.db)
    repo.register("cond-a", "west")
    repo.register("cond-b")
    repo.register("cond-c")
    repo.unregister("cond-c")  # stopped: listed, not alive


def test_conductors_boundary_and_list(service):
    _register(service)
    with service.client("1.48") as c:
        for path in ("/v1/conductors", "/v1/conductors/cond-a"):
            r = c.get(path)
            assert r.status_code == 404, r.text
            fault(r)
        assert "conductors" not in c.get("/v1/").json()
    with service.client("1.49") as c:
        assert "conductors" in c.get("/v1/").json()
        listed = c.get("/v1/conductors").json()["conductors"]
    own = service.settings.conductor_name  # the running conductor re-registers on its next heartbeat
    assert [(x["hostname"], x["conductor_group"], x["alive"]) for x in listed if x["hostname"] != own] == [
        ("cond-a", "west", True),
        ("cond-b", "", True),
        ("cond-c", "", False),
    ]
    assert set(listed[0]) == {"hostname", "conductor_group", "alive", "links"}
    assert listed[0]["links"] == [
        {"href": f"{service.url}/v1/conductors/cond-a", "rel": "self"},
        {"href": f"{service.url}/conductors/cond-a", "rel": "bookmark"},
    ]


def test_show_detail_fields_and_errors(service, api):
    _register(service)
    one = api.get("/v1/conductors/cond-a").json()
    assert set(one) == {"hostname", "conductor_group", "alive", "drivers", "created_at", "updated_at", "links"}
    assert one["drivers"] == DRIVERS and one["alive"] is True and one["created_at"] and one["updated_at"]
    detail = api.get("/v1/conductors", params={"detail": "true"}).json()["conductors"]
    assert detail[0] == one
    picked = api.get("/v1/conductors", params={"fields": "hostname,drivers"}).json()["conductors"]
    assert set(picked[1]) == {"hostname", "drivers", "links"}
    assert set(api.get("/v1/conductors/cond-b", params={"fields": "alive"}).json()) == {"alive", "links"}

    for params in (
        {"fields": "nope"},
        {"detail": "true", "fields": "hostname"},
        {"sort_key": "alive"},
        {"limit": "0"},
        {"sort_dir": "up"},
        {"bogus": "1"},
    ):
        r = api.get("/v1/conductors", params=params)
        assert r.status_code == 400, (params, r.text)
        fault(r)
    r = api.get("/v1/conductors/nope")
    assert r.status_code == 404, r.text
    assert fault(r)["faultstring"] == "Conductor nope could not be found."


def test_pagination_by_hostname(service, api):
    _register(service)
    r = api.get("/v1/conductors", params={"limit": 2, "sort_key": "hostname", "sort_dir": "desc"}).json()
    assert [x["hostname"] for x in r["conductors"]] == ["cond-c", "cond-b"]
    assert r["next"] == f"{service.url}/v1/conductors?limit=2&marker=cond-b&sort_key=hostname&sort_dir=desc"
    rest = api.get(r["next"]).json()
    assert [x["hostname"] for x in rest["conductors"]] == ["cond-a"] and "next" not in rest
