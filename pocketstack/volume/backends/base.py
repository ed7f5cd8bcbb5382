"""The volume backend contract: what the volume manager asks of a storage backend.

A backend stores volumes and snapshots named by their ids and sized in GiB.
Every method is a coroutine that must not block the event loop (tools run as
subprocesses). Creating is not idempotent (a second create of the same id
fails); deleting is (a missing volume or snapshot is not an error). A failure
raises `BackendError` with a message fit to show the user; the manager turns
it into the `error` state and a user message. `capacity()` is what the
scheduler weighs: physical total and free space, and whether the backend is
thinly provisioned (then the scheduler over-subscribes up to the ratio).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pocketstack.core.exceptions import PocketstackError

GiB = 1 << 30


class BackendError(PocketstackError):
    """A storage operation failed; the message says why."""


@dataclass(frozen=True)
class VolumeRef:
    id: str
    size: int  # GiB


@dataclass(frozen=True)
class SnapshotRef:
    id: str
    volume_id: str
    size: int  # GiB


@dataclass(frozen=True)
class ImageSource:
    """Image data on a local path, in the format the image declares."""

    path: Path
    disk_format: str  # raw, qcow2, vmdk, vdi, vhd, vhdx...


@dataclass(frozen=True)
class Capacity:
    total_gb: float
    free_gb: float
    thin: bool  # thin provisioning: allocated size may exceed total, up to a ratio


class Backend(Protocol):
    kind: str  # "file", "lvm", "fake"

    async def capacity(self) -> Capacity: ...

    async def create_volume(self, volume: VolumeRef) -> None:
        """An empty volume of `volume.size` GiB."""

    async def delete_volume(self, volume: VolumeRef) -> None: ...

    async def extend_volume(self, volume: VolumeRef, new_size: int) -> None: ...

    async def create_snapshot(self, snapshot: SnapshotRef, volume: VolumeRef) -> None: ...

    async def delete_snapshot(self, snapshot: SnapshotRef) -> None: ...

    async def create_volume_from_snapshot(self, volume: VolumeRef,
                                          snapshot: SnapshotRef) -> None:
        """A new volume holding the snapshot's data, grown to `volume.size`."""

    async def clone_volume(self, volume: VolumeRef, source: VolumeRef) -> None:
        """A new volume holding `source`'s data, grown to `volume.size`."""

    async def copy_image_to_volume(self, volume: VolumeRef, image: ImageSource) -> None:
        """A new volume holding the image's disk, converted, grown to `volume.size`."""

    async def copy_volume_to_image(self, volume: VolumeRef, dest: Path,
                                   disk_format: str) -> None:
        """Write the volume's data to `dest` in `disk_format` (raw or qcow2)."""

    async def revert_to_snapshot(self, volume: VolumeRef, snapshot: SnapshotRef) -> None: ...

    def connection_info(self, volume: VolumeRef, connector: dict[str, Any]) -> dict[str, Any]:
        """What a hypervisor driver needs to attach the volume on `connector`'s host:
        `{"driver_volume_type": ..., "data": {...}}` (see volume/client.py)."""
        ...
