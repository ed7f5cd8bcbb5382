"""One libvirt connection, used from threads only, and what the host is.

Every libvirt call goes through `Host.call`, which runs it in a thread and
turns libvirt's errors into the driver contract's (`GuestNotFound`,
`DriverError`). `virt_type()` decides kvm or qemu (TCG) once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import libvirt

from pocketstack.compute.virt.driver import DriverError, GuestNotFound, PowerState

LOG = logging.getLogger(__name__)
T = TypeVar("T")

STATES = {
    libvirt.VIR_DOMAIN_NOSTATE: PowerState.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: PowerState.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: PowerState.SHUTDOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: PowerState.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: PowerState.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: PowerState.SUSPENDED,
}


def power_state(dom: libvirt.virDomain) -> PowerState:
    """Nova's power state of a domain; shut off with a managed save image is SUSPENDED."""
    state, _ = dom.state()
    if state == libvirt.VIR_DOMAIN_SHUTOFF and dom.hasManagedSaveImage(0):
        return PowerState.SUSPENDED
    return STATES.get(state, PowerState.NOSTATE)


# libvirt's own silence: it prints every error to stderr unless told otherwise.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


class Host:
    def __init__(self, uri: str):
        self.uri = uri
        self._conn: libvirt.virConnect | None = None
        self._lock = threading.Lock()

    def conn(self) -> libvirt.virConnect:
        """The connection (opened or reopened as needed); call from a thread."""
        with self._lock:
            if self._conn is None or not self._conn.isAlive():
                self._conn = libvirt.open(self.uri)
            return self._conn

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) in a thread, libvirt errors translated."""
        def run() -> T:
            try:
                return fn(*args)
            except libvirt.libvirtError as e:
                if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    raise GuestNotFound(f"No guest: {e.get_error_message()}") from e
                raise DriverError(f"libvirt: {e.get_error_message()}") from e
        return await asyncio.to_thread(run)

    def domain(self, instance_id: str) -> libvirt.virDomain:
        """The domain of an instance (its uuid); call from a thread."""
        return self.conn().lookupByUUIDString(instance_id)

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.to_thread(conn.close)


def detect_virt_type(host: Host, configured: str, cache_dir: Path) -> str:
    """kvm, qemu (TCG), or test (libvirt's test driver); call from a thread.

    `auto` is kvm only when libvirt offers it and the test kernel really
    reaches its /init under it (/dev/kvm may exist and still hang guests).
    """
    if host.uri.startswith("test:"):
        return "test"
    if configured != "auto":
        return configured
    if "<domain type='kvm'" not in host.conn().getCapabilities():
        LOG.info("virt_type qemu (TCG): libvirt offers no kvm domains here")
        return "qemu"
    from pocketstack import testimage
    from pocketstack.testimage import qemu

    try:
        image = testimage.ensure_built(cache_dir)
    except Exception as e:  # noqa: BLE001 - no probe, no kvm
        LOG.warning("virt_type qemu (TCG): cannot build the KVM probe image: %s", e)
        return "qemu"
    if qemu.kvm_works(image.kernel, image.initrd, image.cmdline):
        LOG.info("virt_type kvm: a guest runs under KVM here")
        return "kvm"
    LOG.info("virt_type qemu (TCG): /dev/kvm is there but a guest does not run under it")
    return "qemu"
