"""Pure rendering: dnsmasq configuration and host files, iPXE scripts, boot file layout. No processes."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from ironworks import errors
from ironworks.netboot import ipxe
from ironworks.netboot.dnsmasq import (
    DhcpNetwork,
    DnsmasqConfig,
    HostEntry,
    is_tombstone,
    mac_hexhyp,
    normalise_mac,
    render_config,
    tombstone,
)
from ironworks.netboot.files import BootFiles


def _net(name: str = "prov", interface: str = "br0", prefix: str = "10.213.0", **kw: object) -> DhcpNetwork:
    values: dict[str, object] = {
        "name": name,
        "interface": interface,
        "address": ipaddress.IPv4Interface(f"{prefix}.1/24"),
        "range_start": ipaddress.IPv4Address(f"{prefix}.100"),
        "range_end": ipaddress.IPv4Address(f"{prefix}.199"),
        "http_url": f"http://{prefix}.1:8080",
        "ipv6_prefix": ipaddress.IPv6Network("fd5e:1b0a:77::/64"),
    }
    values.update(kw)
    return DhcpNetwork(**values)  # type: ignore[arg-type]


def _config(*networks: DhcpNetwork, **kw: object) -> DnsmasqConfig:
    return DnsmasqConfig(networks=networks or (_net(),), state_dir=Path("/srv/iw/dnsmasq"),
                         tftp_root=Path("/srv/iw/tftp"), **kw)  # type: ignore[arg-type]


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_config_for_one_network() -> None:
    lines = _lines(render_config(_config()))
    for expected in [
        "port=0",
        "interface=br0",
        "bind-interfaces",
        "dhcp-hostsdir=/srv/iw/dnsmasq/hosts",
        "dhcp-leasefile=/srv/iw/dnsmasq/dnsmasq.leases",
        "pid-file=/srv/iw/dnsmasq/dnsmasq.pid",
        "dhcp-ignore=tag:!iwknown",
        "dhcp-userclass=set:ipxe,iPXE",
        "dhcp-match=set:efi64,option:client-arch,7",
        "dhcp-match=set:efi64,option:client-arch,9",
        "dhcp-range=set:iwnet-prov,10.213.0.100,10.213.0.199,255.255.255.0,600s",
        "dhcp-boot=tag:iwnet-prov,tag:ipxe,http://10.213.0.1:8080/boot.ipxe",
        "dhcp-boot=tag:iwnet-prov,tag:!ipxe,tag:efi64,snponly.efi",
        "dhcp-boot=tag:iwnet-prov,tag:!ipxe,tag:!efi64,undionly.kpxe",
        "enable-ra",
        "dhcp-range=set:iwnet-prov,fd5e:1b0a:77::,ra-only,64,600s",
        "ra-param=br0,30,0",
        "enable-tftp",
        "tftp-root=/srv/iw/tftp",
        "dhcp-option=tag:iwnet-prov,option:router",
        "dhcp-option=tag:iwnet-prov,option:dns-server",
    ]:
        assert expected in lines, expected
    assert "no-ping" not in lines  # the safe default


def test_config_options() -> None:
    lines = _lines(render_config(_config(_net(ipv6_prefix=None, router=ipaddress.IPv4Address("10.213.0.254")),
                                         uefi_loader="ipxe.efi", ping_check=False, log_dhcp=False)))
    assert "no-ping" in lines and "log-dhcp" not in lines
    assert "dhcp-boot=tag:iwnet-prov,tag:!ipxe,tag:efi64,ipxe.efi" in lines
    assert "dhcp-option=tag:iwnet-prov,option:router,10.213.0.254" in lines
    assert "enable-ra" not in lines and not any("ra-only" in line for line in lines)


def test_config_for_several_networks_keeps_them_apart() -> None:
    text = render_config(_config(_net(), _net("v100", "trunk.100", "10.213.100", ipv6_prefix=None)))
    lines = _lines(text)
    assert "interface=br0" in lines and "interface=trunk.100" in lines
    assert "dhcp-boot=tag:iwnet-v100,tag:ipxe,http://10.213.100.1:8080/boot.ipxe" in lines
    assert "dhcp-range=set:iwnet-v100,10.213.100.100,10.213.100.199,255.255.255.0,600s" in lines
    assert sum(line.startswith("dhcp-boot=tag:iwnet-v100,") for line in lines) == 3
    assert not any(line.startswith("ra-param=trunk.100") for line in lines)


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "Bad Name"},
        {"interface": "br0;rm"},
        {"interface": "a-very-long-interface"},
        {"range_start": ipaddress.IPv4Address("10.9.9.9")},
        {"range_end": ipaddress.IPv4Address("10.213.0.50")},
        {"router": ipaddress.IPv4Address("192.0.2.1")},
        {"http_url": "http://10.213.0.1:8080/a b"},
        {"http_url": "ftp://10.213.0.1/"},
        {"lease_seconds": 5},
        {"ipv6_prefix": ipaddress.IPv6Network("fd00::/48")},
    ],
)
def test_bad_network_values_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        render_config(_config(_net(**bad)))


def test_duplicate_networks_and_bad_loader_names_are_refused() -> None:
    with pytest.raises(errors.InvalidParameterValue):
        render_config(_config(_net(), _net(interface="br1")))
    with pytest.raises(errors.InvalidParameterValue):
        render_config(_config(_net(), _net(name="other")))
    with pytest.raises(errors.InvalidParameterValue):
        render_config(_config(uefi_loader="../etc/shadow"))
    with pytest.raises(errors.InvalidParameterValue):
        render_config(DnsmasqConfig(networks=(), state_dir=Path("/x"), tftp_root=Path("/y")))


def test_host_files() -> None:
    assert HostEntry("52-54-00-AA-00-01").render() == "52:54:00:aa:00:01,set:iwknown\n"
    line = HostEntry("52:54:00:aa:00:01", ipaddress.IPv4Address("10.213.0.50"), "node-1", ("deploy",)).render()
    assert line == "52:54:00:aa:00:01,set:iwknown,set:deploy,10.213.0.50,node-1\n"
    assert tombstone("52:54:00:AA:00:01") == "52:54:00:aa:00:01,ignore\n"
    assert is_tombstone(tombstone("52:54:00:aa:00:01")) and not is_tombstone(line)
    assert mac_hexhyp("52:54:00:AA:00:01") == "52-54-00-aa-00-01"
    for bad in ("52:54:00:aa:00", "52:54:00:aa:00:zz", "52:54:00:aa:00:01,ignore", ""):
        with pytest.raises(errors.InvalidMAC):
            normalise_mac(bad)
    with pytest.raises(errors.InvalidParameterValue):
        HostEntry("52:54:00:aa:00:01", hostname="bad_name!").render()
    with pytest.raises(errors.InvalidParameterValue):
        HostEntry("52:54:00:aa:00:01", tags=("a,b",)).render()


def _deploy(**kw: object) -> str:
    values: dict[str, object] = {
        "kernel_url": "http://10.213.0.1:8080/shared/vmlinuz",
        "initrd_url": "http://10.213.0.1:8080/shared/initrd.img",
        "api_url": "http://10.213.0.1:6385",
    }
    values.update(kw)
    return ipxe.render_deploy(ipxe.DeployRamdisk(**values))  # type: ignore[arg-type]


def test_deploy_script() -> None:
    text = _deploy(node="1be26c0b-03f2-4d2d-ae87-c02d7f33c123", extra_params=("ironworks.lookup_timeout=5",))
    assert text.startswith("#!ipxe\n")
    kernel = next(line for line in text.splitlines() if line.startswith("kernel "))
    assert kernel == (
        "kernel --name kernel http://10.213.0.1:8080/shared/vmlinuz initrd=ramdisk console=ttyS0 "
        "ironworks.api_url=http://10.213.0.1:6385 BOOTIF=${netX/mac} ironworks.lookup_timeout=5 || goto failed"
    )
    assert "initrd --name ramdisk http://10.213.0.1:8080/shared/initrd.img || goto failed" in text
    assert "sleep ${iwdelay}" in text and "goto fetch" in text  # retries, never a silent exit
    assert "iseq ${iwdelay} 32 || inc iwdelay ${iwdelay}" in text  # 2 s doubling, capped at 32 (<= 60)
    assert "IRONWORKS-BOOT-ERROR: could not load the deploy ramdisk" in text
    assert "exit" not in text
    assert "{{" not in text
    known = _deploy(mac="52-54-00-AA-00-01", console="", first_delay=1, max_delay=10)
    assert "BOOTIF=52:54:00:aa:00:01" in known and "console=" not in known
    assert "iseq ${iwdelay} 8 ||" in known


@pytest.mark.parametrize(
    "bad",
    [
        {"kernel_url": "http:///no-host"},
        {"kernel_url": "/relative/vmlinuz"},
        {"initrd_url": "tftp://x/initrd"},
        {"extra_params": ("a=${evil}",)},
        {"extra_params": ("two words",)},
        {"extra_params": ('quote="x"',)},
        {"node": "node\nkernel http://evil/"},
        {"first_delay": 0},
        {"first_delay": 10, "max_delay": 5},
    ],
)
def test_deploy_values_that_could_break_the_script_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        _deploy(**bad)


def test_urls_are_percent_encoded() -> None:
    text = _deploy(kernel_url="http://10.213.0.1:8080/files/n/kernel$x y\nz")
    assert "http://10.213.0.1:8080/files/n/kernel%24x%20y%0Az" in text


def test_boot_and_local_disk_scripts() -> None:
    boot = ipxe.render_boot_script("http://10.213.0.1:8080/nodes/", attempts=4, delay=3)
    assert "imgfetch --name node http://10.213.0.1:8080/nodes/${netX/mac:hexhyp}.ipxe && goto run ||" in boot
    assert boot.rstrip().endswith(":run\nimgexec node || exit 1")  # a node script's failure goes to the firmware
    assert "iseq ${iwtry} 4 && goto give_up ||" in boot and "sleep 3" in boot
    local = ipxe.render_local_disk("node-1")
    assert "iseq ${platform} efi && goto uefi ||" in local
    assert "sanboot --no-describe --drive 0x80 || goto failed" in local
    assert local.rstrip().endswith(":uefi\nexit 1")


def test_iscsi_script_with_chap() -> None:
    boot = ipxe.IscsiVolume("10.213.0.1", "iqn.2024-01.org.ironworks:vol-1")
    data = ipxe.IscsiVolume("fd5e:1b0a:77::1", "iqn.2024-01.org.ironworks:vol-2", lun=2, port=3261)
    text = ipxe.render_iscsi(boot, chap=ipxe.Chap("user", "s3cr$t pw"), extra=(data,),
                             initiator_iqn="iqn.2024-01.org.ironworks:node-1")
    assert "set initiator-iqn iqn.2024-01.org.ironworks:node-1" in text
    assert "set username:hex 75:73:65:72" in text
    assert "set password:hex " + ":".join(f"{b:02x}" for b in b"s3cr$t pw") in text
    assert "s3cr$t" not in text  # hex only: any byte is safe, and the secret is not readable at a glance
    assert "sanhook --drive 0x80 iscsi:10.213.0.1:::1:iqn.2024-01.org.ironworks:vol-1 || goto failed" in text
    assert "sanhook --drive 0x81 iscsi:[fd5e:1b0a:77::1]::3261:2:iqn.2024-01.org.ironworks:vol-2" in text
    assert "sanboot --drive 0x80 || goto failed" in text
    assert "set username" not in ipxe.render_iscsi(boot)
    assert "secret" not in repr(ipxe.Chap("u", "secret"))
    for bad in (
        ipxe.IscsiVolume("10.0.0.1", "not-an-iqn"),
        ipxe.IscsiVolume("bad host", "iqn.2024-01.a:b"),
        ipxe.IscsiVolume("10.0.0.1", "iqn.2024-01.a:b c"),
        ipxe.IscsiVolume("10.0.0.1", "iqn.2024-01.a", lun=-1),
    ):
        with pytest.raises(errors.InvalidParameterValue):
            ipxe.render_iscsi(bad)


def test_boot_files_layout(tmp_path: Path) -> None:
    loaders = tmp_path / "ipxe"
    loaders.mkdir()
    for name in ("undionly.kpxe", "snponly.efi", "ipxe.efi"):
        (loaders / name).write_bytes(name.encode())
        (loaders / name).chmod(0o600)
    files = BootFiles(tmp_path / "http", tmp_path / "tftp", "http://10.213.0.1:8080/")
    files.prepare(loaders)
    assert (tmp_path / "tftp/snponly.efi").stat().st_mode & 0o004  # world-readable for dnsmasq's tftp-secure
    assert "http://10.213.0.1:8080/nodes/${netX/mac:hexhyp}.ipxe" in (tmp_path / "http/boot.ipxe").read_text()
    path = files.write_script("52:54:00:AA:00:01", ipxe.render_local_disk())
    assert path == tmp_path / "http/nodes/52-54-00-aa-00-01.ipxe"
    with pytest.raises(ValueError):
        files.write_script("52:54:00:aa:00:01", "echo not a script")
    big = tmp_path / "cache/initrd.img"
    big.parent.mkdir()
    big.write_bytes(b"x" * 1000)
    assert files.publish(big, "initrd.img") == "http://10.213.0.1:8080/shared/initrd.img"
    assert (tmp_path / "http/shared/initrd.img").read_bytes() == b"x" * 1000
    url = files.publish_bytes(b"config", "config-drive.iso", node="node-1")
    assert url == "http://10.213.0.1:8080/files/node-1/config-drive.iso"
    assert (tmp_path / "http/files/node-1/config-drive.iso").stat().st_mode & 0o077 == 0
    for bad in ("../x", ".hidden", "a/b", ""):
        with pytest.raises(errors.InvalidParameterValue):
            files.publish(big, bad)
    files.remove_node_files("node-1")
    files.remove_script("52:54:00:aa:00:01")
    assert not (tmp_path / "http/files/node-1").exists() and not path.exists()
    assert not [p for p in (tmp_path / "http").rglob(".*")]  # no temporary files left behind
