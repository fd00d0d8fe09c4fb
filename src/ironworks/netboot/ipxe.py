"""Per-node iPXE scripts rendered from the templates in ``templates/`` (``{{name}}`` placeholders).

* :func:`render_boot_script` — the one script DHCP hands every iPXE client; chains to ``<nodes_url>/<mac>.ipxe``
  (``${netX/mac:hexhyp}``: the interface iPXE booted from, so multi-NIC machines work) with a few retries.
* :func:`render_deploy` — the deploy/clean/inspect/rescue ramdisk: kernel + initrd with retries for ever and
  back-off, a clear ``IRONWORKS-BOOT-ERROR:`` message each time, ``initrd=ramdisk`` on the command line (the
  EFI stub needs it; BIOS ignores it, so one script serves both firmware kinds).
* :func:`render_local_disk` — ``sanboot --no-describe --drive 0x80`` under BIOS, ``exit 1`` under UEFI (the
  script picks by ``${platform}``; a *failed* boot option makes OVMF try the next one, the disk, while a
  successful ``exit 0`` makes it stop in its boot menu).
* :func:`render_iscsi` — ``sanhook``/``sanboot`` of ``iscsi:IP:proto:port:LUN:IQN`` URIs with CHAP.

Escaping: iPXE has no quoting; whitespace splits arguments and ``${`` starts an expansion. URLs are
percent-encoded where needed, kernel parameters and other values are checked against a safe character set
(:class:`~ironworks.errors.InvalidParameterValue` otherwise), and CHAP secrets are written as ``:hex`` settings
so any byte is safe.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import urllib.parse
from importlib import resources

from ironworks import errors
from ironworks.netboot.dnsmasq import normalise_mac

_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")
_SAFE_PARAM = re.compile(r"^[A-Za-z0-9_.,:/=+@%\-\[\]]+$")
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:/@+\- ]{1,120}$")
_IQN = re.compile(r"^(iqn\.\d{4}-\d{2}\.[A-Za-z0-9.\-]+(:[A-Za-z0-9.:_\-]+)?|eui\.[0-9A-Fa-f]{16})$")
_URL_SAFE = "/:@!*'()[]~+=,;&?%"


def _invalid(message: str) -> errors.InvalidParameterValue:
    return errors.InvalidParameterValue(err=message)


def template(name: str) -> str:
    return resources.files("ironworks.netboot").joinpath("templates", name).read_text()


def render_template(name: str, values: dict[str, str]) -> str:
    """Fill ``{{key}}`` placeholders; every placeholder must have a value and every value a placeholder."""
    text = template(name)
    wanted = set(_PLACEHOLDER.findall(text))
    if wanted != set(values):
        raise KeyError(f"template {name}: placeholders {sorted(wanted)} but values for {sorted(values)}")
    out = _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
    return "\n".join(line for line in out.splitlines() if line.strip() != "") + "\n"


def ipxe_url(url: str) -> str:
    """A URL safe on an iPXE command line: http(s) only, no whitespace, ``$`` percent-encoded."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _invalid(f"boot URL {url!r} must be an absolute http:// or https:// URL")
    quoted = urllib.parse.quote(url, safe=_URL_SAFE)
    if any(c.isspace() for c in quoted) or "$" in quoted:
        raise _invalid(f"boot URL {url!r} cannot be used in an iPXE script")
    return quoted


def kernel_param(param: str) -> str:
    """A kernel parameter, checked: no whitespace, quotes, ``$`` or ``#``."""
    if not _SAFE_PARAM.match(param):
        raise _invalid(f"kernel parameter {param!r} has characters iPXE cannot pass on safely")
    return param


def _text(value: str, what: str) -> str:
    if not _SAFE_TEXT.match(value):
        raise _invalid(f"{what} {value!r} has characters that cannot appear in an iPXE script")
    return value


def _backoff_cap(first: int, maximum: int) -> int:
    """The largest ``first * 2**k`` not above ``maximum`` (the script doubles with ``inc`` until it is reached)."""
    if first < 1 or maximum < first:
        raise _invalid("retry delays must satisfy 1 <= first_delay <= max_delay")
    cap = first
    while cap * 2 <= maximum:
        cap *= 2
    return cap


def render_boot_script(nodes_url: str, *, attempts: int = 3, delay: int = 2) -> str:
    """``boot.ipxe``: chain to ``<nodes_url>/<mac-hexhyp>.ipxe``."""
    if attempts < 1 or delay < 0:
        raise _invalid("attempts must be >= 1 and delay >= 0")
    values = {"nodes_url": ipxe_url(nodes_url.rstrip("/")), "attempts": str(attempts), "delay": str(delay)}
    return render_template("boot.ipxe", values)


