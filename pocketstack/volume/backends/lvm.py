"""The LVM backend: one logical volume per volume in a volume group named in
the configuration; thick provisioning. Snapshots are LVM snapshots; clones
and images are copied with `qemu-img convert` onto the new logical volume.

`activation=False` runs LVM with `global/activation=0` (metadata only, no
device-mapper): logical volumes are created, grown and removed but have no
block device, so nothing that moves data works. It exists for machines
whose kernel lacks device-mapper, such as the test machine.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from pocketstack.volume.backends import qemu_img
from pocketstack.volume.backends.base import (
    BackendError,
    Capacity,
    GiB,
    ImageSource,
    SnapshotRef,
    VolumeRef,
)


class LVMBackend:
    kind = "lvm"

    def __init__(self, volume_group: str, *, activation: bool = True):
        self.vg = volume_group
        self.activation = activation

    def lv_name(self, volume_id: str) -> str:
        return f"volume-{volume_id}"

    def snap_name(self, snapshot_id: str) -> str:
        return f"_snapshot-{snapshot_id}"  # LVM reserves names starting "snapshot"

    def device_path(self, volume_id: str) -> Path:
        return Path("/dev") / self.vg / self.lv_name(volume_id)

    async def _lvm(self, command: str, *args: str) -> str:
        argv = [command]
        if not self.activation:
            argv += ["--config", "global{activation=0}"]
        env = dict(os.environ, LVM_SUPPRESS_FD_WARNINGS="1")
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                stdin=asyncio.subprocess.DEVNULL, env=env)
        except FileNotFoundError:
            raise BackendError(f"{command} is not installed (Debian: lvm2)") from None
        out, err = await proc.communicate()
        if proc.returncode != 0:
            lines = [ln.strip() for ln in err.decode(errors="replace").splitlines()
                     if ln.strip() and "WARNING" not in ln]
            raise BackendError(f"{command} failed: {' '.join(lines) or proc.returncode}")
        return out.decode()

    async def capacity(self) -> Capacity:
        out = await self._lvm("vgs", "--noheadings", "--units", "b", "--nosuffix",
                              "-o", "vg_size,vg_free", self.vg)
        total, free = (int(x) for x in out.split())
        return Capacity(total_gb=total / GiB, free_gb=free / GiB, thin=False)

    async def _exists(self, name: str) -> bool:
        out = await self._lvm("lvs", "--noheadings", "-o", "lv_name", self.vg)
        return name in out.split()

    async def _lvcreate(self, name: str, size_gb: int, *extra: str) -> None:
        flags = [] if self.activation else ["-an"] if "-s" in extra else ["-an", "-Zn"]
        await self._lvm("lvcreate", "-q", *flags, "-n", name, "-L", f"{size_gb}g", *extra)

    async def create_volume(self, volume: VolumeRef) -> None:
        await self._lvcreate(self.lv_name(volume.id), volume.size, self.vg)

    async def delete_volume(self, volume: VolumeRef) -> None:
        if await self._exists(self.lv_name(volume.id)):
            await self._lvm("lvremove", "-f", f"{self.vg}/{self.lv_name(volume.id)}")

    async def extend_volume(self, volume: VolumeRef, new_size: int) -> None:
        await self._lvm("lvextend", "-L", f"{new_size}g", f"{self.vg}/{self.lv_name(volume.id)}")

    async def create_snapshot(self, snapshot: SnapshotRef, volume: VolumeRef) -> None:
        await self._lvcreate(self.snap_name(snapshot.id), snapshot.size, "-s",
                             f"{self.vg}/{self.lv_name(volume.id)}")

    async def delete_snapshot(self, snapshot: SnapshotRef) -> None:
        if await self._exists(self.snap_name(snapshot.id)):
            await self._lvm("lvremove", "-f", f"{self.vg}/{self.snap_name(snapshot.id)}")

    async def _copy_onto_new(self, volume: VolumeRef, src: Path, src_fmt: str) -> None:
        if not self.activation:
            raise BackendError("LVM activation is disabled: logical volumes have no "
                               "block device to copy data to")
        await self.create_volume(volume)
        try:
            await qemu_img.convert(src, src_fmt, self.device_path(volume.id), "raw")
        except BackendError:
            await self.delete_volume(volume)
            raise

    async def create_volume_from_snapshot(self, volume: VolumeRef,
                                          snapshot: SnapshotRef) -> None:
        await self._copy_onto_new(volume, Path("/dev") / self.vg / self.snap_name(snapshot.id),
                                  "raw")

    async def clone_volume(self, volume: VolumeRef, source: VolumeRef) -> None:
        await self._copy_onto_new(volume, self.device_path(source.id), "raw")

    async def copy_image_to_volume(self, volume: VolumeRef, image: ImageSource) -> None:
        info = await qemu_img.check_safe(image.path, image.disk_format)
        if int(info.get("virtual-size", 0)) > volume.size * GiB:
            raise BackendError(f"Image virtual size doesn't fit in a volume of size "
                               f"{volume.size}GB.")
        await self._copy_onto_new(volume, image.path, image.disk_format)

    async def copy_volume_to_image(self, volume: VolumeRef, dest: Path,
                                   disk_format: str) -> None:
        if not self.activation:
            raise BackendError("LVM activation is disabled: no block device to read")
        await qemu_img.convert(self.device_path(volume.id), "raw", dest, disk_format)

    async def revert_to_snapshot(self, volume: VolumeRef, snapshot: SnapshotRef) -> None:
        raise BackendError("the LVM backend does not revert to snapshots")

    def connection_info(self, volume: VolumeRef, connector: dict[str, Any]) -> dict[str, Any]:
        return {
            "driver_volume_type": "local",
            "data": {
                "device_path": str(self.device_path(volume.id)),
                "format": "raw",
                "volume_id": volume.id,
                "access_mode": "rw",
            },
        }
