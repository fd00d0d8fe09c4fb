"""Finding the kernel, initrd and command line a deployed image would boot, from its mounted filesystem.

Pure file reading (no mounts, no tools), so it is tested against plain directory trees. ``find_boot_entry(root)``
looks, in this order, for:

1. Boot Loader Specification entries (``loader/entries/*.conf``, ``boot/loader/entries/*.conf``): the newest
   entry by version-sorted file name; ``linux``, ``initrd`` (repeatable), ``options``;
2. extlinux/syslinux (``extlinux.conf``, ``syslinux.cfg`` under ``/``, ``boot/extlinux``, ``boot/syslinux``,
   ``extlinux``, ``syslinux``): the ``DEFAULT`` label (else the first); ``KERNEL``/``LINUX``, ``INITRD`` (or
   ``initrd=`` in ``APPEND``), ``APPEND``; relative paths are relative to the configuration file's directory;
3. grub (``boot/grub/grub.cfg``, ``grub/grub.cfg``, ``boot/grub2/grub.cfg``, ``grub2/grub.cfg``): the
   ``set default`` entry (index, title or id; else the first), nested submenus flattened in order; ``linux``
   and ``initrd`` lines, ``$var`` replaced by top-level ``set`` values and dropped when unknown; a grub.cfg with
   no menu entries but top-level ``linux`` lines counts as one entry;
4. the Debian symlinks ``/vmlinuz`` + ``/initrd.img`` (or under ``/boot``), else the newest ``boot/vmlinuz-*``
   with its ``initrd.img-*``: command line from ``etc/kernel/cmdline`` or ``root=UUID=<fs uuid> ro`` plus the
   caller's console arguments.

Every path is resolved *inside* ``root`` (symlinks included, absolute targets re-rooted there); an entry whose
kernel or initrd is missing is skipped, and the search goes on.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re
import shlex

MAX_LINKS = 40
LOADER_DIRS = ("loader/entries", "boot/loader/entries")
EXTLINUX_FILES = (
    "boot/extlinux/extlinux.conf",
    "extlinux/extlinux.conf",
    "boot/syslinux/syslinux.cfg",
    "syslinux/syslinux.cfg",
    "extlinux.conf",
    "syslinux.cfg",
    "boot/syslinux/extlinux.conf",
)
GRUB_FILES = ("boot/grub/grub.cfg", "grub/grub.cfg", "boot/grub2/grub.cfg", "grub2/grub.cfg")
_GRUB_DEVICE = re.compile(r"^\([^)]*\)")
_GRUB_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)")


@dataclasses.dataclass(frozen=True)
class BootEntry:
    """What to kexec: paths inside the filesystem (absolute, from its root) and the kernel command line."""

    source: str
    kernel: str
    initrds: tuple[str, ...]
    cmdline: str
    config: str | None = None


def resolve_inside(root: str, path: str) -> str | None:
    """The host path of regular file ``path`` of the filesystem mounted at ``root``, symlinks followed without
    ever leaving ``root``; None when missing (or a loop, or not a regular file)."""
    root = os.path.realpath(root)
    parts = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = os.path.join(root, *done, part)
        if os.path.islink(candidate):
            hops += 1
            if hops > MAX_LINKS:
                return None
            target = os.readlink(candidate)
            if target.startswith("/"):
                done = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        done.append(part)
    final = os.path.join(root, *done)
    return final if os.path.isfile(final) and not os.path.islink(final) else None


def _version_key(name: str) -> list[tuple[int, int | str]]:
    return [(0, int(tok)) if tok.isdigit() else (1, tok) for tok in re.split(r"(\d+)", name) if tok]


def _usable(root: str, entry: BootEntry | None) -> BootEntry | None:
    if entry is None or resolve_inside(root, entry.kernel) is None:
        return None
    if any(resolve_inside(root, i) is None for i in entry.initrds):
        return None
    return entry


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read()


# --- Boot Loader Specification ------------------------------------------------------------------------------------
def parse_loader_entry(text: str, config: str | None = None) -> BootEntry | None:
    kernel, initrds, options = None, [], []
    for line in text.splitlines():
        words = line.strip().split(None, 1)
        if len(words) < 2 or words[0].startswith("#"):
            continue
        key, value = words[0], words[1].strip()
        if key == "linux":
            kernel = value
        elif key == "initrd":
            initrds.append(value)
        elif key == "options":
            options.append(value)
    if not kernel:
        return None
    return BootEntry(
        "loader-entries",
        "/" + kernel.lstrip("/"),
        tuple("/" + i.lstrip("/") for i in initrds),
        " ".join(options),
        config,
    )


def _loader_entries(root: str) -> BootEntry | None:
    for rel in LOADER_DIRS:
        names = sorted(
            glob.glob(os.path.join(root, rel, "*.conf")), key=lambda p: _version_key(os.path.basename(p)), reverse=True
        )
        for path in names:
            entry = parse_loader_entry(_read(path), "/" + os.path.relpath(path, root))
            for prefix in ("", "/boot"):  # entries on a separate /boot name paths from its root
                if entry is None:
                    break
                found = _usable(
                    root,
                    dataclasses.replace(
                        entry, kernel=prefix + entry.kernel, initrds=tuple(prefix + i for i in entry.initrds)
                    ),
                )
                if found:
                    return found
    return None


# --- extlinux / syslinux ------------------------------------------------------------------------------------------
def parse_extlinux(text: str, config: str) -> BootEntry | None:
    """The default (else first) label of an extlinux.conf at path ``config`` (inside the filesystem)."""
    default: str | None = None
    labels: list[dict[str, str]] = []
    for raw in text.splitlines():
        words = raw.strip().split(None, 1)
        if not words or words[0].startswith("#"):
            continue
        key, value = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
        if key == "default":
            default = value
        elif key == "label":
            labels.append({"label": value})
        elif labels and key in ("kernel", "linux", "initrd", "append"):
            labels[-1]["kernel" if key == "linux" else key] = value
    chosen = next((lab for lab in labels if lab["label"] == default), labels[0] if labels else None)
    if chosen is None or not chosen.get("kernel"):
        return None
    base = os.path.dirname(config)

    def inside(path: str) -> str:
        return path if path.startswith("/") else os.path.normpath(os.path.join(base, path))

    args = chosen.get("append", "").split()
    initrds = [i for i in chosen.get("initrd", "").split(",") if i]
    for arg in [a for a in args if a.startswith("initrd=")]:
        args.remove(arg)
        if not initrds:
            initrds = [i for i in arg[len("initrd=") :].split(",") if i]
    return BootEntry("extlinux", inside(chosen["kernel"]), tuple(inside(i) for i in initrds), " ".join(args), config)


def _extlinux(root: str) -> BootEntry | None:
    for rel in EXTLINUX_FILES:
        path = resolve_inside(root, rel)
        if path is not None:
            found = _usable(root, parse_extlinux(_read(path), "/" + rel))
            if found:
                return found
    return None


# --- grub ---------------------------------------------------------------------------------------------------------
def _grub_words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return line.split()


def _grub_path(word: str) -> str:
    return "/" + _GRUB_DEVICE.sub("", word).lstrip("/")


def parse_grub(text: str, config: str | None = None) -> BootEntry | None:
    """The default entry of a grub.cfg (see the module docstring)."""
    variables: dict[str, str] = {}
    entries: list[dict[str, object]] = []
    top: dict[str, object] = {"title": "", "id": ""}
    current: dict[str, object] | None = None
    blocks: list[str] = []  # open braces: menuentry, submenu, function
    for raw in text.splitlines():
        words = _grub_words(raw.strip())
        if not words:
            continue
        head = words[0]
        if head in ("menuentry", "submenu", "function") and words[-1] == "{":
            blocks.append(head)
            if head == "menuentry":
                ident = words[words.index("$menuentry_id_option") + 1] if "$menuentry_id_option" in words else ""
                current = {"title": words[1] if len(words) > 1 else "", "id": ident}
                entries.append(current)
            continue
        if head == "}":
            if blocks and blocks.pop() == "menuentry":
                current = None
            continue
        if "function" in blocks:
            continue
        target = current if current is not None else top
        if head == "set" and len(words) > 1 and "=" in words[1] and not blocks:
            key, _, value = words[1].partition("=")
            variables[key] = value
        elif head in ("linux", "linuxefi", "linux16") and len(words) > 1:
            target["linux"] = words[1:]
        elif head in ("initrd", "initrdefi", "initrd16") and len(words) > 1:
            target["initrd"] = words[1:]
    if not entries and "linux" in top:
        entries = [top]
    if not entries:
        return None
    default = variables.get("default", "0").split(">")[0]
    chosen = (
        entries[int(default)]
        if default.isdigit() and int(default) < len(entries)
        else next((e for e in entries if default in (e["title"], e["id"])), entries[0])
    )
    linux = chosen.get("linux")
    if not isinstance(linux, list):
        return None

    def expand(word: str) -> str:
        return _GRUB_VAR.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), word)

    args = [a for a in (expand(w) for w in linux[1:]) if a]
    initrd = chosen.get("initrd")
    initrds = tuple(_grub_path(expand(w)) for w in initrd) if isinstance(initrd, list) else ()
    return BootEntry("grub", _grub_path(expand(linux[0])), initrds, " ".join(args), config)


def _grub(root: str) -> BootEntry | None:
    for rel in GRUB_FILES:
        path = resolve_inside(root, rel)
        if path is None:
            continue
        entry = parse_grub(_read(path), "/" + rel)
        for prefix in ("", "/boot"):
            if entry is None:
                break
            found = _usable(
                root,
                dataclasses.replace(
                    entry, kernel=prefix + entry.kernel, initrds=tuple(prefix + i for i in entry.initrds)
                ),
            )
            if found:
                return found
    return None


# --- plain kernel files -------------------------------------------------------------------------------------------
def _plain(root: str, fs_uuid: str | None, console: str) -> BootEntry | None:
    pairs = [("/vmlinuz", "/initrd.img"), ("/boot/vmlinuz", "/boot/initrd.img")]
    kernels = sorted(glob.glob(os.path.join(root, "boot", "vmlinuz-*")), key=lambda p: _version_key(p), reverse=True)
    pairs += [
        ("/boot/" + os.path.basename(k), "/boot/initrd.img-" + os.path.basename(k)[len("vmlinuz-") :]) for k in kernels
    ]
    cmdline_file = resolve_inside(root, "etc/kernel/cmdline")
    if cmdline_file is not None:
        cmdline = " ".join(_read(cmdline_file).split())
    elif fs_uuid:
        cmdline = f"root=UUID={fs_uuid} ro"
    else:
        return None
    if console and "console=" not in cmdline:
        cmdline = f"{cmdline} {console}"
    for kernel, initrd in pairs:
        if resolve_inside(root, kernel) is None:
            continue
        initrds = (initrd,) if resolve_inside(root, initrd) is not None else ()
        return BootEntry("kernel-files", kernel, initrds, cmdline)
    return None


def find_boot_entry(root: str, *, fs_uuid: str | None = None, console: str = "") -> BootEntry | None:
    """The entry the image at ``root`` would boot, or None (see the module docstring for the order)."""
    return _loader_entries(root) or _extlinux(root) or _grub(root) or _plain(root, fs_uuid, console)


def console_args(cmdline: str) -> str:
    """The ``console=`` arguments of a kernel command line (the ramdisk's, to keep the serial console)."""
    return " ".join(w for w in cmdline.split() if w.startswith("console="))