@dataclasses.dataclass(frozen=True)
class DeployRamdisk:
    """What a node needs to boot the deploy ramdisk."""

    kernel_url: str
    initrd_url: str
    api_url: str  # ironworks.api_url= for the agent
    mac: str | None = None  # BOOTIF; None: the MAC iPXE booted from (${netX/mac})
    node: str = ""  # shown in the script's comment (uuid or name)
    extra_params: tuple[str, ...] = ()
    console: str = "ttyS0"  # console=<value>; empty: none
    first_delay: int = 2
    max_delay: int = 60


def render_deploy(spec: DeployRamdisk) -> str:
    bootif = normalise_mac(spec.mac) if spec.mac else "${netX/mac}"
    params = []
    if spec.console:
        params.append(kernel_param(f"console={spec.console}"))
    params.append(f"ironworks.api_url={ipxe_url(spec.api_url)}")
    params.append(f"BOOTIF={bootif}")
    params += [kernel_param(p) for p in spec.extra_params]
    values = {
        "what": _text(f"node {spec.node}" if spec.node else "a node", "node"),
        "kernel_url": ipxe_url(spec.kernel_url),
        "initrd_url": ipxe_url(spec.initrd_url),
        "params": " ".join(params),
        "first_delay": str(spec.first_delay),
        "max_delay": str(_backoff_cap(spec.first_delay, spec.max_delay)),
    }
    return render_template("deploy.ipxe", values)


def render_local_disk(node: str = "") -> str:
    return render_template("local.ipxe", {"what": _text(f"node {node}" if node else "a node", "node")})


@dataclasses.dataclass(frozen=True)
class IscsiVolume:
    """One iSCSI LUN: ``iscsi:<portal>:<protocol>:<port>:<lun>:<iqn>``."""

    portal: str  # IPv4/IPv6 address or host name of the target
    iqn: str
    lun: int = 1  # tgt: LUN 0 is the controller
    port: int = 3260

    def uri(self) -> str:
        host = self.portal
        try:
            address = ipaddress.ip_address(host)
            host = f"[{address}]" if address.version == 6 else str(address)
        except ValueError:
            if not re.match(r"^[A-Za-z0-9.\-]{1,253}$", host):
                raise _invalid(f"iSCSI portal {self.portal!r} is not an address or host name") from None
        if not _IQN.match(self.iqn):
            raise _invalid(f"iSCSI target name {self.iqn!r} is not a valid IQN/EUI")
        if not 0 <= self.lun < 16384 or not 0 < self.port < 65536:
            raise _invalid("iSCSI LUN or port out of range")
        port = "" if self.port == 3260 else str(self.port)
        return f"iscsi:{host}::{port}:{self.lun}:{self.iqn}"


@dataclasses.dataclass(frozen=True)
class Chap:
    username: str
    password: str = dataclasses.field(repr=False)
    # mutual CHAP: the target's credentials
    reverse_username: str | None = None
    reverse_password: str | None = dataclasses.field(default=None, repr=False)


def _hex(value: str) -> str:
    data = value.encode()
    if not data:
        raise _invalid("CHAP credentials must not be empty")
    return ":".join(f"{b:02x}" for b in data)


def render_iscsi(boot: IscsiVolume, *, chap: Chap | None = None, extra: tuple[IscsiVolume, ...] = (),
                 initiator_iqn: str | None = None, node: str = "") -> str:
    lines = []
    if initiator_iqn:
        if not _IQN.match(initiator_iqn):
            raise _invalid(f"initiator name {initiator_iqn!r} is not a valid IQN")
        lines.append(f"set initiator-iqn {initiator_iqn}")
    if chap is not None:
        lines += [f"set username:hex {_hex(chap.username)}", f"set password:hex {_hex(chap.password)}"]
        if chap.reverse_username and chap.reverse_password:
            lines += [
                f"set reverse-username:hex {_hex(chap.reverse_username)}",
                f"set reverse-password:hex {_hex(chap.reverse_password)}",
            ]
    if len(extra) > 0x7F:
        raise _invalid("too many iSCSI volumes")
    hooks = [f"sanhook --drive {0x81 + i:#x} {vol.uri()} || goto failed" for i, vol in enumerate(extra)]
    values = {
        "what": _text(f"node {node}" if node else "a node", "node"),
        "credentials": "\n".join(lines),
        "boot_uri": boot.uri(),
        "hooks": "\n".join(hooks),
    }
    return render_template("iscsi.ipxe", values)
