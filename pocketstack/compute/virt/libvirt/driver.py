"""LibvirtDriver: the driver contract (compute/virt/driver.py) over libvirt.

An instance lives in INSTANCES/<id>/ (disk, disk.eph0, disk.swap,
disk.config, console.log, domain.xml) and is the persistent domain whose uuid is the
instance id; images are cached in INSTANCES/_base. Every libvirt call runs
in a thread (Host.call), every qemu-img in a subprocess.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import libvirt

from pocketstack.compute.virt import driver as contract
from pocketstack.compute.virt.driver import (
    Disk,
    DriverError,
    GuestNotFound,
    GuestSpec,
    HostResources,
    Nic,
    PowerState,
)
from pocketstack.compute.virt.libvirt import configdrive, disks, domain, qemu_img
from pocketstack.compute.virt.libvirt.host import Host, detect_virt_type, power_state
from pocketstack.compute.virt.libvirt.imagecache import ImageCache

LOG = logging.getLogger(__name__)
DEFAULT_CMDLINE = "root=/dev/vda console=tty0 console=ttyS0"
MAX_CONSOLE_BYTES = 100 * 1024  # what Nova returns at most
POLL = 0.5


def _prop(image: dict[str, Any], key: str) -> Any:
    return image.get(key) or (image.get("properties") or {}).get(key)


class LibvirtDriver:
    snapshot_format = "qcow2"  # snapshot() converts the root disk to a standalone qcow2

    def __init__(self, host: str, *, uri: str = "qemu:///system", instances_path: Path,
                 cache_dir: Path, virt_type: str = "auto", images_type: str = "qcow2",
                 shutdown_timeout: float = 60.0, detach_timeout: float = 30.0,
                 start_daemon: bool = False, config_drive_format: str = "vfat",
                 dhcp_domain: str = "novalocal"):
        self.host = host
        self.libvirt = Host(uri)
        self.instances_path = instances_path
        self.images = ImageCache(instances_path / "_base", images_type)
        self.cache_dir = cache_dir
        self.configured_virt_type = virt_type
        self.virt_type: str | None = None
        self.shutdown_timeout = shutdown_timeout
        self.detach_timeout = detach_timeout
        self.start_daemon = start_daemon
        self.config_drive_format, self.dhcp_domain = config_drive_format, dhcp_domain
        self._lease = None
        self._ready_lock = asyncio.Lock()

    # -- start-up -------------------------------------------------------------

    async def ready(self) -> None:
        """Connect (starting a libvirtd if asked and none answers) and pick virt_type."""
        async with self._ready_lock:
            if self.virt_type is not None:
                return
            if self.start_daemon and self.libvirt.uri.startswith("qemu:///system"):
                from pocketstack.compute.virt.libvirt import daemon

                self._lease = await asyncio.to_thread(daemon.ensure_running)
            self.instances_path.mkdir(parents=True, exist_ok=True)
            self.virt_type = await self.libvirt.call(
                detect_virt_type, self.libvirt, self.configured_virt_type, self.cache_dir)
            LOG.info("libvirt driver on %s: %s, virt_type %s, instances in %s",
                     self.host, self.libvirt.uri, self.virt_type, self.instances_path)

    async def close(self) -> None:
        await self.libvirt.close()
        if self._lease is not None:
            await asyncio.to_thread(self._lease.stop)
            self._lease = None

    # -- the host ---------------------------------------------------------------

    async def resources(self) -> HostResources:
        await self.ready()

        def collect() -> HostResources:
            conn = self.libvirt.conn()
            _model, memory_mb, cpus, *_ = conn.getInfo()
            disk = shutil.disk_usage(self.instances_path)
            return HostResources(
                vcpus=cpus, memory_mb=memory_mb, disk_gb=disk.total // disks.GiB,
                hypervisor_type="KVM" if self.virt_type == "kvm" else "QEMU",
                hypervisor_version=conn.getVersion())
        return await self.libvirt.call(collect)

    def _ours(self, instance_id: str) -> bool:
        return (self.instances_path / instance_id).is_dir()

    async def list_guests(self) -> dict[str, PowerState]:
        await self.ready()

        def collect() -> dict[str, PowerState]:
            found = {}
            for dom in self.libvirt.conn().listAllDomains(0):
                iid = dom.UUIDString()
                if self._ours(iid):
                    found[iid] = power_state(dom)
            return found
        return await self.libvirt.call(collect)

    async def power_state(self, instance_id: str) -> PowerState:
        await self.ready()
        try:
            return await self._on(instance_id, power_state)
        except GuestNotFound:
            return PowerState.NOSTATE

    async def _on(self, instance_id: str, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(domain, *args) in a thread, for one of our guests."""
        if not self._ours(instance_id):
            raise GuestNotFound(f"No guest {instance_id} on {self.host}.")
        return await self.libvirt.call(lambda: fn(self.libvirt.domain(instance_id), *args))

    # -- spawn and destroy ------------------------------------------------------

    async def spawn(self, spec: GuestSpec) -> None:
        await self.ready()
        idir = self.instances_path / spec.instance_id
        try:
            idir.mkdir(parents=True)
        except FileExistsError:
            raise DriverError(
                f"Instance {spec.instance_id} already exists on {self.host}.") from None
        try:
            xml = domain.to_xml(await self._domain_config(spec, idir))
            (idir / "domain.xml").write_text(xml)

            def define_and_start() -> None:
                dom = self.libvirt.conn().defineXML(xml)
                dom.create()
            await self.libvirt.call(define_and_start)
        except BaseException:
            await self._cleanup(spec.instance_id)
            raise
        LOG.info("spawned %s on %s", spec.instance_id, self.host)

    async def _domain_config(self, spec: GuestSpec, idir: Path) -> domain.DomainConfig:
        cache = disks.cache_mode(idir)
        cfg = domain.DomainConfig(
            uuid=spec.instance_id, name=domain.domain_name(spec.instance_id),
            virt_type=self.virt_type or "qemu", vcpus=spec.vcpus, memory_mb=spec.memory_mb,
            console_log=str(idir / "console.log"), metadata=self._nova_metadata(spec))
        cfg.disks = await self._disks(spec, idir, cache)
        await self._kernel(spec, cfg)
        cfg.nics = [self._nic(nic) for nic in spec.nics]
        return cfg

    async def _disks(self, spec: GuestSpec, idir: Path, cache: str) -> list[domain.DiskConfig]:
        out: list[domain.DiskConfig] = []
        letters = iter("abcdefghijklmnopqrstuvwxyz")
        boot = [d for d in spec.disks if d.boot]
        if boot:
            out.append(disks.volume_disk("vd" + next(letters), boot[0].connection,
                                         boot[0].volume_id, cache))
        elif spec.image_data is not None:
            base, fmt = await self.images.fetch(spec.image, spec.image_data)
            await disks.root_disk(idir / "disk", base, fmt, spec.root_gb)
            out.append(domain.DiskConfig(str(idir / "disk"), "vd" + next(letters), cache=cache))
        else:
            raise DriverError("Nothing to boot from: neither an image nor a boot volume.")
        if spec.ephemeral_gb:
            await disks.ephemeral_disk(idir / "disk.eph0", self.images.base_dir,
                                       spec.ephemeral_gb)
            out.append(domain.DiskConfig(str(idir / "disk.eph0"), "vd" + next(letters),
                                         cache=cache))
        if spec.swap_mb:
            await disks.swap_disk(idir / "disk.swap", self.images.base_dir, spec.swap_mb)
            out.append(domain.DiskConfig(str(idir / "disk.swap"), "vd" + next(letters),
                                         cache=cache))
        used = {d.target for d in out}
        for vol in (d for d in spec.disks if not d.boot):
            target = disks.target_of(vol.device)
            if target in used:
                target = next(t for t in ("vd" + c for c in letters) if t not in used)
            used.add(target)
            out.append(disks.volume_disk(target, vol.connection, vol.volume_id, cache))
        if spec.config_drive:
            await configdrive.make(idir / "disk.config", spec, self.config_drive_format,
                                   self.dhcp_domain)
            target = next(t for t in ("vd" + c for c in letters) if t not in used)
            out.append(domain.DiskConfig(str(idir / "disk.config"), target, fmt="raw",
                                         cache=cache))
        return out

    async def _kernel(self, spec: GuestSpec, cfg: domain.DomainConfig) -> None:
        """Direct kernel boot when the image names a kernel (and ramdisk)."""
        kernel_id, ramdisk_id = _prop(spec.image, "kernel_id"), _prop(spec.image, "ramdisk_id")
        if not kernel_id:
            return
        if spec.image_by_id is None:
            raise DriverError("The image names a kernel_id but this build cannot fetch it.")
        meta, data = await spec.image_by_id(kernel_id)
        cfg.kernel = str(await self.images.fetch_file(meta, data))
        if ramdisk_id:
            meta, data = await spec.image_by_id(ramdisk_id)
            cfg.initrd = str(await self.images.fetch_file(meta, data))
        cfg.cmdline = _prop(spec.image, "os_command_line") or DEFAULT_CMDLINE

    @staticmethod
    def _nic(nic: Nic) -> domain.NicConfig:
        bridge = nic.details.get("bridge_name") or nic.details.get("bridge")
        return domain.NicConfig(nic.mac, nic.port_id, bridge, nic.mtu or None)

    def _nova_metadata(self, spec: GuestSpec) -> domain.NovaMetadata:
        return domain.NovaMetadata(
            display_name=spec.name,
            creation_time=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            flavor_name=spec.flavor_name, memory_mb=spec.memory_mb, disk_gb=spec.root_gb,
            swap_mb=spec.swap_mb, ephemeral_gb=spec.ephemeral_gb, vcpus=spec.vcpus,
            user_id=spec.user_id, project_id=spec.project_id,
            image_id=spec.image.get("id") if spec.image_data is not None else None,
            ports={n.port_id: list(n.ips) for n in spec.nics})

    async def destroy(self, instance_id: str) -> None:
        await self.ready()
        await self._cleanup(instance_id)

    async def _cleanup(self, instance_id: str) -> None:
        def undefine() -> None:
            try:
                dom = self.libvirt.domain(instance_id)
            except libvirt.libvirtError as e:
                if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    return
                raise
            if dom.isActive():
                dom.destroy()
            flags = (libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                     | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
            dom.undefineFlags(flags)
        await self.libvirt.call(undefine)
        await asyncio.to_thread(shutil.rmtree, self.instances_path / instance_id, True)

    # -- power ------------------------------------------------------------------

    async def _wait_shutoff(self, instance_id: str, within: float) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if await self._on(instance_id, lambda d: not d.isActive()):
                return True
            await asyncio.sleep(POLL)
        return False

    async def _clean_shutdown(self, instance_id: str) -> bool:
        """ACPI shutdown; whether the guest went down within shutdown_timeout."""
        if not await self._on(instance_id, lambda d: d.isActive()):
            return True
        state = await self._on(instance_id, power_state)
        if state != PowerState.RUNNING:
            return False
        await self._on(instance_id, lambda d: d.shutdown())
        return await self._wait_shutoff(instance_id, self.shutdown_timeout)

    async def reboot(self, instance_id: str, hard: bool) -> None:
        await self.ready()
        if not hard and await self._clean_shutdown(instance_id):
            await self._on(instance_id, lambda d: d.create())
            return
        if not hard:
            LOG.info("soft reboot of %s timed out; rebooting hard", instance_id)
        await self._on(instance_id, _hard_restart)

    async def power_off(self, instance_id: str) -> None:
        await self.ready()
        if not self._ours(instance_id):
            return
        if not await self._clean_shutdown(instance_id):
            await self._on(instance_id, lambda d: d.isActive() and d.destroy())

    async def power_on(self, instance_id: str) -> None:
        await self.ready()
        if not self._ours(instance_id):
            raise GuestNotFound(f"No guest {instance_id} on {self.host}.")
        await self._on(instance_id, _start)

    async def pause(self, instance_id: str) -> None:
        await self.ready()
        await self._on(instance_id, lambda d: d.suspend())

    async def unpause(self, instance_id: str) -> None:
        await self.ready()
        await self._on(instance_id, lambda d: d.resume())

    async def suspend(self, instance_id: str) -> None:
        """Managed save: memory to disk, the domain shut off (SUSPENDED)."""
        await self.ready()
        await self._on(instance_id, lambda d: d.managedSave(0))

    async def resume(self, instance_id: str) -> None:
        await self.ready()
        await self._on(instance_id, _start)

    async def console_output(self, instance_id: str) -> str:
        await self.ready()
        if not self._ours(instance_id):
            raise GuestNotFound(f"No guest {instance_id} on {self.host}.")
        log = self.instances_path / instance_id / "console.log"

        def tail() -> bytes:
            try:
                with open(log, "rb") as f:
                    f.seek(max(0, log.stat().st_size - MAX_CONSOLE_BYTES))
                    return f.read()
            except FileNotFoundError:
                return b""
        return (await asyncio.to_thread(tail)).decode(errors="replace")

    # -- devices ------------------------------------------------------------------

    async def attach_volume(self, instance_id: str, disk: Disk) -> None:
        await self.ready()
        idir = self.instances_path / instance_id
        cfg = disks.volume_disk(disks.target_of(disk.device), disk.connection,
                                disk.volume_id, disks.cache_mode(idir) if idir.is_dir() else "")
        await self._attach(instance_id, ET.tostring(domain.disk_element(cfg), "unicode"))

    async def detach_volume(self, instance_id: str, volume_id: str) -> None:
        await self.ready()
        await self._detach(instance_id, f"devices/disk[serial='{volume_id}']",
                           f"volume {volume_id}")

    async def attach_interface(self, instance_id: str, nic: Nic) -> None:
        await self.ready()
        await self._attach(instance_id,
                           ET.tostring(domain.interface_element(self._nic(nic)), "unicode"))

    async def detach_interface(self, instance_id: str, port_id: str) -> None:
        await self.ready()
        tap = domain.tap_name(port_id)
        await self._detach(instance_id, f"devices/interface/target[@dev='{tap}']/..",
                           f"port {port_id}")

    async def _attach(self, instance_id: str, device_xml: str) -> None:
        await self._on(instance_id, lambda d: d.attachDeviceFlags(device_xml, _flags(d)))

    async def _detach(self, instance_id: str, path: str, what: str) -> None:
        """Detach the device at path (in the domain XML); wait until the live guest lets go."""
        def find(dom: libvirt.virDomain, flags: int = 0) -> str | None:
            el = ET.fromstring(dom.XMLDesc(flags)).find(path)
            return ET.tostring(el, "unicode") if el is not None else None

        device = await self._on(instance_id, find, libvirt.VIR_DOMAIN_XML_INACTIVE)
        device = device or await self._on(instance_id, find)
        if device is None:
            raise DriverError(f"The {what} is not attached to instance {instance_id}.")
        await self._on(instance_id, lambda d: d.detachDeviceFlags(device, _flags(d)))
        deadline = time.monotonic() + self.detach_timeout
        while await self._on(instance_id, lambda d: d.isActive() and find(d) is not None):
            if time.monotonic() > deadline:
                raise DriverError(f"The guest did not release the {what} within "
                                  f"{self.detach_timeout:.0f}s.")
            await asyncio.sleep(POLL)

    # -- snapshot -----------------------------------------------------------------

    async def snapshot(self, instance_id: str,
                       upload: Callable[[AsyncIterator[bytes]], Awaitable[None]]) -> None:
        """A qcow2 copy of the root disk (taken with the guest paused), streamed to upload."""
        await self.ready()
        idir = self.instances_path / instance_id
        root = idir / "disk"
        if not root.exists():
            raise DriverError("Only image-backed instances can be snapshotted here.")
        out = idir / "snapshot.qcow2"
        paused = await self._on(instance_id, _pause_if_running)
        try:
            await qemu_img.convert(root, "qcow2", out, "qcow2", force_share=True)
        finally:
            if paused:
                await self._on(instance_id, lambda d: d.resume())
        try:
            await upload(_read_chunks(out))
        finally:
            out.unlink(missing_ok=True)


def _flags(dom: libvirt.virDomain) -> int:
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if dom.isActive():
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    return flags


def _start(dom: libvirt.virDomain) -> None:
    """Start a shut-off domain (restoring its managed save, if any)."""
    if not dom.isActive():
        dom.create()


def _hard_restart(dom: libvirt.virDomain) -> None:
    if dom.isActive():
        dom.destroy()
    dom.create()


def _pause_if_running(dom: libvirt.virDomain) -> bool:
    if dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING:
        dom.suspend()
        return True
    return False


async def _read_chunks(path: Path, size: int = 1 << 20) -> AsyncIterator[bytes]:
    f = await asyncio.to_thread(open, path, "rb")
    try:
        while chunk := await asyncio.to_thread(f.read, size):
            yield chunk
    finally:
        f.close()


_: type[contract.Driver] = LibvirtDriver  # the contract, checked by type checkers
