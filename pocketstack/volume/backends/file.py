"""The file backend (the default): one file per volume and per snapshot in a
directory, qcow2 through qemu-img, or raw sparse files where qemu-img is
absent (then only raw images can become volumes).

Snapshots and clones are full, independent copies (`qemu-img convert`
copies only allocated clusters, so they stay sparse); a volume is written to
a temporary name and renamed into place, so a failure leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import os
import uuid
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


class FileBackend:
    kind = "file"

    def __init__(self, directory: Path, fmt: str = "auto", capacity_gb: float | None = None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.qemu = qemu_img.available()
        if fmt == "auto":
            fmt = "qcow2" if self.qemu else "raw"
        if fmt not in ("qcow2", "raw"):
            raise ValueError(f"file backend format must be qcow2, raw or auto, not {fmt!r}")
        if fmt == "qcow2" and not self.qemu:
            raise ValueError("the qcow2 file backend needs qemu-img (Debian: qemu-utils)")
        self.fmt = fmt
        self.capacity_gb = capacity_gb

    def volume_path(self, volume_id: str) -> Path:
        return self.dir / f"volume-{volume_id}"

    def snapshot_path(self, snapshot_id: str) -> Path:
        return self.dir / f"snapshot-{snapshot_id}"

    # -- capacity -----------------------------------------------------------

    async def capacity(self) -> Capacity:
        return await asyncio.to_thread(self._capacity)

    def _capacity(self) -> Capacity:
        st = os.statvfs(self.dir)
        fs_total, fs_free = st.f_blocks * st.f_frsize / GiB, st.f_bavail * st.f_frsize / GiB
        if self.capacity_gb is None:
            return Capacity(total_gb=fs_total, free_gb=fs_free, thin=True)
        used = sum(p.stat().st_blocks * 512 for p in self.dir.iterdir() if p.is_file()) / GiB
        free = min(fs_free, max(0.0, self.capacity_gb - used))
        return Capacity(total_gb=self.capacity_gb, free_gb=free, thin=True)

    # -- volumes ------------------------------------------------------------

    async def create_volume(self, volume: VolumeRef) -> None:
        async with self._writing(self.volume_path(volume.id)) as tmp:
            await self._create_empty(tmp, volume.size)

    async def delete_volume(self, volume: VolumeRef) -> None:
        self.volume_path(volume.id).unlink(missing_ok=True)

    async def extend_volume(self, volume: VolumeRef, new_size: int) -> None:
        path = self._existing(self.volume_path(volume.id))
        await self._grow(path, new_size)

    async def clone_volume(self, volume: VolumeRef, source: VolumeRef) -> None:
        await self._copy_to_volume(self._existing(self.volume_path(source.id)), volume)

    async def create_volume_from_snapshot(self, volume: VolumeRef,
                                          snapshot: SnapshotRef) -> None:
        await self._copy_to_volume(self._existing(self.snapshot_path(snapshot.id)), volume)

    async def copy_image_to_volume(self, volume: VolumeRef, image: ImageSource) -> None:
        dest = self.volume_path(volume.id)
        if not self.qemu:
            if image.disk_format != "raw":
                raise BackendError(f"cannot convert a {image.disk_format} image without "
                                   "qemu-img; only raw images can become volumes here")
            if image.path.stat().st_size > volume.size * GiB:
                raise BackendError(_too_big(image.path.stat().st_size, volume.size))
            async with self._writing(dest) as tmp:
                await _sparse_copy(image.path, tmp)
                await self._grow(tmp, volume.size)
            return
        info = await qemu_img.check_safe(image.path, image.disk_format)
        virtual = int(info.get("virtual-size", 0))
        if virtual > volume.size * GiB:
            raise BackendError(_too_big(virtual, volume.size))
        async with self._writing(dest) as tmp:
            await qemu_img.convert(image.path, image.disk_format, tmp, self.fmt)
            if virtual < volume.size * GiB:  # convert keeps the image's virtual size
                await self._grow(tmp, volume.size)

    async def copy_volume_to_image(self, volume: VolumeRef, dest: Path,
                                   disk_format: str) -> None:
        src = self._existing(self.volume_path(volume.id))
        if self.qemu:
            await qemu_img.convert(src, self.fmt, dest, disk_format)
        elif disk_format == "raw":
            await _sparse_copy(src, dest)
        else:
            raise BackendError(f"cannot write a {disk_format} image without qemu-img")

    # -- snapshots ----------------------------------------------------------

    async def create_snapshot(self, snapshot: SnapshotRef, volume: VolumeRef) -> None:
        src = self._existing(self.volume_path(volume.id))
        async with self._writing(self.snapshot_path(snapshot.id)) as tmp:
            await self._copy(src, tmp)

    async def delete_snapshot(self, snapshot: SnapshotRef) -> None:
        self.snapshot_path(snapshot.id).unlink(missing_ok=True)

    async def revert_to_snapshot(self, volume: VolumeRef, snapshot: SnapshotRef) -> None:
        src = self._existing(self.snapshot_path(snapshot.id))
        async with self._writing(self.volume_path(volume.id), replace=True) as tmp:
            await self._copy(src, tmp)
            await self._grow(tmp, volume.size)

    def connection_info(self, volume: VolumeRef, connector: dict[str, Any]) -> dict[str, Any]:
        return {
            "driver_volume_type": "file",
            "data": {
                "path": str(self.volume_path(volume.id)),
                "format": self.fmt,
                "name": f"volume-{volume.id}",
                "volume_id": volume.id,
                "access_mode": "rw",
            },
        }

    # -- helpers ------------------------------------------------------------

    def _existing(self, path: Path) -> Path:
        if not path.exists():
            raise BackendError(f"{path.name} is missing from the file backend")
        return path

    async def _create_empty(self, path: Path, size_gb: int) -> None:
        if self.fmt == "qcow2":
            await qemu_img.create(path, "qcow2", size_gb * GiB)
        else:
            await asyncio.to_thread(_truncate, path, size_gb * GiB)

    async def _grow(self, path: Path, size_gb: int) -> None:
        """Make the disk `size_gb` GiB if it is smaller (never shrinks)."""
        if self.fmt == "qcow2":
            info = await qemu_img.info(path, "qcow2")
            if int(info["virtual-size"]) < size_gb * GiB:
                await qemu_img.resize(path, "qcow2", size_gb * GiB)
        else:
            await asyncio.to_thread(_grow_raw, path, size_gb * GiB)

    async def _copy(self, src: Path, dst: Path) -> None:
        if self.fmt == "qcow2":
            await qemu_img.convert(src, "qcow2", dst, "qcow2")
        else:
            await _sparse_copy(src, dst)

    async def _copy_to_volume(self, src: Path, volume: VolumeRef) -> None:
        async with self._writing(self.volume_path(volume.id)) as tmp:
            await self._copy(src, tmp)
            await self._grow(tmp, volume.size)

    def _writing(self, dest: Path, replace: bool = False) -> _Writing:
        if dest.exists() and not replace:
            raise BackendError(f"{dest.name} already exists")
        return _Writing(dest)


class _Writing:
    """`async with` a temporary path renamed to `dest` on success, removed on failure."""

    def __init__(self, dest: Path):
        self.dest = dest
        self.tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")

    async def __aenter__(self) -> Path:
        return self.tmp

    async def __aexit__(self, kind, value, tb) -> None:  # noqa: ANN001
        if kind is None:
            os.replace(self.tmp, self.dest)
        else:
            self.tmp.unlink(missing_ok=True)


def _grow_raw(path: Path, size: int) -> None:
    if path.stat().st_size < size:
        _truncate(path, size)


def _truncate(path: Path, size: int) -> None:
    with open(path, "ab") as f:
        f.truncate(size)


async def _sparse_copy(src: Path, dst: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        "cp", "--sparse=always", str(src), str(dst), stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise BackendError(f"copy failed: {err.decode(errors='replace').strip()}")


def _too_big(image_bytes: int, size_gb: int) -> str:
    return (f"Image virtual size is {-(-image_bytes // GiB)}GB and doesn't fit in a volume "
            f"of size {size_gb}GB.")
