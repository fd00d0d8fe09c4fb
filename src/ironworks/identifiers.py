"""Identifiers users type: UUIDs, MAC addresses, logical names, traits. Pure functions."""

from __future__ import annotations

import re
import uuid as uuidlib
from typing import Any

from ironworks import errors

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_MAC_RE = re.compile(r"^([0-9a-fA-F]{2})([:-]?)([0-9a-fA-F]{2})(\2[0-9a-fA-F]{2}){4}$")
_NAME_RE = re.compile(r"^[a-zA-Z0-9\-._~]+$")
_HOSTNAME_RE = re.compile(r"^(?!-)[a-zA-Z0-9-]{1,63}(?<!-)(\.(?!-)[a-zA-Z0-9-]{1,63}(?<!-))*$")
_TRAIT_RE = re.compile(r"^CUSTOM_[A-Z0-9_]+$")
#: a small set of standard (os-traits) namespaces accepted besides CUSTOM_*
_STANDARD_TRAIT_RE = re.compile(
    r"^(HW|COMPUTE|STORAGE|MISC_SHARES|OWNER|HW_CPU|HW_NIC|HW_GPU|HW_ARCH)_[A-Z0-9_]+$"
)
TRAIT_MAX_LENGTH = 255


def is_uuid_like(value: Any) -> bool:
    if not isinstance(value, str) or not _UUID_RE.match(value):
        return False
    try:
        uuidlib.UUID(value)
    except ValueError:
        return False
    return True


def normalize_uuid(value: Any, field: str = "uuid") -> str:
    if not is_uuid_like(value):
        raise errors.InvalidUUID(f"Expected a UUID for {field} but received {value!r}.")
    return str(uuidlib.UUID(value))


def new_uuid() -> str:
    return str(uuidlib.uuid4())


def normalize_mac(value: Any) -> str:
    """``AA-BB-CC-DD-EE-FF`` / ``aabbccddeeff`` / ``AA:BB:…`` → ``aa:bb:cc:dd:ee:ff``; else InvalidMAC."""
    if not isinstance(value, str) or not _MAC_RE.match(value.strip()):
        raise errors.InvalidMAC(mac=value)
    hexdigits = re.sub(r"[:-]", "", value.strip()).lower()
    return ":".join(hexdigits[i:i + 2] for i in range(0, 12, 2))


def is_valid_logical_name(value: Any, *, rfc3986: bool = True) -> bool:
    """Ironic's rule: RFC 3986 unreserved characters (API ≥ 1.10) or a hostname (older), ≤ 255, not a UUID."""
    if not isinstance(value, str) or not value or len(value) > 255 or is_uuid_like(value):
        return False
    pattern = _NAME_RE if rfc3986 else _HOSTNAME_RE
    return pattern.match(value) is not None


def validate_trait(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise errors.InvalidParameterValue(f"Invalid trait {value!r}: a trait is a non-empty string.")
    if len(value) > TRAIT_MAX_LENGTH:
        raise errors.InvalidParameterValue(f"Invalid trait: longer than {TRAIT_MAX_LENGTH} characters.")
    if not (_TRAIT_RE.match(value) or _STANDARD_TRAIT_RE.match(value)):
        raise errors.InvalidParameterValue(
            f"Invalid trait {value!r}: a custom trait must match CUSTOM_[A-Z0-9_]+ "
            "(standard traits are upper case with a known prefix such as HW_ or COMPUTE_)."
        )
    return value
