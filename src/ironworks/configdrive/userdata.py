"""user_data for cloud-init: the user's own data, plus a root password and SSH access when asked for.

- A dict is cloud-config: it is written as ``#cloud-config`` followed by its JSON (YAML reads JSON); a list is
  written as JSON, as Ironic does; text and bytes are kept as they are.
- A root password becomes a ``chpasswd`` entry for root with a SHA-512 crypt hash (``$6$``, made by
  ``openssl passwd -6`` reading the password on stdin, so it never appears in a command line); the clear text is
  never stored or logged. Root SSH keys travel in meta_data ``public_keys``; the cloud-config here adds
  ``disable_root: false`` so cloud-init installs them for root too.
- Merging never loses the user's data: a dict is merged key by key (the user's keys win; root's chpasswd entry is
  appended to the user's list); cloud-config text, scripts and other formats are combined with ours in a MIME
  multipart, ours first (cloud-init merges cloud-config parts, later parts winning); an existing multipart gets
  ours as its first part.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import message_from_bytes
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

from ironworks import errors

#: user-data first lines cloud-init recognises, and the MIME type it gives each
_STARTS = (
    ("#cloud-config-archive", "cloud-config-archive"),
    ("#cloud-config", "cloud-config"),
    ("#cloud-boothook", "cloud-boothook"),
    ("#include-once", "x-include-once-url"),
    ("#include", "x-include-url"),
    ("#part-handler", "part-handler"),
    ("## template: jinja", "jinja2"),
    ("#!", "x-shellscript"),
)

_KEY_TYPES = ("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-sha2-")


@dataclass(frozen=True)
class RootLogin:
    """Root access for the deployed system: a password (console) and/or SSH keys ({name: public key})."""

    password: str | None = field(default=None, repr=False)
    ssh_keys: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.password or self.ssh_keys)


def hash_password(password: str, *, salt: str | None = None) -> str:
    """SHA-512 crypt hash (``$6$…``) of ``password`` via ``openssl passwd -6``."""
    if not password or "\n" in password or "\r" in password or "\0" in password:
        raise errors.InvalidParameterValue("The root password must be one non-empty line.")
    cmd = ["openssl", "passwd", "-6", "-stdin"]
    if salt is not None:
        cmd[3:3] = ["-salt", salt]
    try:
        done = subprocess.run(cmd, input=password + "\n", capture_output=True, text=True, timeout=30, check=False)
    except OSError as exc:
        raise errors.DriverError(reason=f"cannot run openssl to hash the root password: {exc}") from exc
    hashed = done.stdout.strip()
    if done.returncode != 0 or not hashed.startswith("$6$"):
        raise errors.DriverError(reason=f"openssl passwd -6 failed (exit {done.returncode})")
    return hashed


def check_ssh_key(name: str, key: str) -> str:
    key = key.strip()
    if not key.startswith(_KEY_TYPES) or "\n" in key or len(key.split()) < 2:
        raise errors.InvalidParameterValue(f"SSH key {name!r} is not an OpenSSH public key")
    return key


def root_cloud_config(root: RootLogin) -> dict[str, Any]:
    """The cloud-config that gives root its password and SSH access."""
    config: dict[str, Any] = {}
    if root.ssh_keys:
        for name, key in root.ssh_keys.items():
            check_ssh_key(name, key)
        config["disable_root"] = False
    if root.password:
        config["chpasswd"] = {
            "expire": False,
            "users": [{"name": "root", "password": hash_password(root.password), "type": "hash"}],
        }
    return config


def cloud_config_text(config: Mapping[str, Any]) -> str:
    return "#cloud-config\n" + json.dumps(config, indent=2, sort_keys=True) + "\n"


def _as_bytes(user_data: str | bytes | Mapping[str, Any] | list[Any]) -> bytes:
    if isinstance(user_data, Mapping):
        return cloud_config_text(user_data).encode()
    if isinstance(user_data, list):
        return json.dumps(user_data).encode()
    if isinstance(user_data, str):
        return user_data.encode("utf-8")
    if isinstance(user_data, bytes):
        return user_data
    raise errors.InvalidParameterValue("user_data must be a string, an object or a list")


def _merge_dict(user: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(user)
    for key, value in ours.items():
        if key not in merged:
            merged[key] = value
        elif key == "chpasswd" and isinstance(merged[key], Mapping):
            theirs = dict(merged[key])
            users = list(theirs.get("users") or [])
            if not any(isinstance(u, Mapping) and u.get("name") == "root" for u in users):
                users += value["users"]
            theirs["users"] = users
            merged[key] = theirs
    return merged


def _mime_subtype(data: bytes) -> str:
    head = data.lstrip()[:64].decode("utf-8", "replace").lower()
    for start, subtype in _STARTS:
        if head.startswith(start):
            return subtype
    return "plain"


def _part(data: bytes, subtype: str, filename: str) -> MIMEText:
    text = data.decode("utf-8", "surrogateescape")
    part = MIMEText(text, subtype, "us-ascii" if text.isascii() else "utf-8")
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def _is_multipart(data: bytes) -> bool:
    head = data.lstrip()[:512].lower()
    return head.startswith((b"content-type: multipart", b"mime-version:")) and b"multipart/" in head


def compose(user_data: str | bytes | Mapping[str, Any] | list[Any] | None, root: RootLogin | None) -> bytes | None:
    """The user_data file for the config drive (None when there is nothing to write)."""
    ours = root_cloud_config(root) if root else {}
    if not ours:
        return None if user_data is None or user_data == "" else _as_bytes(user_data)
    if user_data is None or user_data == "":
        return cloud_config_text(ours).encode()
    if isinstance(user_data, Mapping):
        return cloud_config_text(_merge_dict(user_data, ours)).encode()
    data = _as_bytes(user_data)
    ours_part = _part(cloud_config_text(ours).encode(), "cloud-config", "ironworks-root.cfg")
    if _is_multipart(data):
        message = message_from_bytes(data)
        if not message.is_multipart():
            raise errors.InvalidParameterValue("user_data claims to be MIME multipart but cannot be parsed as one")
        payload = message.get_payload()
        assert isinstance(payload, list)
        message.set_payload([ours_part, *payload])
        return message.as_bytes()
    combined = MIMEMultipart()
    combined.attach(ours_part)
    subtype = _mime_subtype(data)
    combined.attach(_part(data, subtype, "user-data.cfg" if subtype == "cloud-config" else "user-data"))
    return combined.as_bytes()
