"""An instance's disks: qcow2 overlays on the image cache, ephemeral and swap
disks (formatted once per size in `_base`, then overlaid), and volumes from
their connection info."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from pocketstack.compute.virt.driver import DriverError
from pocketstack.compute.virt.libvirt import qemu_img
from pocketstack.compute.virt.libvirt.domain import DiskConfig

GiB = 1024 ** 3


async def root_disk(path: Path, base: Path, base_fmt: str, root_gb: int) -> None:
    """A qcow2 overlay on base, grown to root_gb (0: the image's own size)."""
    virtual = (await qemu_img.info(base, base_fmt))["virtual-size"]
    if root_gb and root_gb * GiB < virtual:
        raise DriverError(f"The flavor's disk ({root_gb} GB) is smaller than the image "
                          f"({-(-virtual // GiB)} GB).")
    await qemu_img.create_overlay(path, base, base_fmt)
    if root_gb and root_gb * GiB > virtual:
        await qemu_img.resize(path, "qcow2", root_gb * GiB)


async def _mk(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode:
        raise DriverError(f"{argv[0]} failed: {err.decode().strip()}")


async def _formatted_base(base_dir: Path, name: str, size: int, mkfs: list[str]) -> Path:
    base = base_dir / name
    if not base.exists():
        await asyncio.to_thread(base_dir.mkdir, parents=True, exist_ok=True)
        tmp = base.with_suffix(".part")
        await qemu_img.create(tmp, "raw", size)
        await _mk(*mkfs, str(tmp))
        os.replace(tmp, base)
    return base


async def ephemeral_disk(path: Path, base_dir: Path, size_gb: int) -> None:
    base = await _formatted_base(base_dir, f"ephemeral_{size_gb}_ext4", size_gb * GiB,
                                 ["mkfs.ext4", "-q", "-F", "-L", "ephemeral0"])
    await qemu_img.create_overlay(path, base, "raw")


async def swap_disk(path: Path, base_dir: Path, size_mb: int) -> None:
    base = await _formatted_base(base_dir, f"swap_{size_mb}", size_mb * 1024 * 1024,
                                 ["mkswap"])
    await qemu_img.create_overlay(path, base, "raw")


def volume_disk(target: str, connection: dict[str, Any], volume_id: str,
                cache: str) -> DiskConfig:
    """The disk of a volume from its connection info (file or local block device)."""
    kind = connection.get("driver_volume_type")
    data = connection.get("data") or {}
    readonly = data.get("access_mode") == "ro"
    if kind == "file" and data.get("path"):
        fmt = data.get("format") or "raw"
        if fmt not in qemu_img.FORMATS:
            raise DriverError(f"Volume {volume_id} has format {fmt}.")
        return DiskConfig(data["path"], target, fmt=fmt, readonly=readonly, cache=cache,
                          serial=volume_id)
    if kind == "local" and data.get("device_path"):
        return DiskConfig(data["device_path"], target, fmt="raw", block=True,
                          readonly=readonly, cache=cache, serial=volume_id)
    raise DriverError(f"Volume {volume_id}: this host cannot attach {kind!r} volumes.")


def cache_mode(directory: Path) -> str:
    """'none' (O_DIRECT, as Nova prefers) where the filesystem allows it, else 'writeback'."""
    probe = directory / ".direct-io-probe"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_WRONLY | getattr(os, "O_DIRECT", 0))
        os.close(fd)
        return "none"
    except OSError:
        return "writeback"
    finally:
        probe.unlink(missing_ok=True)


def target_of(device: str) -> str:
    """'/dev/vdb' -> 'vdb'."""
    name = device.removeprefix("/dev/")
    if not name or "/" in name:
        raise DriverError(f"Invalid device name {device!r}.")
    return name
