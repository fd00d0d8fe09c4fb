"""Logging with node context, and the one place that decides what a secret is.

``mask_secrets`` is used both by the API (driver_info, instance_info in responses) and by the log filter, so
a BMC password or agent token is never shown anywhere: it reads ``******``.
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
    "password", "passwd", "pswd", "secret", "token", "auth_key", "priv_key", "private_key", "passphrase",
    "configdrive", "chap", "credential", "kek", "sslkey", "fernetkey", "cryptpw", "adminpass", "admin_pass",
    "new_pass",
)

_SECRET_IN_TEXT = re.compile(
    r"(?P<key>[\"']?[\w-]*(?:password|passwd|secret|token|passphrase|priv_key|auth_key)[\w-]*[\"']?"
    r"\s*[:=]\s*)(?P<quote>[\"']?)(?P<value>[^\s\"',}]+)",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in _SECRET_KEY_PARTS)


def mask_secrets(data: Any) -> Any:
    """A copy of ``data`` with every value under a secret-looking key replaced by ``******``."""
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
    return data


def mask_text(text: str) -> str:
    """Mask ``password=…``-style secrets inside free text (log lines, command lines)."""
    return _SECRET_IN_TEXT.sub(lambda m: f"{m.group('key')}{m.group('quote')}{MASK}", text)


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


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(ctx)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
