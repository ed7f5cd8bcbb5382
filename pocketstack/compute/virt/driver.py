"""The hypervisor driver contract (step 28 of the launch).

A driver runs the guests of one compute host. Every method is a coroutine
and must not block the event loop (a driver that calls blocking libraries
runs them in threads). Methods name a guest by its instance id; `destroy`,
`power_off` and `power_on` are idempotent (no error when already so), the
others raise `GuestNotFound` for an unknown guest and `DriverError` with a
message a user can read when the hypervisor refuses. Required abilities are
in `Driver`; optional ones are separate protocols, tested with isinstance().
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol, runtime_checkable

from pocketstack.core import exceptions as exc


class PowerState(IntEnum):
    """Nova's power states, as the API reports them (OS-EXT-STS:power_state)."""

    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7


class DriverError(exc.PocketstackError):
    """The hypervisor refused; the message says why (it becomes the instance fault)."""


class GuestNotFound(exc.NotFound):
    pass


@dataclass
class Nic:
    port_id: str
    mac: str
    network_id: str
    ips: list[str]
    mtu: int = 1500
    details: dict[str, Any] = field(default_factory=dict)  # binding:vif_details


@dataclass
class Disk:
    volume_id: str
    device: str  # "/dev/vdb"
    connection: dict[str, Any] = field(default_factory=dict)  # the volume's connection_info
    boot: bool = False


# An image's metadata and a function streaming its data (with the user's token).
ImageSource = tuple[dict[str, Any], Callable[[], AsyncIterator[bytes]]]


@dataclass
class GuestSpec:
    """Everything a driver needs to build one guest."""

    instance_id: str
    name: str
    hostname: str
    vcpus: int
    memory_mb: int
    root_gb: int
    image: dict[str, Any]  # the image's metadata (id, disk_format, properties ...)
    # Streams the image's data; None when booting from a volume.
    image_data: Callable[[], AsyncIterator[bytes]] | None = None
    nics: list[Nic] = field(default_factory=list)
    disks: list[Disk] = field(default_factory=list)
    user_data: str | None = None  # base64, as the API took it
    key_data: str | None = None
    key_name: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    config_drive: bool = False
    availability_zone: str = "nova"
    launch_index: int = 0
    # The rest of the flavor and the owner (the libvirt driver's disks and Nova metadata).
    ephemeral_gb: int = 0
    swap_mb: int = 0
    flavor_name: str = ""
    user_id: str = ""
    project_id: str = ""
    # Another image by id (the kernel_id / ramdisk_id an image names).
    image_by_id: Callable[[str], Awaitable[ImageSource]] | None = None


@dataclass
class HostResources:
    """What the host offers, for placement and the scheduler."""

    vcpus: int
    memory_mb: int
    disk_gb: int
    hypervisor_type: str
    hypervisor_version: int = 1
    cpu_arch: str = "x86_64"
    host_ip: str = "127.0.0.1"


class Driver(Protocol):
    host: str

    async def resources(self) -> HostResources: ...

    async def list_guests(self) -> dict[str, PowerState]:
        """Every guest of this host, by instance id."""
        ...

    async def spawn(self, spec: GuestSpec) -> None:
        """Build the guest and start it; on error nothing of it is left behind."""
        ...

    async def destroy(self, instance_id: str) -> None: ...

    async def reboot(self, instance_id: str, hard: bool) -> None: ...

    async def power_off(self, instance_id: str) -> None: ...

    async def power_on(self, instance_id: str) -> None: ...

    async def power_state(self, instance_id: str) -> PowerState: ...

    async def console_output(self, instance_id: str) -> str: ...


@runtime_checkable
class CanPause(Protocol):
    async def pause(self, instance_id: str) -> None: ...

    async def unpause(self, instance_id: str) -> None: ...


@runtime_checkable
class CanSuspend(Protocol):
    async def suspend(self, instance_id: str) -> None: ...

    async def resume(self, instance_id: str) -> None: ...


@runtime_checkable
class CanAttachVolume(Protocol):
    async def attach_volume(self, instance_id: str, disk: Disk) -> None: ...

    async def detach_volume(self, instance_id: str, volume_id: str) -> None: ...


@runtime_checkable
class CanAttachInterface(Protocol):
    async def attach_interface(self, instance_id: str, nic: Nic) -> None: ...

    async def detach_interface(self, instance_id: str, port_id: str) -> None: ...


@runtime_checkable
class CanSnapshot(Protocol):
    snapshot_format: str  # the disk_format of what snapshot() streams ("qcow2", "raw")

    async def snapshot(self, instance_id: str,
                       upload: Callable[[AsyncIterator[bytes]], Awaitable[None]]) -> None:
        """Stream the guest's root disk to `upload`."""
        ...
