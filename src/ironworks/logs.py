"""Logging with node context, and the one place that decides what a secret is.

``mask_secrets`` is used both by the API (driver_info, driver_internal_info, instance_info in responses) and,
through ``mask_text``, by the log filter and formatter, so a BMC password, IPMI key or agent token is never
shown anywhere: it reads ``******``. Two kinds of secret are recognised:

- values under a secret-looking key (``ipmi_password``, ``ipmi_hex_kg_key``, ``agent_token``…), whatever the
  value;
- credentials inside a URL anywhere, under any key or in free text: ``https://user:pass@bmc`` reads
  ``https://user:******@bmc`` and ``https://token@host`` reads ``https://******@host``.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import re
from collections.abc import Mapping
from typing import Any

MASK = "******"

#: substrings of dictionary keys whose values are secrets
_SECRET_KEY_PARTS = (
    "password",
    "passwd",
    "pswd",
    "secret",
    "token",
    "auth_key",
    "priv_key",
    "private_key",
    "passphrase",
    "configdrive",
    "chap",
    "credential",
    "kek",
    "sslkey",
    "fernetkey",
    "cryptpw",
    "adminpass",
    "admin_pass",
    "new_pass",
    "kg_key",
    "encrypted_key",
    "cephxkey",
)

_SECRET_IN_TEXT = re.compile(
    r"(?P<key>[\"']?[\w-]*(?:password|passwd|secret|token|passphrase|priv_key|auth_key|kg_key)[\w-]*[\"']?"
    r"\s*[:=]\s*)(?P<quote>[\"']?)(?P<value>[^\s\"',}]+)",
    re.IGNORECASE,
)

#: the userinfo of a URL (RFC 3986: ``scheme://userinfo@host``): no ``/ ? #`` or whitespace in it; a password
#: with an unencoded ``@`` is masked up to the last ``@`` before the host, as URL parsers read it
_URL_USERINFO = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^\s/?#@:\"'<>]*)(?P<colon>:?)(?P<secret>[^\s/?#\"'<>]*)@"
)


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in _SECRET_KEY_PARTS)


def _mask_userinfo(match: re.Match[str]) -> str:
    if match.group("colon"):  # user:password@ -> the user stays readable
        return f"{match.group('scheme')}{match.group('user')}:{MASK}@"
    return f"{match.group('scheme')}{MASK}@"  # a lone userinfo is usually a token


def mask_url_credentials(text: str) -> str:
    """``text`` with the credentials of every URL in it masked (``https://user:******@host``)."""
    if "@" not in text or "://" not in text:
        return text
    return _URL_USERINFO.sub(_mask_userinfo, text)


def mask_secrets(data: Any) -> Any:
    """A copy of ``data`` with every value under a secret-looking key replaced by ``******`` and the
    credentials of URLs in every other string masked."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(key, str) and is_secret_key(key) and value not in (None, ""):
                out[key] = MASK
            else:
                out[key] = mask_secrets(value)
        return out
    if isinstance(data, list):
        return [mask_secrets(item) for item in data]
    if isinstance(data, str):
        return mask_url_credentials(data)
    return data


def mask_text(text: str) -> str:
    """Mask ``password=…``-style secrets and URL credentials inside free text (log lines, command lines)."""
    return mask_url_credentials(_SECRET_IN_TEXT.sub(lambda m: f"{m.group('key')}{m.group('quote')}{MASK}", text))


# --- node context --------------------------------------------------------------------------------------------
node_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "ironworks_node_context", default=None
)


class ContextFilter(logging.Filter):
    """Adds ``ctx`` (node uuid, operation, request id) to records and masks secrets in the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = node_context.get()
        record.ctx = " ".join(f"{k}={v}" for k, v in ctx.items()) if ctx else "-"
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not kill logging
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class MaskingFormatter(logging.Formatter):
    """Masks the whole formatted line, tracebacks included (an exception's text may quote a URL or a key)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s [%(ctx)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
