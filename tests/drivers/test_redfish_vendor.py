"""The ``redfish`` vendor interface's ``eject_vmedia`` against sushy-emulator's virtual media: a CD inserted by a
second client (sushy, from a local HTTP server) is ejected, by type or all at once, directly and through
``POST /v1/nodes/{node}/vendor_passthru?method=eject_vmedia`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sushy
from sushy import auth

from ironworks import errors
from ironworks.drivers.redfish.interfaces import RedfishConnections
from ironworks.drivers.redfish.vendor import RedfishVendor
from ironworks.lab.bmc.redfish import RedfishEmulator
from tests.api.helpers import fault, make_node
from tests.drivers.test_redfish_driver import POLICY, task_for


@pytest.fixture(scope="module")
def image_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = Path(tmp_path_factory.mktemp("vmedia"))
    (root / "boot.iso").write_bytes(b"not really an ISO\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/boot.iso"
    server.shutdown()
    server.server_close()


def _media(emulator: RedfishEmulator, index: int) -> dict[str, object]:
    """Device id -> inserted, as a second client (sushy on its own) sees it."""
    root = sushy.Sushy(emulator.url + "/redfish/v1", auth=auth.BasicAuth("admin", "rf-s3cret"))
    system = root.get_system(emulator.system_path(index))
    return {m.identity: m for manager in system.managers for m in manager.virtual_media.get_members()}


def _insert(emulator: RedfishEmulator, index: int, device: str, url: str) -> None:
    _media(emulator, index)[device].insert_media(url, inserted=True)
    assert _media(emulator, index)[device].inserted


def test_eject_by_type_and_all(redfish_bmc: RedfishEmulator, image_url: str) -> None:
    vendor, task = RedfishVendor(RedfishConnections(POLICY)), task_for(redfish_bmc, 5)
    _insert(redfish_bmc, 5, "Cd", image_url)
    _insert(redfish_bmc, 5, "Floppy", image_url)
    vendor.eject_vmedia(task, "POST", {"boot_device": "CD"})
    media = _media(redfish_bmc, 5)
    assert not media["Cd"].inserted and media["Floppy"].inserted
    _insert(redfish_bmc, 5, "Cd", image_url)
    vendor.eject_vmedia(task, "POST", {})
    assert not any(m.inserted for m in _media(redfish_bmc, 5).values())
    vendor.eject_vmedia(task, "POST", {})  # nothing inserted: nothing to do
    with pytest.raises(errors.InvalidParameterValue, match="Boot device"):
        vendor.validate_call(task, "eject_vmedia", {"boot_device": "tape"})


def test_through_the_api(redfish_bmc: RedfishEmulator, image_url: str, service, api) -> None:  # type: ignore[no-untyped-def]
    node = make_node(api, driver="redfish", driver_info=task_for(redfish_bmc, 6).node["driver_info"])
    assert node["vendor_interface"] == "redfish"
    methods = api.get(f"/v1/nodes/{node['uuid']}/vendor_passthru/methods").json()
    assert list(methods) == ["eject_vmedia"] and methods["eject_vmedia"]["async"] is True
    path = f"/v1/nodes/{node['uuid']}/vendor_passthru"
    r = api.post(path, params={"method": "eject_vmedia"}, json={"boot_device": "tape"})
    assert r.status_code == 400, r.text
    assert "Boot device tape is not a valid value" in fault(r)["faultstring"]
    _insert(redfish_bmc, 6, "Cd", image_url)
    r = api.post(path, params={"method": "eject_vmedia"}, json={"boot_device": "DVD"})
    assert r.status_code == 202, r.text
    assert not _media(redfish_bmc, 6)["Cd"].inserted  # the Cd device holds CD and DVD media
