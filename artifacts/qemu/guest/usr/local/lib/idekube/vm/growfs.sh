#!/bin/sh
# idekube-growfs: grow the root file system to the size of its disk at boot. idekube's Debian disks
# hold ext4 on the whole disk (no partition table), and the VM-in-container image enlarges the disk to
# IDEKUBE_VM_DISK_SIZE. A root on a partition (cloud images) is left to cloud-init's growpart.
set -eu
src=$(findmnt -n -o SOURCE /)
fstype=$(findmnt -n -o FSTYPE /)
case $fstype in
    ext2 | ext3 | ext4) ;;
    *) echo "idekube-growfs: root is $fstype; nothing to do"; exit 0 ;;
esac
case $src in
    /dev/vd[a-z] | /dev/sd[a-z] | /dev/xvd[a-z]) resize2fs "$src" ;;
    *) echo "idekube-growfs: root $src is not a whole disk; nothing to do" ;;
esac
