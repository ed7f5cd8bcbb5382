"""The test VM's boot disk: an MBR disk with one FAT partition booted by syslinux.

Built without root or loop devices: the FAT filesystem is made in its own file
(mkfs.fat, mtools, `syslinux --install`), then placed at 1 MiB in the disk
image whose partition table sfdisk writes and whose boot code is syslinux's
mbr.bin; qemu-img compresses the result to qcow2.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pocketstack.testimage.debian import SYSLINUX_MBR

DISK_MIB = 64
PART_START_SECTOR = 2048
CMDLINE = "console=ttyS0 quiet"

SYSLINUX_CFG = f"""DEFAULT testvm
PROMPT 0
TIMEOUT 0
LABEL testvm
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND {CMDLINE}
"""


def _run(*argv: str | Path) -> None:
    subprocess.run([str(a) for a in argv], check=True, capture_output=True)


def fat_partition(path: Path, size_bytes: int, kernel: Path, initrd: Path) -> None:
    _run("mkfs.fat", "-C", "-n", "TESTVM", "-h", str(PART_START_SECTOR), path,
         str(size_bytes // 1024))
    cfg = path.with_name("syslinux.cfg")
    cfg.write_text(SYSLINUX_CFG)
    _run("mcopy", "-i", path, kernel, "::vmlinuz")
    _run("mcopy", "-i", path, initrd, "::initrd.img")
    _run("mcopy", "-i", path, cfg, "::syslinux.cfg")
    _run("syslinux", "--install", path)
    cfg.unlink()


def raw_disk(path: Path, kernel: Path, initrd: Path) -> None:
    """A bootable raw disk image at path."""
    size = DISK_MIB * 1024 * 1024
    start = PART_START_SECTOR * 512
    part = path.with_suffix(".part")
    fat_partition(part, size - start, kernel, initrd)
    with open(path, "wb") as f:
        f.truncate(size)
    subprocess.run(["sfdisk", "--no-reread", "--no-tell-kernel", "-q", str(path)],
                   input=f"label: dos\nstart={PART_START_SECTOR}, type=c, bootable\n",
                   text=True, check=True, capture_output=True)
    with open(path, "r+b") as disk, open(part, "rb") as fat:
        disk.write(SYSLINUX_MBR.read_bytes()[:440])
        disk.seek(start)
        while chunk := fat.read(1 << 20):
            disk.write(chunk)
    part.unlink()


def to_qcow2(raw: Path, qcow2: Path) -> None:
    _run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-c", raw, qcow2)
