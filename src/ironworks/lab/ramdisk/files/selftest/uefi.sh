#!/bin/sh
# Self-test: booted through UEFI, the EFI variables are reachable (efivarfs mounted, efibootmgr reads them).
set -eu
[ -d /sys/firmware/efi ] || { echo "uefi: not booted through UEFI"; exit 1; }
grep -q " /sys/firmware/efi/efivars efivarfs " /proc/mounts
efibootmgr | head -3
