"""Typed, frozen settings.

Sources, lowest precedence first: built-in defaults, a TOML file (``--config`` or ``IRONWORKS_CONFIG``),
``IRONWORKS_<NAME>`` environment variables, then explicit overrides (command-line flags). The one ``Settings``
object is built in the composition root and passed down; nothing reads configuration at import time.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_type_hints

DEFAULT_STATE_DIR = "/var/lib/ironworks"


@dataclasses.dataclass(frozen=True)
class Settings:
    # API
    host: str = "127.0.0.1"
    port: int = 6385
    #: public URL used in links; empty means derived from the request
    public_url: str = ""
    # storage
    state_dir: str = DEFAULT_STATE_DIR
    #: empty means sqlite file ``<state_dir>/ironworks.sqlite``
    database_url: str = ""
    # drivers
    enabled_hardware_types: tuple[str, ...] = ("fake-hardware", "ipmi", "redfish")
    # conductor
    conductor_name: str = ""
    conductor_group: str = ""
    conductor_workers: int = 16
    automated_clean: bool = True
    deploy_callback_timeout: float = 1800.0
    clean_callback_timeout: float = 1800.0
    inspect_callback_timeout: float = 1800.0
    rescue_callback_timeout: float = 1800.0
    power_sync_interval: float = 60.0
    power_sync_workers: int = 8
    heartbeat_interval: float = 10.0
    #: a conductor silent for this long is dead: its locks are broken and its nodes taken over
    heartbeat_timeout: float = 60.0
    #: how often the conductor looks for callback timeouts (seconds)
    periodic_interval: float = 5.0
    #: power sync puts the hardware back to the recorded state (True) or records the hardware's (False)
    force_power_state_during_sync: bool = True
    # BMC access (IPMI and Redfish drivers)
    #: tries per BMC operation; retries back off from bmc_backoff seconds, doubling
    bmc_attempts: int = 3
    bmc_backoff: float = 0.5
    #: seconds one Redfish HTTP request may take
    bmc_request_timeout: float = 10.0
    #: requests in flight to one BMC address at a time
    bmc_per_address_limit: int = 1
    #: seconds a power action may take to show in the BMC's power state (the API's ``timeout`` overrides)
    bmc_power_timeout: float = 60.0
    bmc_poll_interval: float = 1.0
    # inventory
    #: bond mode of a portgroup created without one
    default_portgroup_mode: str = "active-backup"
    # logging
    log_level: str = "INFO"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.state_dir) / 'ironworks.sqlite'}"

    @property
    def effective_conductor_name(self) -> str:
        if self.conductor_name:
            return self.conductor_name
        return f"{os.uname().nodename}-{self.port}"


def _coerce(name: str, raw: Any, typ: Any) -> Any:
    origin = getattr(typ, "__origin__", None)
    if typ is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"setting {name!r}: expected a boolean, got {raw!r}")
    if typ is int:
        return int(raw)
    if typ is float:
        return float(raw)
    if origin is tuple:
        if isinstance(raw, str):
            return tuple(item.strip() for item in raw.split(",") if item.strip())
        return tuple(str(item) for item in raw)
    return str(raw)


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from defaults, a TOML file, the environment and overrides (in that order)."""
    env = os.environ if env is None else env
    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    path = config_file or env.get("IRONWORKS_CONFIG")
    if path:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        section = data.get("ironworks", data)
        for key, raw in section.items():
            if key not in hints:
                raise ValueError(f"unknown setting {key!r} in {path}")
            values[key] = _coerce(key, raw, hints[key])
    for key, typ in hints.items():
        env_key = f"IRONWORKS_{key.upper()}"
        if env_key in env:
            values[key] = _coerce(key, env[env_key], typ)
    for key, raw in (overrides or {}).items():
        if raw is None:
            continue
        if key not in hints:
            raise ValueError(f"unknown setting {key!r}")
        values[key] = _coerce(key, raw, hints[key])
    return Settings(**values)
