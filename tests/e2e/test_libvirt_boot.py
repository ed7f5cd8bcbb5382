"""The test image boots through libvirt (`virsh create`) with the driver's domain XML."""

import json
import subprocess
import uuid

from pocketstack import testimage
from pocketstack.compute.virt.libvirt import domain
from pocketstack.testimage import qemu

BOOT_TIMEOUT = 120


def test_virsh_create_boots_to_the_marker_with_dhcp_and_metadata(
        test_image, libvirtd, guest_network, tmp_path):
    instance_id = str(uuid.uuid4())
    guest_network.metadata["meta_data.json"] = json.dumps(
        {"uuid": instance_id, "public_keys": {"k": "ssh-ed25519 AAAA test"}})
    guest_network.metadata["user_data"] = "#!/bin/sh\necho hello\n"
    overlay = tmp_path / "disk"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                    str(test_image.qcow2), str(overlay)], check=True)
    log = tmp_path / "console.log"
    xml = domain.to_xml(domain.DomainConfig(
        uuid=instance_id, name=domain.domain_name(instance_id),
        virt_type="kvm" if qemu.accel(test_image) == "kvm" else "qemu",
        vcpus=1, memory_mb=128, console_log=str(log),
        disks=[domain.DiskConfig(str(overlay), "vda", cache="writeback")],
        nics=[domain.NicConfig("fa:16:3e:12:34:56", str(uuid.uuid4()), guest_network.bridge)],
    ))
    (tmp_path / "domain.xml").write_text(xml)
    subprocess.run(["virsh", "-c", libvirtd, "create", str(tmp_path / "domain.xml")],
                   check=True, capture_output=True)
    try:
        line = qemu.wait_for_line(log, testimage.MARKER, BOOT_TIMEOUT)
        assert line.startswith(f"{testimage.MARKER} ip={guest_network.prefix}.")
        meta = qemu.wait_for_line(log, "POCKETSTACK-TESTVM-METADATA", 30)
        assert json.loads(meta.split(" ", 1)[1])["uuid"] == instance_id
        assert qemu.wait_for_line(log, "POCKETSTACK-TESTVM-USERDATA", 10) == (
            "POCKETSTACK-TESTVM-USERDATA #!/bin/sh")
        qemu.wait_for_line(log, "POCKETSTACK-TESTVM-USERDATA echo hello", 10)
    finally:
        subprocess.run(["virsh", "-c", libvirtd, "destroy", instance_id], capture_output=True)
