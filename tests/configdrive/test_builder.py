"""Config-2 images built, then read back with userspace tools (blkid, isoinfo, osirrox) and cloud-init's reader."""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import subprocess
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
import yaml

from ironworks import errors
from ironworks.configdrive import builder, iso, userdata
from ironworks.configdrive.userdata import RootLogin
from tests.configdrive import cloudinit, example

SCRIPT = "#!/bin/sh\necho hello from user_data > /root/hello\n"


def _need(*tools: str) -> None:
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"missing {', '.join(missing)} (scripts/apt-packages.txt)")


def _extract(image: bytes, tmp: Path) -> Path:
    _need("osirrox")
    path = tmp / "drive.iso"
    path.write_bytes(image)
    out = tmp / "extracted"
    done = subprocess.run(["osirrox", "-indev", str(path), "-extract", "/", str(out)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def example_drive() -> builder.ConfigDrive:
    root = RootLogin(password=example.ROOT_PASSWORD, ssh_keys={"ops": example.SSH_KEY})
    return builder.from_request(
        {"meta_data": {"availability_zone": "zone-a"}, "user_data": SCRIPT},
        node_uuid=example.NODE_UUID,
        node_name=example.NODE_NAME,
        generated_network_data=example.network_data(),
        root=root,
    )


def test_example_drive_has_label_joliet_and_rock_ridge(example_drive: builder.ConfigDrive, tmp_path: Path) -> None:
    _need("blkid", "isoinfo")
    path = tmp_path / "cd.iso"
    path.write_bytes(example_drive.image)
    probe = subprocess.run(["blkid", "-p", "-o", "export", str(path)], capture_output=True, text=True, check=True)
    fields = dict(line.split("=", 1) for line in probe.stdout.splitlines() if "=" in line)
    assert (fields["TYPE"], fields["LABEL"]) == ("iso9660", "config-2")
    info = subprocess.run(["isoinfo", "-d", "-i", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Volume id: config-2" in info
    assert "Joliet" in info and "Rock Ridge" in info
    listing = subprocess.run(["isoinfo", "-R", "-f", "-i", str(path)], capture_output=True, text=True, check=True)
    names = set(listing.stdout.split())
    for version in builder.VERSIONS:
        for name in ("meta_data.json", "network_data.json", "user_data"):
            assert f"/openstack/{version}/{name}" in names
    meta = subprocess.run(["isoinfo", "-R", "-i", str(path), "-x", "/openstack/latest/meta_data.json"],
                          capture_output=True, check=True).stdout
    assert json.loads(meta)["uuid"] == example.NODE_UUID
    assert iso.volume_label(example_drive.image) == "config-2"


def test_example_drive_read_by_cloud_init(example_drive: builder.ConfigDrive, tmp_path: Path) -> None:
    found = cloudinit.read_config_drive(_extract(example_drive.image, tmp_path))
    meta = found["metadata"]
    assert meta["uuid"] == example.NODE_UUID and meta["name"] == example.NODE_NAME
    assert meta["hostname"] == "web-01" and meta["availability_zone"] == "zone-a"
    assert meta["public_keys"] == {"ops": example.SSH_KEY}
    assert found["networkdata"] == example.network_data()
    parts = cloudinit.user_data_parts(found["userdata"].encode(), tmp_path)
    types = [t for t, _ in parts]
    assert types == ["text/cloud-config", "text/x-shellscript"]
    assert parts[1][1] == SCRIPT
    config = yaml.safe_load(parts[0][1])
    assert config["disable_root"] is False
    [root] = config["chpasswd"]["users"]
    assert (root["name"], root["type"]) == ("root", "hash") and root["password"].startswith("$6$")
    assert cloudinit.schema_errors(parts[0][1], tmp_path) == ""


def test_password_is_hashed_and_never_stored(example_drive: builder.ConfigDrive, tmp_path: Path) -> None:
    secret = example.ROOT_PASSWORD.encode()
    assert secret not in example_drive.image
    assert secret not in gzip.decompress(base64.b64decode(example_drive.encoded))
    assert example.ROOT_PASSWORD not in repr(RootLogin(password=example.ROOT_PASSWORD))
    hashed = userdata.hash_password(example.ROOT_PASSWORD)
    salt = hashed.split("$")[2]
    check = subprocess.run(["openssl", "passwd", "-6", "-salt", salt, "-stdin"], input=example.ROOT_PASSWORD + "\n",
                           capture_output=True, text=True, check=True)
    assert check.stdout.strip() == hashed
    assert userdata.hash_password("other password", salt=salt) != hashed


def test_encoded_form_round_trips(example_drive: builder.ConfigDrive) -> None:
    again = builder.from_request(example_drive.encoded, node_uuid=example.NODE_UUID)
    assert again.image == example_drive.image
    plain = base64.b64encode(example_drive.image).decode()
    assert builder.from_request(plain, node_uuid=example.NODE_UUID).image == example_drive.image


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("not base64 !!", "not valid base64"),
        (base64.b64encode(gzip.compress(b"hello world" * 3000)).decode(), "does not decode to an ISO9660 image"),
        (base64.b64encode(b"\x1f\x8b\x08\x00garbage").decode(), "gzip stream is damaged"),
        ("https://example.com/cd.iso", "URLs are not supported"),
        ("", "expected a gzipped, base64-encoded ISO9660 image"),
    ],
)
def test_bad_images_are_refused(value: str, text: str) -> None:
    with pytest.raises(errors.InvalidConfigDrive) as caught:
        builder.from_request(value, node_uuid=example.NODE_UUID)
    assert text in str(caught.value) and caught.value.http_status == 400


def test_root_login_cannot_patch_a_ready_image(example_drive: builder.ConfigDrive) -> None:
    with pytest.raises(errors.InvalidConfigDrive, match="ready-made image"):
        builder.from_request(example_drive.encoded, node_uuid="u", root=RootLogin(password="x"))


@pytest.mark.parametrize(
    ("configdrive", "text"),
    [
        ({"metadata": {}}, "unknown key(s) metadata"),
        ({"meta_data": []}, "meta_data must be an object"),
        ({"network_data": "x"}, "network_data must be an object"),
        ({"network_data": {"links": [{"id": "a"}]}}, "needs an 'id' and a 'type'"),
        ({"user_data": 5}, "user_data must be a string"),
        ({"vendor_data": [1]}, "vendor_data must be an object"),
        ({"meta_data": {"hostname": "bad_host!"}}, "not a valid hostname"),
        ({"meta_data": {"public_keys": {"k": "not a key"}}}, "not an OpenSSH public key"),
        (["meta_data"], "expected a gzipped base64 ISO string or an object"),
    ],
)
def test_bad_dicts_are_refused(configdrive: Any, text: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        builder.from_request(configdrive, node_uuid=example.NODE_UUID, node_name="n1")
    assert text in str(caught.value) and caught.value.http_status == 400


def test_dict_form_files_and_defaults(tmp_path: Path) -> None:
    drive = builder.from_request(
        {"meta_data": {"uuid": "given-uuid", "hostname": "db-7"}, "user_data": {"packages": ["htop"]},
         "vendor_data": {"ironworks": {"x": 1}}},
        node_uuid=example.NODE_UUID,
        node_name="Not A Hostname",
        vendor_data_static={"static": True},
    )
    extracted = _extract(drive.image, tmp_path)
    found = cloudinit.read_config_drive(extracted)
    assert found["metadata"]["uuid"] == "given-uuid" and found["metadata"]["name"] == "Not A Hostname"
    assert found["metadata"]["hostname"] == "db-7"
    assert found["networkdata"] is None
    assert found["userdata"].startswith("#cloud-config\n")
    assert yaml.safe_load(found["userdata"]) == {"packages": ["htop"]}
    assert found["vendordata"] == {"static": True}
    latest = extracted / "openstack" / "latest"
    assert json.loads((latest / "vendor_data2.json").read_text()) == {"ironworks": {"x": 1}}


def test_user_data_forms_without_root() -> None:
    assert userdata.compose(None, None) is None
    assert userdata.compose(SCRIPT, None) == SCRIPT.encode()
    assert userdata.compose(b"\x00\x01raw", None) == b"\x00\x01raw"
    assert json.loads(userdata.compose([{"a": 1}], None) or b"") == [{"a": 1}]
    assert userdata.compose(None, RootLogin()) is None


def test_user_cloud_config_dict_is_merged_not_lost() -> None:
    user = {"packages": ["vim"], "chpasswd": {"users": [{"name": "ops", "password": "x", "type": "text"}]}}
    out = userdata.compose(user, RootLogin(password="pw", ssh_keys={"k": example.SSH_KEY}))
    assert out is not None and out.startswith(b"#cloud-config\n")
    merged = yaml.safe_load(out)
    assert merged["packages"] == ["vim"] and merged["disable_root"] is False
    assert [u["name"] for u in merged["chpasswd"]["users"]] == ["ops", "root"]


def test_user_cloud_config_text_goes_into_a_multipart(tmp_path: Path) -> None:
    out = userdata.compose("#cloud-config\npackages: [vim]\n", RootLogin(password="pw"))
    assert out is not None
    parts = cloudinit.user_data_parts(out, tmp_path)
    assert [t for t, _ in parts] == ["text/cloud-config", "text/cloud-config"]
    assert yaml.safe_load(parts[1][1]) == {"packages": ["vim"]}


def test_existing_multipart_gets_our_part_first(tmp_path: Path) -> None:
    first = userdata.compose(SCRIPT, RootLogin(ssh_keys={"k": example.SSH_KEY}))
    assert first is not None
    again = userdata.compose(first, RootLogin(password="pw"))
    assert again is not None
    payload = message_from_bytes(again).get_payload()
    assert isinstance(payload, list) and len(payload) == 3
    parts = cloudinit.user_data_parts(again, tmp_path)
    assert [t for t, _ in parts] == ["text/cloud-config", "text/cloud-config", "text/x-shellscript"]
    assert "chpasswd" in yaml.safe_load(parts[0][1]) and parts[2][1] == SCRIPT


@pytest.mark.parametrize("password", ["", "two\nlines"])
def test_bad_passwords_are_refused(password: str) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        userdata.hash_password(password)


def test_make_iso_refuses_escaping_paths() -> None:
    with pytest.raises(errors.InvalidParameterValue):
        iso.make_iso({"../etc/passwd": b"x"})


def test_given_network_data_wins_over_generated(tmp_path: Path) -> None:
    given = {"links": [{"id": "x", "type": "phy", "ethernet_mac_address": "52:54:00:99:00:01"}],
             "networks": [{"id": "n", "type": "ipv4_dhcp", "link": "x"}], "services": []}
    drive = builder.from_request({"network_data": given}, node_uuid=example.NODE_UUID,
                                 generated_network_data=example.network_data())
    found = cloudinit.read_config_drive(_extract(drive.image, tmp_path))
    assert found["networkdata"] == given
