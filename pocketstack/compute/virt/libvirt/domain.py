"""The libvirt domain XML of a guest, built from a plain description (no libvirt calls).

Follows what Nova writes: virtio disks and NICs (tap + the port id's first 11
characters, on the port's bridge), the serial console logged to a file,
memballoon, virtio-rng, SMBIOS carrying the instance uuid, Nova's metadata
element, and direct kernel boot when the image names a kernel and ramdisk.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

NOVA_NS = "http://openstack.org/xmlns/libvirt/nova/1.1"
TAP_PREFIX = "tap"
NIC_NAME_LEN = 14  # Linux allows 15; Nova uses tap + 11 characters of the port id


def tap_name(port_id: str) -> str:
    return (TAP_PREFIX + port_id)[:NIC_NAME_LEN]


def domain_name(instance_id: str) -> str:
    return f"instance-{instance_id}"


@dataclass
class DiskConfig:
    source: str  # a file path, or a block device when block=True
    target: str  # "vda"
    fmt: str = "qcow2"  # qcow2 | raw: always said, never guessed
    block: bool = False
    readonly: bool = False
    cache: str = "none"
    serial: str | None = None  # the volume id, as Nova sets it


@dataclass
class NicConfig:
    mac: str
    port_id: str
    bridge: str | None = None  # None: a plain tap (type ethernet) that the network agent plugs
    mtu: int | None = None

    @property
    def tap(self) -> str:
        return tap_name(self.port_id)


@dataclass
class NovaMetadata:
    """Nova's <nova:instance> element: who and what the guest is, for operators' tools."""

    display_name: str
    creation_time: str  # "2026-11-25 07:00:00"
    flavor_name: str = ""
    memory_mb: int = 0
    disk_gb: int = 0
    swap_mb: int = 0
    ephemeral_gb: int = 0
    vcpus: int = 0
    user_id: str = ""
    user_name: str = ""
    project_id: str = ""
    project_name: str = ""
    image_id: str | None = None
    ports: dict[str, list[str]] = field(default_factory=dict)  # port id -> fixed IPs


@dataclass
class DomainConfig:
    uuid: str
    name: str
    virt_type: str  # kvm | qemu
    vcpus: int
    memory_mb: int
    console_log: str
    disks: list[DiskConfig] = field(default_factory=list)
    nics: list[NicConfig] = field(default_factory=list)
    kernel: str | None = None
    initrd: str | None = None
    cmdline: str | None = None
    machine: str = "pc"
    metadata: NovaMetadata | None = None
    version: str = "pocketstack"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _metadata(parent: ET.Element, md: NovaMetadata) -> None:
    n = f"{{{NOVA_NS}}}"
    inst = _sub(_sub(parent, "metadata"), n + "instance")
    _sub(inst, n + "package", version="pocketstack")
    _sub(inst, n + "name", md.display_name)
    _sub(inst, n + "creationTime", md.creation_time)
    flavor = _sub(inst, n + "flavor", name=md.flavor_name)
    for tag, value in (("memory", md.memory_mb), ("disk", md.disk_gb), ("swap", md.swap_mb),
                       ("ephemeral", md.ephemeral_gb), ("vcpus", md.vcpus)):
        _sub(flavor, n + tag, str(value))
    owner = _sub(inst, n + "owner")
    _sub(owner, n + "user", md.user_name, uuid=md.user_id)
    _sub(owner, n + "project", md.project_name, uuid=md.project_id)
    if md.image_id:
        _sub(inst, n + "root", type="image", uuid=md.image_id)
    ports = _sub(inst, n + "ports")
    for port_id, ips in md.ports.items():
        port = _sub(ports, n + "port", uuid=port_id)
        for ip in ips:
            _sub(port, n + "ip", type="fixed", address=ip, ipVersion="6" if ":" in ip else "4")


def _os(parent: ET.Element, cfg: DomainConfig) -> None:
    os_ = _sub(parent, "os")
    _sub(os_, "type", "hvm", arch="x86_64", machine=cfg.machine)
    if cfg.kernel:
        _sub(os_, "kernel", cfg.kernel)
        if cfg.initrd:
            _sub(os_, "initrd", cfg.initrd)
        if cfg.cmdline:
            _sub(os_, "cmdline", cfg.cmdline)
    else:
        _sub(os_, "boot", dev="hd")
    _sub(os_, "smbios", mode="sysinfo")


def _sysinfo(parent: ET.Element, cfg: DomainConfig) -> None:
    system = _sub(_sub(parent, "sysinfo", type="smbios"), "system")
    for name, value in (("manufacturer", "OpenStack Foundation"), ("product", "OpenStack Nova"),
                        ("version", cfg.version), ("serial", cfg.uuid), ("uuid", cfg.uuid),
                        ("family", "Virtual Machine")):
        _sub(system, "entry", value, name=name)


def disk_element(disk: DiskConfig) -> ET.Element:
    el = ET.Element("disk", type="block" if disk.block else "file", device="disk")
    _sub(el, "driver", name="qemu", type=disk.fmt, cache=disk.cache)
    _sub(el, "source", **{"dev" if disk.block else "file": disk.source})
    _sub(el, "target", dev=disk.target, bus="virtio")
    if disk.readonly:
        _sub(el, "readonly")
    if disk.serial:
        _sub(el, "serial", disk.serial)
    return el


def interface_element(nic: NicConfig) -> ET.Element:
    el = ET.Element("interface", type="bridge" if nic.bridge else "ethernet")
    _sub(el, "mac", address=nic.mac)
    _sub(el, "model", type="virtio")
    if nic.bridge:
        _sub(el, "source", bridge=nic.bridge)
    _sub(el, "target", dev=nic.tap)
    if nic.mtu:
        _sub(el, "mtu", size=str(nic.mtu))
    _sub(el, "rom", enabled="no")  # no iPXE: guests boot from disk
    return el


def _devices(parent: ET.Element, cfg: DomainConfig) -> None:
    devices = _sub(parent, "devices")
    for disk in cfg.disks:
        devices.append(disk_element(disk))
    for nic in cfg.nics:
        devices.append(interface_element(nic))
    serial = _sub(devices, "serial", type="pty")
    _sub(serial, "log", file=cfg.console_log, append="off")
    _sub(devices, "console", type="pty")
    rng = _sub(devices, "rng", model="virtio")
    _sub(rng, "backend", "/dev/urandom", model="random")
    _sub(_sub(devices, "memballoon", model="virtio"), "stats", period="10")


def to_xml(cfg: DomainConfig) -> str:
    ET.register_namespace("nova", NOVA_NS)
    dom = ET.Element("domain", type=cfg.virt_type)
    _sub(dom, "uuid", cfg.uuid)
    _sub(dom, "name", cfg.name)
    _sub(dom, "memory", str(cfg.memory_mb * 1024), unit="KiB")
    _sub(dom, "vcpu", str(cfg.vcpus))
    if cfg.metadata:
        _metadata(dom, cfg.metadata)
    _sysinfo(dom, cfg)
    _os(dom, cfg)
    features = _sub(dom, "features")
    _sub(features, "acpi")
    _sub(features, "apic")
    if cfg.virt_type == "kvm":
        _sub(dom, "cpu", mode="host-model")
    clock = _sub(dom, "clock", offset="utc")
    _sub(clock, "timer", name="pit", tickpolicy="delay")
    _sub(clock, "timer", name="rtc", tickpolicy="catchup")
    _sub(clock, "timer", name="hpet", present="no")
    _sub(dom, "on_poweroff", "destroy")
    _sub(dom, "on_reboot", "restart")
    _sub(dom, "on_crash", "destroy")
    _devices(dom, cfg)
    ET.indent(dom)
    return ET.tostring(dom, encoding="unicode") + "\n"
