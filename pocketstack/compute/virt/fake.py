"""The fake driver: guests are records in memory, every operation is instant.

One FakeDriver is one host; a process can run many. Failures are injected
through the constructor: `FakeDriver("fake-2", fail_spawn_on={"fake-2"})`
fails every spawn on that host, `hang_spawn_on` makes spawns never return
(a compute agent dying mid-build, as the conductor sees it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from pocketstack.compute.virt.driver import (
    Disk,
    DriverError,
    GuestNotFound,
    GuestSpec,
    HostResources,
    Nic,
    PowerState,
)


@dataclass
class FakeGuest:
    spec: GuestSpec
    state: PowerState = PowerState.RUNNING
    console: list[str] = field(default_factory=list)
    disks: dict[str, Disk] = field(default_factory=dict)
    nics: dict[str, Nic] = field(default_factory=dict)

    def log(self, line: str) -> None:
        self.console.append(f"[{time.monotonic():12.6f}] {line}")


class FakeDriver:
    snapshot_format = "raw"  # what snapshot() streams

    def __init__(self, host: str, *, vcpus: int = 16, memory_mb: int = 32768,
                 disk_gb: int = 1000, fail_spawn_on: set[str] | frozenset[str] = frozenset(),
                 hang_spawn_on: set[str] | frozenset[str] = frozenset(),
                 spawn_delay: float = 0.0):
        self.host = host
        self._resources = HostResources(vcpus, memory_mb, disk_gb, "fake", 1000)
        self.fail_spawn = host in fail_spawn_on
        self.hang_spawn = host in hang_spawn_on
        self.spawn_delay = spawn_delay
        self.guests: dict[str, FakeGuest] = {}

    def _guest(self, instance_id: str) -> FakeGuest:
        guest = self.guests.get(instance_id)
        if guest is None:
            raise GuestNotFound(f"No guest {instance_id} on {self.host}.")
        return guest

    async def resources(self) -> HostResources:
        return self._resources

    async def list_guests(self) -> dict[str, PowerState]:
        return {iid: g.state for iid, g in self.guests.items()}

    async def spawn(self, spec: GuestSpec) -> None:
        if self.hang_spawn:
            await asyncio.Event().wait()
        if self.spawn_delay:
            await asyncio.sleep(self.spawn_delay)
        if self.fail_spawn:
            raise DriverError(f"Fake spawn failure injected on host {self.host}.")
        guest = FakeGuest(spec, disks={d.volume_id: d for d in spec.disks},
                          nics={n.port_id: n for n in spec.nics})
        guest.log(f"fake BIOS: booting {spec.name} ({spec.vcpus} vCPU, {spec.memory_mb} MB)")
        for nic in spec.nics:
            guest.log(f"eth: {nic.mac} got {', '.join(nic.ips) or 'no address'}")
        guest.log(f"login: {spec.hostname} is up")
        self.guests[spec.instance_id] = guest

    async def destroy(self, instance_id: str) -> None:
        self.guests.pop(instance_id, None)

    async def reboot(self, instance_id: str, hard: bool) -> None:
        guest = self._guest(instance_id)
        guest.log(f"{'hard' if hard else 'soft'} reboot")
        guest.state = PowerState.RUNNING

    async def power_off(self, instance_id: str) -> None:
        guest = self.guests.get(instance_id)
        if guest is not None:
            guest.log("power off")
            guest.state = PowerState.SHUTDOWN

    async def power_on(self, instance_id: str) -> None:
        guest = self._guest(instance_id)
        guest.log("power on")
        guest.state = PowerState.RUNNING

    async def power_state(self, instance_id: str) -> PowerState:
        guest = self.guests.get(instance_id)
        return guest.state if guest else PowerState.NOSTATE

    async def console_output(self, instance_id: str) -> str:
        return "\n".join(self._guest(instance_id).console) + "\n"

    async def pause(self, instance_id: str) -> None:
        self._guest(instance_id).state = PowerState.PAUSED

    async def unpause(self, instance_id: str) -> None:
        self._guest(instance_id).state = PowerState.RUNNING

    async def suspend(self, instance_id: str) -> None:
        self._guest(instance_id).state = PowerState.SUSPENDED

    async def resume(self, instance_id: str) -> None:
        self._guest(instance_id).state = PowerState.RUNNING

    async def attach_volume(self, instance_id: str, disk: Disk) -> None:
        guest = self._guest(instance_id)
        guest.disks[disk.volume_id] = disk
        guest.log(f"virtio-blk: {disk.device} attached")

    async def detach_volume(self, instance_id: str, volume_id: str) -> None:
        self._guest(instance_id).disks.pop(volume_id, None)

    async def attach_interface(self, instance_id: str, nic: Nic) -> None:
        self._guest(instance_id).nics[nic.port_id] = nic

    async def detach_interface(self, instance_id: str, port_id: str) -> None:
        self._guest(instance_id).nics.pop(port_id, None)

    async def snapshot(self, instance_id: str,
                       upload: Callable[[AsyncIterator[bytes]], Awaitable[None]]) -> None:
        self._guest(instance_id)

        async def data() -> AsyncIterator[bytes]:
            yield b"fake root disk\n"

        await upload(data())


def from_config(cfg, host: str) -> FakeDriver:  # noqa: ANN001 - a Config
    c = cfg.compute
    return FakeDriver(host, vcpus=c.fake_vcpus, memory_mb=c.fake_memory_mb,
                      disk_gb=c.fake_disk_gb, fail_spawn_on=set(c.fake_fail_spawn_on),
                      hang_spawn_on=set(c.fake_hang_spawn_on))
