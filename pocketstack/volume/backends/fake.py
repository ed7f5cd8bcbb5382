"""An in-memory backend for tests: it keeps sizes, not data.

Failure options instead of subclasses: `FakeBackend(fail={"create_volume":
"disk on fire"})` makes that operation raise BackendError with that reason;
`delay` seconds are awaited in every operation (to watch transitional states).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pocketstack.volume.backends.base import (
    BackendError,
    Capacity,
    ImageSource,
    SnapshotRef,
    VolumeRef,
)


class FakeBackend:
    kind = "fake"

    def __init__(self, total_gb: float = 1000.0, *, thin: bool = False,
                 fail: dict[str, str] | None = None, delay: float = 0.0):
        self.total_gb = total_gb
        self.thin = thin
        self.fail = dict(fail or {})
        self.delay = delay
        self.volumes: dict[str, int] = {}
        self.snapshots: dict[str, int] = {}
        self.calls: list[str] = []

    async def _op(self, name: str) -> None:
        self.calls.append(name)
        if self.delay:
            await asyncio.sleep(self.delay)
        if name in self.fail:
            raise BackendError(self.fail[name])

    async def capacity(self) -> Capacity:
        used = sum(self.volumes.values()) + sum(self.snapshots.values())
        free = self.total_gb if self.thin else max(0.0, self.total_gb - used)
        return Capacity(total_gb=self.total_gb, free_gb=free, thin=self.thin)

    async def create_volume(self, volume: VolumeRef) -> None:
        await self._op("create_volume")
        self._add(volume)

    async def delete_volume(self, volume: VolumeRef) -> None:
        await self._op("delete_volume")
        self.volumes.pop(volume.id, None)

    async def extend_volume(self, volume: VolumeRef, new_size: int) -> None:
        await self._op("extend_volume")
        self._need(self.volumes, volume.id)
        self.volumes[volume.id] = new_size

    async def create_snapshot(self, snapshot: SnapshotRef, volume: VolumeRef) -> None:
        await self._op("create_snapshot")
        self.snapshots[snapshot.id] = self._need(self.volumes, volume.id)

    async def delete_snapshot(self, snapshot: SnapshotRef) -> None:
        await self._op("delete_snapshot")
        self.snapshots.pop(snapshot.id, None)

    async def create_volume_from_snapshot(self, volume: VolumeRef,
                                          snapshot: SnapshotRef) -> None:
        await self._op("create_volume_from_snapshot")
        self._need(self.snapshots, snapshot.id)
        self._add(volume)

    async def clone_volume(self, volume: VolumeRef, source: VolumeRef) -> None:
        await self._op("clone_volume")
        self._need(self.volumes, source.id)
        self._add(volume)

    async def copy_image_to_volume(self, volume: VolumeRef, image: ImageSource) -> None:
        await self._op("copy_image_to_volume")
        if not image.path.exists():
            raise BackendError(f"image data {image.path} is missing")
        self._add(volume)

    async def copy_volume_to_image(self, volume: VolumeRef, dest: Path,
                                   disk_format: str) -> None:
        await self._op("copy_volume_to_image")
        self._need(self.volumes, volume.id)
        await asyncio.to_thread(dest.write_bytes, b"\0" * 512)

    async def revert_to_snapshot(self, volume: VolumeRef, snapshot: SnapshotRef) -> None:
        await self._op("revert_to_snapshot")
        self._need(self.snapshots, snapshot.id)

    def connection_info(self, volume: VolumeRef, connector: dict[str, Any]) -> dict[str, Any]:
        return {"driver_volume_type": "fake",
                "data": {"volume_id": volume.id, "access_mode": "rw"}}

    def _add(self, volume: VolumeRef) -> None:
        if volume.id in self.volumes:
            raise BackendError(f"volume {volume.id} already exists")
        self.volumes[volume.id] = volume.size

    @staticmethod
    def _need(store: dict[str, int], key: str) -> int:
        if key not in store:
            raise BackendError(f"{key} is missing from the fake backend")
        return store[key]
