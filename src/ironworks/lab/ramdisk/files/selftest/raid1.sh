#!/bin/sh
# Self-test: a RAID-1 across the first two virtio disks, with a filesystem on it, then stopped (the member
# superblocks stay, so the host can check both disk images). Destroys the data on /dev/vda and /dev/vdb.
set -eu
[ -b /dev/vda ] && [ -b /dev/vdb ] || { echo "raid1: needs /dev/vda and /dev/vdb"; exit 1; }
mdadm --create /dev/md/selftest --run --level=1 --raid-devices=2 --metadata=1.2 --assume-clean \
    /dev/vda /dev/vdb
mdadm --detail /dev/md/selftest | grep -E "Raid Level|State :|Active Devices"
mdadm --detail /dev/md/selftest | grep -q "Active Devices : 2"
mkfs.ext4 -q -F -L selftest /dev/md/selftest
mkdir -p /mnt/selftest
mount /dev/md/selftest /mnt/selftest
echo ironworks >/mnt/selftest/proof
umount /mnt/selftest
mdadm --stop /dev/md/selftest
