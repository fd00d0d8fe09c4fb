"""The Redfish boundary: sushy in, typed results and ``errors.BMC*`` out.

One ``sushy.Sushy`` root per (BMC, credentials) is kept by :class:`SushyPool` (a Redfish session is a login;
doing it per call would cost a round trip and a session slot on the BMC). Every operation goes through the
per-BMC limiter and the retry policy. :func:`translate` maps sushy's exception classes and HTTP status codes —
never the BMC's message text — to Ironworks errors; a stale root is dropped after an authentication or
connection failure so the next attempt logs in again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import sushy
from sushy import auth as sushy_auth
from sushy import exceptions as sushy_exc

from ironworks import errors
from ironworks.drivers.bmc.policy import BMCLimiter, BMCPolicy, with_retries
from ironworks.drivers.redfish.info import RedfishAccess

T = TypeVar("T")

BOOT_TARGETS = {"pxe": sushy.BOOT_SOURCE_TARGET_PXE, "disk": sushy.BOOT_SOURCE_TARGET_HDD,
                "cdrom": sushy.BOOT_SOURCE_TARGET_CD, "bios": sushy.BOOT_SOURCE_TARGET_BIOS_SETUP}
_TARGET_NAMES = {target: name for name, target in BOOT_TARGETS.items()}
BOOT_MODES = {"bios": sushy.BOOT_SOURCE_MODE_BIOS, "uefi": sushy.BOOT_SOURCE_MODE_UEFI}
RESETS = {"on": sushy.RESET_ON, "off": sushy.RESET_FORCE_OFF, "soft": sushy.RESET_GRACEFUL_SHUTDOWN,
          "restart": sushy.RESET_FORCE_RESTART, "soft-restart": sushy.RESET_GRACEFUL_RESTART,
          "nmi": sushy.RESET_NMI}
_POWER = {sushy.SYSTEM_POWER_STATE_ON: "on", sushy.SYSTEM_POWER_STATE_OFF: "off",
          sushy.SYSTEM_POWER_STATE_POWERING_ON: "powering on",
          sushy.SYSTEM_POWER_STATE_POWERING_OFF: "powering off"}


def translate(exc: BaseException, access: RedfishAccess, what: str) -> errors.BMCError:
    bmc = access.bmc
    if isinstance(exc, errors.BMCError):
        return exc
    if isinstance(exc, sushy_exc.AccessError):
        return errors.BMCAuthError(bmc=bmc, user=access.username or "",
                                   reason=f"HTTP {exc.status_code} while trying to {what}")
    if isinstance(exc, sushy_exc.ServerSideError):
        return errors.BMCProtocolError(bmc=bmc, reason=f"HTTP {exc.status_code} (server error) while trying "
                                       f"to {what}")
    if isinstance(exc, sushy_exc.HTTPError):
        code = f" ({exc.code})" if exc.code and exc.code != "Base.1.0.GeneralError" else ""
        return errors.BMCCommandError(bmc=bmc, command=f"the request to {what}",
                                      reason=f"HTTP {exc.status_code}{code}")
    if isinstance(exc, ValueError):  # an unparsable body (requests' JSONDecodeError is also an OSError)
        return errors.BMCProtocolError(bmc=bmc, reason=f"{what}: the answer is not valid JSON")
    if isinstance(exc, sushy_exc.ConnectionError | OSError):
        return errors.BMCConnectionError(bmc=bmc, reason=f"cannot connect to the Redfish service to {what}")
    if isinstance(exc, sushy_exc.InvalidParameterValueError):
        return errors.BMCCommandError(bmc=bmc, command=f"the request to {what}",
                                      reason="the BMC does not offer this value")
    if isinstance(exc, sushy_exc.SushyError):
        return errors.BMCProtocolError(bmc=bmc, reason=f"{what}: {type(exc).__name__}")
    return errors.BMCProtocolError(bmc=bmc, reason=f"{what}: malformed reply ({type(exc).__name__})")


class SushyPool:
    """Logged-in sushy roots, one per access (address + credentials + TLS and auth options)."""

    def __init__(self, policy: BMCPolicy) -> None:
        self.policy = policy
        self._lock = threading.Lock()
        self._roots: dict[RedfishAccess, sushy.Sushy] = {}

    def root(self, access: RedfishAccess) -> sushy.Sushy:
        with self._lock:
            root = self._roots.get(access)
        if root is not None:
            return root
        if access.auth_type == "basic":
            auth: sushy_auth.AuthBase = sushy_auth.BasicAuth(access.username, access.password)
        elif access.auth_type == "session":
            auth = sushy_auth.SessionAuth(access.username, access.password)
        else:
            auth = sushy_auth.SessionOrBasicAuth(access.username, access.password)
        # sushy's own retries off (1 attempt; 0 would mean its default of 3): with_retries owns the policy
        root = sushy.Sushy(access.address, verify=access.verify_ca, auth=auth, server_side_retries=1,
                           server_side_retries_delay=max(0.1, self.policy.backoff),
                           read_timeout=self.policy.request_timeout,
                           connect_timeout=min(5.0, self.policy.request_timeout))
        with self._lock:
            return self._roots.setdefault(access, root)

    def forget(self, access: RedfishAccess) -> None:
        with self._lock:
            self._roots.pop(access, None)


class RedfishClient:
    """Operations on one ComputerSystem."""

    def __init__(self, access: RedfishAccess, policy: BMCPolicy, limiter: BMCLimiter, pool: SushyPool) -> None:
        self.access = access
        self.policy = policy
        self.limiter = limiter
        self.pool = pool

    def _system(self) -> Any:
        root = self.pool.root(self.access)
        if self.access.system_id:
            return root.get_system(self.access.system_id)
        members = root.get_system_collection().members_identities
        if len(members) != 1:
            raise errors.BMCCommandError(bmc=self.access.bmc, command="the request to find the system",
                                         reason=f"it manages {len(members)} systems; set redfish_system_id")
        return root.get_system(next(iter(members)))

    def _call(self, what: str, operation: Callable[[Any], T]) -> T:
        def once() -> T:
            with self.limiter.slot(self.access.bmc):
                try:
                    return operation(self._system())
                except Exception as exc:  # noqa: BLE001 - the one translation boundary for sushy
                    error = translate(exc, self.access, what)
                    if isinstance(error, errors.BMCAuthError | errors.BMCConnectionError):
                        self.pool.forget(self.access)
                    if error is exc:
                        raise
                    raise error from exc

        return with_retries(once, self.policy)

    # --- power ------------------------------------------------------------------------------------------------
    def power_state(self) -> str:
        """``on``, ``off``, ``powering on``, ``powering off`` or ``unknown``."""
        return self._call("read the power state", lambda system: _POWER.get(system.power_state, "unknown"))

    def reset(self, kind: str) -> None:
        """``kind`` one of :data:`RESETS` (on, off, soft, restart, soft-restart, nmi)."""
        self._call(f"reset the system ({RESETS[kind].value})", lambda system: system.reset_system(RESETS[kind]))

    # --- boot -------------------------------------------------------------------------------------------------
    def boot(self) -> dict[str, Any]:
        def read(system: Any) -> dict[str, Any]:
            boot = system.boot
            enabled = getattr(boot, "enabled", None)
            target = _TARGET_NAMES.get(getattr(boot, "target", None)) \
                if enabled in (sushy.BOOT_SOURCE_ENABLED_ONCE, sushy.BOOT_SOURCE_ENABLED_CONTINUOUS) else None
            mode = getattr(boot, "mode", None)
            return {"boot_device": target, "persistent": enabled == sushy.BOOT_SOURCE_ENABLED_CONTINUOUS,
                    "boot_mode": "uefi" if mode == sushy.BOOT_SOURCE_MODE_UEFI
                    else "bios" if mode == sushy.BOOT_SOURCE_MODE_BIOS else None}

        return self._call("read the boot settings", read)

    def set_boot(self, device: str, persistent: bool, mode: str | None) -> None:
        enabled = sushy.BOOT_SOURCE_ENABLED_CONTINUOUS if persistent else sushy.BOOT_SOURCE_ENABLED_ONCE
        self._call(f"set the boot device to {device}", lambda system: system.set_system_boot_options(
            target=BOOT_TARGETS[device], enabled=enabled, mode=BOOT_MODES[mode] if mode else None))

    def set_boot_mode(self, mode: str) -> None:
        self._call(f"set the boot mode to {mode}",
                   lambda system: system.set_system_boot_options(mode=BOOT_MODES[mode]))

    # --- secure boot and health (API 1.76, 1.109) ---------------------------------------------------------------
    def secure_boot(self) -> bool | None:
        """The system's ``SecureBoot.SecureBootEnable``; :data:`NO_SECURE_BOOT` when the system has no SecureBoot
        resource (Ironic then answers that the driver does not support secure boot)."""

        def read(system: Any) -> Any:
            try:
                resource = system.secure_boot
            except sushy_exc.MissingAttributeError:
                return NO_SECURE_BOOT
            return resource.enabled

        result: Any = self._call("read the secure boot state", read)
        return result  # type: ignore[no-any-return]

    def set_secure_boot(self, enabled: bool) -> str | None:
        """PATCH ``SecureBootEnable``. Returns :data:`NO_SECURE_BOOT` without a SecureBoot resource, ``"bios"``
        when the system boots in legacy BIOS mode (secure boot needs UEFI, as Ironic checks), else None."""

        def write(system: Any) -> str | None:
            try:
                resource = system.secure_boot
            except sushy_exc.MissingAttributeError:
                return NO_SECURE_BOOT
            if resource.enabled == enabled:
                return None
            if getattr(system.boot, "mode", None) == sushy.BOOT_SOURCE_MODE_BIOS:
                return "bios"
            resource.set_enabled(enabled)
            return None

        return self._call(f"set secure boot {'on' if enabled else 'off'}", write)

    def health(self) -> str | None:
        """The system's ``Status.Health`` as Ironic's health value (``OK`` / ``Warning`` / ``Critical``), or None."""

        def read(system: Any) -> str | None:
            status = getattr(system, "status", None)
            return _HEALTH.get(getattr(status, "health", None)) if status is not None else None

        return self._call("read the system health", read)

    def supported_boot_devices(self) -> list[str]:
        def read(system: Any) -> list[str]:
            allowed = system.get_allowed_system_boot_source_values()
            return [name for name, target in BOOT_TARGETS.items() if target in allowed]

        return self._call("read the allowed boot sources", read)

    # --- virtual media (the ``redfish`` vendor interface's ``eject_vmedia``) -----------------------------------
    def eject_virtual_media(self, media_type: str | None) -> list[str]:
        """Eject every inserted virtual medium of the system's managers (of ``media_type`` only, when given, e.g.
        ``CD``); the ejected devices' ids. A type no device has is an InvalidParameterValue, as Ironic's."""

        def eject(system: Any) -> list[str] | None:
            ejected: list[str] = []
            known = False
            for manager in system.managers:
                for medium in manager.virtual_media.get_members():
                    types = {str(getattr(t, "value", t)) for t in medium.media_types}
                    if media_type is not None and media_type not in types:
                        continue
                    known = True
                    if medium.inserted:
                        medium.eject_media()
                        ejected.append(str(medium.identity))
            return None if media_type is not None and not known else ejected

        result = self._call(f"eject virtual media ({media_type or 'all'})", eject)
        if result is None:  # raised here: inside ``_call`` it would be taken for a BMC failure
            raise errors.InvalidParameterValue(f"Boot device {media_type} is not a valid value ")
        return result

    # --- BIOS -------------------------------------------------------------------------------------------------
    def bios_settings(self) -> dict[str, dict[str, Any]]:
        """Current BIOS attributes, each with the registry fields when the BMC publishes an attribute registry."""

        def read(system: Any) -> dict[str, dict[str, Any]]:
            bios = system.bios  # sushy raises MissingAttributeError when the system has no Bios resource
            settings: dict[str, dict[str, Any]] = {name: {"value": value} for name, value in bios.attributes.items()}
            registry = bios.get_attribute_registry()
            entries = getattr(getattr(registry, "registry_entries", None), "attributes", None) or []
            for entry in entries:
                if entry.name not in settings:
                    continue
                allowable = entry.allowable_values
                settings[entry.name].update(
                    attribute_type=entry.attribute_type, lower_bound=entry.lower_bound,
                    upper_bound=entry.upper_bound, min_length=entry.min_length, max_length=entry.max_length,
                    read_only=entry.read_only, reset_required=entry.reset_required, unique=entry.unique,
                    allowable_values=[v.get("ValueName") for v in allowable if isinstance(v, dict)]
                    if isinstance(allowable, list) else None)
                if entry.attribute_type == "Password":  # never cached nor served, whatever the BMC answers
                    settings[entry.name]["value"] = None
            return settings

        return self._call("read the BIOS settings", read)

    def set_bios(self, attributes: dict[str, Any]) -> None:
        self._call("apply BIOS settings", lambda system: system.bios.set_attributes(attributes))

    def reset_bios(self) -> None:
        self._call("reset the BIOS to factory defaults", lambda system: system.bios.reset_bios())

    # --- indicator LEDs (API 1.63): the system's and its chassis' ``IndicatorLED`` ------------------------------
    def _led_owner(self, system: Any, component: str, ident: str) -> Any:
        if component == "system" and ident == system.identity and system.indicator_led is not None:
            return system
        if component == "chassis":
            for chassis in system.chassis:
                if chassis.identity == ident and chassis.indicator_led is not None:
                    return chassis
        raise errors.BMCCommandError(bmc=self.access.bmc, command=f"the request to find indicator {ident}@{component}",
                                     reason="the BMC no longer reports it")

    def _check_offered(self, component: str, ident: str) -> None:
        if ident not in self.indicators().get(component, []):
            raise errors.InvalidParameterValue(f"Indicator {ident}@{component} is not offered by the BMC.")

    def indicators(self) -> dict[str, list[str]]:
        """``{"system": [id], "chassis": [ids]}`` of the resources whose ``IndicatorLED`` the BMC reports."""

        def read(system: Any) -> dict[str, list[str]]:
            found: dict[str, list[str]] = {}
            if system.indicator_led is not None:
                found["system"] = [system.identity]
            chassis = [c.identity for c in system.chassis if c.indicator_led is not None]
            if chassis:
                found["chassis"] = chassis
            return found

        return self._call("read the indicator LEDs", read)

    def indicator(self, component: str, ident: str) -> str:
        """``ON`` / ``OFF`` / ``BLINKING`` / ``UNKNOWN``."""
        self._check_offered(component, ident)

        def read(system: Any) -> str:
            led = self._led_owner(system, component, ident).indicator_led
            return _LED_STATES.get(led, "UNKNOWN")

        return self._call(f"read the {component} indicator LED", read)

    def set_indicator(self, component: str, ident: str, state: str) -> None:
        led = {name: value for value, name in _LED_STATES.items()}[state]
        self._check_offered(component, ident)
        self._call(f"set the {component} indicator LED",
                   lambda system: self._led_owner(system, component, ident).set_indicator_led(led))


#: what ``secure_boot`` / ``set_secure_boot`` answer for a system without a SecureBoot resource
NO_SECURE_BOOT = "no-secure-boot"
_HEALTH = {sushy.HEALTH_OK: "OK", sushy.HEALTH_WARNING: "Warning", sushy.HEALTH_CRITICAL: "Critical"}
_LED_STATES = {sushy.IndicatorLED.LIT: "ON", sushy.IndicatorLED.OFF: "OFF", sushy.IndicatorLED.BLINKING: "BLINKING"}
