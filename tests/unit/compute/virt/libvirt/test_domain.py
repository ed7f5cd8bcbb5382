"""The domain XML builder, checked as XML and by libvirt's own parser (test:///default)."""

import xml.etree.ElementTree as ET

import libvirt
import pytest

from pocketstack.compute.virt.libvirt import domain

UUID = "6f1c0a4e-8c1e-4c55-9b5e-2f2d3c4b5a69"
PORT = "0123abcd-4567-89ef-0123-456789abcdef"


def _config(**over):
    cfg = domain.DomainConfig(
        uuid=UUID, name=domain.domain_name(UUID), virt_type="qemu", vcpus=2, memory_mb=128,
        console_log="/var/lib/ps/instances/x/console.log",
        disks=[domain.DiskConfig("/i/disk", "vda"),
               domain.DiskConfig("/dev/vg/volume-1", "vdb", fmt="raw", block=True,
                                 readonly=True, serial="volume-1")],
        nics=[domain.NicConfig("fa:16:3e:00:00:01", PORT, "brq0123abcd-45", 1450)],
        metadata=domain.NovaMetadata("my vm", "2026-11-25 07:00:00", flavor_name="m1.tiny",
                                     memory_mb=128, disk_gb=1, vcpus=2, user_id="u",
                                     project_id="p", image_id="img",
                                     ports={PORT: ["10.0.0.5", "fd00::5"]}),
    )
    for k, v in over.items():
        setattr(cfg, k, v)
    return cfg


def test_devices_follow_nova():
    root = ET.fromstring(domain.to_xml(_config()))
    assert root.get("type") == "qemu" and root.findtext("uuid") == UUID
    assert root.findtext("memory") == str(128 * 1024)
    vda, vdb = root.findall("devices/disk")
    assert vda.find("driver").attrib == {"name": "qemu", "type": "qcow2", "cache": "none"}
    assert vda.find("target").attrib == {"dev": "vda", "bus": "virtio"}
    assert vdb.get("type") == "block" and vdb.find("source").get("dev") == "/dev/vg/volume-1"
    assert vdb.find("readonly") is not None and vdb.findtext("serial") == "volume-1"
    nic = root.find("devices/interface")
    assert nic.get("type") == "bridge" and nic.find("source").get("bridge") == "brq0123abcd-45"
    assert nic.find("target").get("dev") == "tap0123abcd-45"
    assert nic.find("model").get("type") == "virtio" and nic.find("mtu").get("size") == "1450"
    assert root.find("devices/serial/log").attrib == {
        "file": "/var/lib/ps/instances/x/console.log", "append": "off"}
    assert root.find("devices/rng").get("model") == "virtio"
    assert root.find("devices/memballoon").get("model") == "virtio"
    smbios = {e.get("name"): e.text for e in root.findall("sysinfo/system/entry")}
    assert smbios["uuid"] == UUID and smbios["product"] == "OpenStack Nova"
    assert root.find("os/boot").get("dev") == "hd"


def test_nova_metadata_element():
    root = ET.fromstring(domain.to_xml(_config()))
    n = "{" + domain.NOVA_NS + "}"
    inst = root.find(f"metadata/{n}instance")
    assert inst.findtext(f"{n}name") == "my vm"
    assert inst.find(f"{n}flavor").get("name") == "m1.tiny"
    assert inst.find(f"{n}root").attrib == {"type": "image", "uuid": "img"}
    ips = inst.findall(f"{n}ports/{n}port/{n}ip")
    assert [(i.get("address"), i.get("ipVersion")) for i in ips] == [
        ("10.0.0.5", "4"), ("fd00::5", "6")]


def test_direct_kernel_boot_and_kvm_cpu():
    root = ET.fromstring(domain.to_xml(_config(
        kernel="/k", initrd="/r", cmdline="console=ttyS0", virt_type="kvm")))
    assert root.findtext("os/kernel") == "/k" and root.findtext("os/initrd") == "/r"
    assert root.findtext("os/cmdline") == "console=ttyS0"
    assert root.find("os/boot") is None
    assert root.find("cpu").get("mode") == "host-model"


def test_port_without_bridge_is_a_plain_tap():
    nic = domain.NicConfig("fa:16:3e:00:00:02", PORT)
    el = domain.interface_element(nic)
    assert el.get("type") == "ethernet" and el.find("source") is None
    assert el.find("target").get("dev") == "tap0123abcd-45"


@pytest.fixture
def test_conn():
    conn = libvirt.open("test:///default")
    yield conn
    conn.close()


def test_libvirt_parses_it(test_conn):
    xml = domain.to_xml(_config(virt_type="test"))
    dom = test_conn.defineXML(xml)
    try:
        parsed = ET.fromstring(dom.XMLDesc())
        assert parsed.findtext("uuid") == UUID
        assert parsed.find("devices/interface/target").get("dev") == "tap0123abcd-45"
        meta = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, domain.NOVA_NS)
        assert "my vm" in meta
    finally:
        dom.undefine()
