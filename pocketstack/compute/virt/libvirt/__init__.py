"""The libvirt hypervisor driver: real guests under qemu (TCG) or KVM.

driver.py implements the contract; domain.py builds the domain XML; disks.py,
imagecache.py and qemu_img.py make the disks; host.py holds the connection
and decides kvm or qemu; daemon.py runs a libvirtd where none is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pocketstack.compute.virt.libvirt.driver import LibvirtDriver
    from pocketstack.config import Config


def from_config(cfg: Config, host: str) -> LibvirtDriver:
    from pocketstack.compute.virt.libvirt.driver import LibvirtDriver

    lv = cfg.libvirt
    return LibvirtDriver(
        host, uri=lv.uri, instances_path=lv.instances_path or cfg.state_dir / "instances",
        cache_dir=cfg.cache_dir, virt_type=lv.virt_type, images_type=lv.images_type,
        shutdown_timeout=lv.shutdown_timeout, detach_timeout=lv.detach_timeout,
        start_daemon=lv.start_daemon, config_drive_format=cfg.compute.config_drive_format,
        dhcp_domain=cfg.metadata.dhcp_domain)
