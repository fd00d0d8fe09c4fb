"""Local paths an API user can name (issue 12, operator mistakes), through the running service:

* ``fake-hardware`` is not enabled unless the settings name it;
* the fake driver's ``fake_power_file`` lies under ``<state_dir>/fake/`` (no other file can be overwritten);
* a local ``deploy_kernel``/``deploy_ramdisk`` comes only from ``local_image_dirs``, never the database or
  another secret file, and is published on the boot file server as a copy, never a link.

Paths are resolved first: ``..`` and symlinks cannot lead out of an allowed directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from ironworks.netboot.files import BootFiles
from tests.api.helpers import fault
from tests.conductor.helpers import move, settle
from tests.fixtures.servers import ServiceUnderTest, make_settings


def test_fake_hardware_is_not_enabled_by_default(tmp_path: Path) -> None:
    settings = make_settings(str(tmp_path), f"sqlite:///{tmp_path}/d.sqlite",
                             enabled_hardware_types=("ipmi", "redfish"))
    # make_settings enables it for tests: this service has the defaults of settings.py instead
    from ironworks.settings import Settings

    assert Settings().enabled_hardware_types == settings.enabled_hardware_types
    svc = ServiceUnderTest(settings).start()
    try:
        with svc.client() as api:
            r = api.post("/v1/nodes", json={"driver": "fake-hardware"})
            assert r.status_code == 400 and "'fake-hardware' is unknown or not enabled" in fault(r)["faultstring"]
            assert [d["name"] for d in api.get("/v1/drivers").json()["drivers"]] == ["ipmi", "redfish"]
    finally:
        svc.stop()


def _outside_paths(state: Path, victim: Path) -> list[str]:
    fake = state / "fake"
    fake.mkdir(exist_ok=True)
    link = fake / "innocent-link"
    if not link.is_symlink():
        link.symlink_to(victim)
    return [str(victim), f"{fake}/../{victim.name}", str(link), str(fake), "relative/power", "/etc/hostname"]


def test_fake_power_file_is_confined_to_the_state_dir(service: ServiceUnderTest, api: httpx.Client) -> None:
    state = Path(service.settings.state_dir)
    victim = state / "victim.txt"
    victim.write_text("precious\n")
    for path in _outside_paths(state, victim):
        r = api.post("/v1/nodes", json={"driver": "fake-hardware", "driver_info": {"fake_power_file": path}})
        assert r.status_code == 400, (path, r.text)
        assert "fake_power_file" in fault(r)["faultstring"]
    node = api.post("/v1/nodes", json={"driver": "fake-hardware"}).json()["uuid"]
    for path in _outside_paths(state, victim):
        r = api.patch(f"/v1/nodes/{node}", json=[{"op": "add", "path": "/driver_info/fake_power_file",
                                                  "value": path}])
        assert r.status_code == 400, (path, r.text)
    assert api.put(f"/v1/nodes/{node}/states/power", json={"target": "power on"}).status_code == 202
    settle(api, node)
    assert victim.read_text() == "precious\n"
    inside = state / "fake" / "nodes" / "bmc-1"
    r = api.patch(f"/v1/nodes/{node}", json=[{"op": "add", "path": "/driver_info/fake_power_file",
                                              "value": str(inside)}])
    assert r.status_code == 200, r.text
    assert api.get(f"/v1/nodes/{node}/validate").json()["power"] == {"result": True}
    assert api.put(f"/v1/nodes/{node}/states/power", json={"target": "power off"}).status_code == 202
    assert settle(api, node)["power_state"] == "power off"
    assert inside.read_text() == "power off\n"


def _secret_paths(service: ServiceUnderTest) -> list[str]:
    state = Path(service.settings.state_dir)
    paths = ["/etc/shadow", "/proc/self/environ", f"{state}/../../etc/passwd", "ftp://example.invalid/k"]
    url = service.settings.effective_database_url
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        link = state / "kernel-link"
        if not link.is_symlink():
            link.symlink_to(db)
        paths += [str(db), f"file://{db}", str(link)]
    return paths


@pytest.mark.parametrize("key", ["deploy_kernel", "deploy_ramdisk"])
def test_deploy_images_only_from_local_image_dirs(service: ServiceUnderTest, api: httpx.Client, key: str) -> None:
    for path in _secret_paths(service):
        r = api.post("/v1/nodes", json={"driver": "ipmi", "driver_info": {"ipmi_address": "127.0.0.1", key: path}})
        assert r.status_code == 400, (path, r.text)
        message = fault(r)["faultstring"]
        assert f"driver_info.{key}" in message and ("local image directory" in message or "only http" in message)
    node = api.post("/v1/nodes", json={"driver": "ipmi", "driver_info": {"ipmi_address": "127.0.0.1"}}).json()
    for path in _secret_paths(service):
        r = api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "add", "path": f"/driver_info/{key}", "value": path}])
        assert r.status_code == 400, (path, r.text)
    good = Path(service.settings.state_dir) / "images" / "vmlinuz"
    good.parent.mkdir(exist_ok=True)
    good.write_bytes(b"kernel")
    for ref in (str(good), "http://images.example/vmlinuz"):
        r = api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "add", "path": f"/driver_info/{key}", "value": ref}])
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("dirs", [(), ("{state}",)], ids=["defaults", "state-dir-allowed"])
def test_the_database_is_never_a_deploy_image(tmp_path: Path, dirs: tuple[str, ...]) -> None:
    """With the defaults of settings.py only <state_dir>/images (and the ramdisk caches) qualify; even an operator
    who allows the whole state dir never gets the database (or its journal) published."""
    dirs = tuple(d.format(state=tmp_path) for d in dirs)
    settings = make_settings(str(tmp_path), f"sqlite:///{tmp_path}/ironworks.sqlite", local_image_dirs=dirs)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "initrd").write_bytes(b"initrd")
    (tmp_path / "other").write_bytes(b"other")
    svc = ServiceUnderTest(settings).start()
    try:
        with svc.client() as api:
            def create(path: Path) -> httpx.Response:
                return api.post("/v1/nodes", json={"driver": "ipmi", "driver_info": {"deploy_ramdisk": str(path)}})

            assert create(tmp_path / "images" / "initrd").status_code == 201
            refused = [tmp_path / "ironworks.sqlite", tmp_path / "images" / ".." / "ironworks.sqlite"]
            refused += [tmp_path / "other", tmp_path / "images" / ".." / "other"] if not dirs else []
            for path in refused:
                r = create(path)
                assert r.status_code == 400 and "local image directory" in fault(r)["faultstring"], r.text
    finally:
        svc.stop()


def test_published_files_are_copies_not_links(tmp_path: Path) -> None:
    source = tmp_path / "images" / "vmlinuz"
    source.parent.mkdir()
    source.write_bytes(b"kernel v1")
    files = BootFiles(tmp_path / "http", tmp_path / "tftp", "http://10.0.0.1:8080")
    url = files.publish(source, "kernel-abc")
    target = tmp_path / "http" / "shared" / "kernel-abc"
    assert url == "http://10.0.0.1:8080/shared/kernel-abc"
    assert not target.is_symlink() and target.stat().st_ino != source.stat().st_ino
    assert target.read_bytes() == b"kernel v1" and (target.stat().st_mode & 0o777) == 0o644
    source.write_bytes(b"kernel v2")  # a later change of the source never shows on the file server
    assert target.read_bytes() == b"kernel v1"
    assert os.stat(target).st_nlink == 1


def test_an_enrolled_fake_node_still_moves_through_its_states(api: httpx.Client) -> None:
    node = api.post("/v1/nodes", json={"driver": "fake-hardware"}).json()["uuid"]
    assert move(api, node, "manage")["provision_state"] == "manageable"
