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
    #: public URL used in links; empty: the address the client connected to (never the ``Host:`` header)
    public_url: str = ""
    #: largest request body (bytes), checked before the body is read, chunked bodies too (413 beyond it).
    #: 96 MiB: a config drive is at most 64 MiB (ironic-python-agent's limit), gzipped and base64-encoded
    #: that is at most ~85.4 MiB, plus its JSON around it (docs/security.md)
    max_request_body_bytes: int = 96 * 1024 * 1024
    #: largest request line + headers (bytes); beyond it the connection is answered 431 and closed
    max_request_header_bytes: int = 64 * 1024
    #: seconds a client has, from connecting (or from its previous answer), to send a whole request head
    client_header_timeout: float = 15.0
    #: seconds a request body may pause between bytes before the connection is closed
    client_idle_timeout: float = 60.0
    #: seconds an idle keep-alive connection stays open between requests
    client_keepalive_timeout: float = 5.0
    #: open client connections at most; past it, the oldest connection still waiting for a request head is
    #: closed to make room (a new one is refused with 503 when every connection is busy with a request)
    max_connections: int = 1000
    # storage
    state_dir: str = DEFAULT_STATE_DIR
    #: empty means sqlite file ``<state_dir>/ironworks.sqlite``
    database_url: str = ""
    # drivers
    #: ``fake-hardware`` (no real BMC, simulated power) is for tests and benchmarks: enable it explicitly
    enabled_hardware_types: tuple[str, ...] = ("ipmi", "redfish")
    #: directories whose files may be given as local paths for deploy kernels/ramdisks (they are copied onto the
    #: unauthenticated boot file server); empty: ``<state_dir>/images``, ``<state_dir>/ramdisk-cache`` and the
    #: shared ramdisk build cache ``/var/tmp/ironworks-ramdisk-cache`` (images/local.py)
    local_image_dirs: tuple[str, ...] = ()
    # conductor
    conductor_name: str = ""
    conductor_group: str = ""
    conductor_workers: int = 16
    automated_clean: bool = True
    #: keep the ramdisk agent running after cleaning/inspection so a following deploy (or clean) reuses it
    #: without a reboot (Ironic's [deploy]fast_track); per node: driver_info.fast_track
    fast_track: bool = False
    #: seconds since the agent's last heartbeat within which fast track still trusts it to be alive
    fast_track_timeout: float = 300.0
    #: how a deploy leaves the ramdisk for the instance: "reboot" (firmware POST) or "kexec" (straight into
    #: the deployed kernel; per node: instance_info.kexec)
    deploy_boot: str = "reboot"
    deploy_callback_timeout: float = 1800.0
    clean_callback_timeout: float = 1800.0
    inspect_callback_timeout: float = 1800.0
    #: which NICs of inspection data posted to /v1/continue_inspection become ports (Ironic's [inspector]add_ports):
    #: "pxe" (the PXE NIC; all NICs when the data names none), "active" (with an IP), "all", "disabled"
    inspector_add_ports: str = "pxe"
    #: mask password/auth_token/bmc_password in the data inspection rules read: "always", "sensitive", "never"
    inspection_rules_mask_secrets: str = "always"
    #: a YAML/JSON file of built-in inspection rules, applied with the stored ones (Ironic's built_in_rules)
    inspection_rules_builtin_file: str = ""
    rescue_callback_timeout: float = 1800.0
    service_callback_timeout: float = 1800.0
    power_sync_interval: float = 60.0
    power_sync_workers: int = 8
    heartbeat_interval: float = 10.0
    #: a conductor silent for this long is dead: its locks are broken and its nodes taken over
    heartbeat_timeout: float = 60.0
    #: how often the conductor looks for callback timeouts (seconds)
    periodic_interval: float = 5.0
    #: power sync puts the hardware back to the recorded state (True) or records the hardware's (False)
    force_power_state_during_sync: bool = True
    #: power sync also reads each node's health from its BMC (API 1.109; Ironic's enable_health_monitoring)
    enable_health_monitoring: bool = True
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
    # tenant networking (networking/, docs/networking.md)
    #: networks a node is moved to for provisioning, cleaning and rescue unless its driver_info names one
    #: (provisioning_network, cleaning_network, rescuing_network); empty: the one network with that role
    provisioning_network: str = ""
    cleaning_network: str = ""
    rescuing_network: str = ""
    #: TOML file describing the switches ([switches.<name>] driver = "linux-bridge" | "netmiko" | "noop", ...)
    switches_file: str = ""
    #: the trunk whose 802.1Q subinterfaces <trunk>.<vlan> DHCP serves provisioning networks on
    dhcp_trunk_interface: str = ""
    # netboot (netboot/service.py): dnsmasq + the boot file server on the provisioning interface
    #: the provisioning interface (e.g. a bridge); empty: no netboot in this conductor
    netboot_interface: str = ""
    #: this host's address on it, with the prefix (e.g. 10.213.0.1/24)
    netboot_address: str = ""
    #: run dnsmasq and the file server inside this network namespace (the lab's)
    netboot_netns: str = ""
    #: "first,last" DHCP addresses; empty: .100-.199 of the network
    netboot_dhcp_range: str = ""
    #: IPv6 prefix announced by router advertisements (iPXE otherwise waits 13 s per boot); empty: none
    netboot_ipv6_prefix: str = ""
    netboot_http_port: int = 8080
    #: the API URL the ramdisk agent uses; empty: http://<netboot address>:<port>
    netboot_api_url: str = ""
    netboot_ping_check: bool = True
    #: extra kernel parameters for every deploy ramdisk boot, space separated
    netboot_kernel_params: str = ""
    #: file holding the key the lab's agent relay (lab/apiproxy.py) sends in X-Ironworks-Relay; only with it, and
    #: from one of agent_relay_addresses, is the relay's X-Forwarded-For believed. Empty: <state_dir>/agent-relay.key
    agent_relay_key_file: str = ""
    agent_relay_addresses: tuple[str, ...] = ("127.0.0.1", "::1")
    #: default deploy ramdisk (URL or local path) for nodes whose driver_info names none
    deploy_kernel: str = ""
    deploy_ramdisk: str = ""
    # authentication (auth/, docs/auth.md)
    #: "noauth" or "http_basic"; empty: noauth when ``host`` is a loopback address, http_basic otherwise
    auth_strategy: str = ""
    #: start with noauth on a non-loopback address anyway (anyone who reaches the port is admin)
    auth_insecure_noauth: bool = False
    #: optional Apache htpasswd file (bcrypt entries only, as Ironic's http_basic); its users are admins
    http_basic_auth_user_file: str = ""
    #: realm named in ``WWW-Authenticate``
    http_basic_realm: str = "Baremetal API"
    #: login throttling (auth/throttle.py): failed logins allowed per user name and per source address within
    #: ``auth_failure_window`` seconds; past either, logins of that name/address answer 429 until failures age
    #: out. 0: no limit of that kind
    auth_failures_per_user: int = 10
    auth_failures_per_address: int = 30
    auth_failure_window: float = 300.0
    #: threads that run bcrypt checks, apart from the request threads (0: half the CPUs, at least 1)
    auth_bcrypt_workers: int = 0
    #: password checks one source address may have waiting or running at once; more answer 429 (0: no limit)
    auth_pending_checks_per_address: int = 4
    # scheduling (scheduler/, docs/scheduling.md)
    #: a flavor without its own exact_match setting matches node properties exactly (True) or "at least" (False)
    flavor_exact_match: bool = True
    #: isolated projects: "project" (pool name = project id) or "project:pool"; also set through /v1/projects
    isolated_projects: tuple[str, ...] = ()
    #: nodes a non-admin project may hold through allocations (and servers) at once; 0: unlimited. Per project:
    #: ``max_allocations`` of /v1/projects/{id} (docs/scheduling.md)
    max_allocations_per_project: int = 0
    #: POST /v1/allocations claims the node within the request and answers ``active``/``error`` (opt-in); by
    #: default it answers ``allocating`` and the claim follows at once in a worker, as Ironic (docs/scheduling.md)
    allocation_immediate: bool = False
    #: VLANs handed to networks that members create: "[physical_network:]first:last" entries; empty: members
    #: cannot create networks (docs/networking.md)
    tenant_vlan_ranges: tuple[str, ...] = ()
    #: trait-based networking (API 1.111, networking/trait_networking/, docs/networking.md), Ironic's
    #: [conductor] enable_trait_based_networking and trait_based_networking_* options and defaults
    trait_based_networking_enabled: bool = False
    trait_based_networking_config_file: str = "/etc/ironworks/trait_based_networking.yaml"
    trait_based_networking_raise_when_no_match: bool = True
    trait_based_networking_enable_default_trait: bool = True
    # logging
    log_level: str = "INFO"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.state_dir) / 'ironworks.sqlite'}"

    @property
    def effective_auth_strategy(self) -> str:
        if self.auth_strategy:
            return self.auth_strategy
        return "noauth" if is_loopback(self.host) else "http_basic"

    @property
    def effective_conductor_name(self) -> str:
        if self.conductor_name:
            return self.conductor_name
        return f"{os.uname().nodename}-{self.port}"


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.strip().lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
