"""Run Debian's cloud-init (module ``cloudinit`` in /usr/lib/python3/dist-packages) on our documents.

The project venv does not see dist-packages, so cloud-init runs in a subprocess with /usr/bin/python3 or as
``cloud-init devel net-convert``/``cloud-init schema``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

SYSTEM_PYTHON = "/usr/bin/python3"

_TO_V1 = """
import json, sys
from cloudinit.sources.helpers import openstack
doc = json.load(open(sys.argv[1]))
macs = json.loads(sys.argv[2])
print(json.dumps(openstack.convert_net_json(doc, known_macs=macs)))
"""

_READ_DRIVE = """
import json, sys
from cloudinit.sources.helpers import openstack
reader = openstack.ConfigDriveReader(sys.argv[1])
found = reader.read_v2()
out = {k: found.get(k) for k in ("metadata", "networkdata", "version")}
ud = found.get("userdata")
out["userdata"] = ud.decode() if isinstance(ud, bytes) else ud
out["vendordata"] = found.get("vendordata")
out["files"] = sorted(found.get("files", {}))
print(json.dumps(out, default=str))
"""

_USER_DATA_PARTS = """
import json, sys
from cloudinit import helpers, util
from cloudinit.user_data import UserDataProcessor
blob = open(sys.argv[1], "rb").read()
msg = UserDataProcessor(helpers.Paths({})).process(blob)
parts = [(p.get_content_type(), util.fully_decoded_payload(p)) for p in msg.walk() if not p.is_multipart()]
print(json.dumps([(t, d.decode() if isinstance(d, bytes) else d) for t, d in parts]))
"""


def require() -> None:
    if not (shutil.which("cloud-init") and os.path.exists(SYSTEM_PYTHON)):
        pytest.skip("Debian's cloud-init is not installed (scripts/apt-packages.txt)")


def _run(cmd: list[str], **kw: Any) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False, **kw)
    assert done.returncode == 0, f"{cmd[:3]} failed: {done.stderr[-2000:]}"
    return done.stdout


def to_v1(doc: dict[str, Any], macs: dict[str, str], tmp: Path) -> dict[str, Any]:
    """cloud-init's network config v1 for a network_data.json document; ``macs`` is {mac: kernel name}."""
    require()
    path = tmp / "network_data.json"
    path.write_text(json.dumps(doc))
    return json.loads(_run([SYSTEM_PYTHON, "-c", _TO_V1, str(path), json.dumps(macs)]))


def render(doc: dict[str, Any], macs: dict[str, str], kind: str, tmp: Path) -> dict[str, str]:
    """Files (path relative to the target root → text) cloud-init's ``kind`` renderer writes for ``doc``."""
    require()
    src = tmp / f"nd-{kind}.json"
    src.write_text(json.dumps(doc))
    out = tmp / f"out-{kind}"
    distro = "centos" if kind == "sysconfig" else "debian"
    cmd = ["cloud-init", "devel", "net-convert", "-p", str(src), "-k", "network_data.json", "-d", str(out),
           "-D", distro, "-O", kind]
    for mac, name in macs.items():
        cmd += ["-m", f"{name},{mac}"]
    _run(cmd)
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


def read_config_drive(root: Path) -> dict[str, Any]:
    """What cloud-init's ConfigDriveReader reads from an extracted config drive."""
    require()
    return json.loads(_run([SYSTEM_PYTHON, "-c", _READ_DRIVE, str(root)]))


def schema_errors(cloud_config: str, tmp: Path) -> str:
    """cloud-init's schema check of a cloud-config document: '' when valid, else its complaint."""
    require()
    path = tmp / "user-data.cfg"
    path.write_text(cloud_config)
    done = subprocess.run(["cloud-init", "schema", "-c", str(path)], capture_output=True, text=True, timeout=60,
                          check=False)
    return "" if done.returncode == 0 else (done.stdout + done.stderr)


def user_data_parts(user_data: bytes, tmp: Path) -> list[tuple[str, str]]:
    """(content type, text) of each part cloud-init's UserDataProcessor finds in ``user_data``."""
    require()
    path = tmp / "user_data"
    path.write_bytes(user_data)
    return [tuple(p) for p in json.loads(_run([SYSTEM_PYTHON, "-c", _USER_DATA_PARTS, str(path)]))]
