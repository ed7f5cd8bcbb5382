"""One real guest through LibvirtDriver: spawn from the image service's bytes, DHCP and
metadata in the guest, its config drive, a volume hot-plugged and unplugged, ACPI soft
reboot, destroy."""

import asyncio
import hashlib
import json
import subprocess
import time
import uuid

from pocketstack import config as configuration
from pocketstack import testimage
from pocketstack.compute.virt.driver import Disk, GuestSpec, Nic, PowerState
from pocketstack.compute.virt.libvirt.driver import LibvirtDriver

BOOT_TIMEOUT = 120


async def _console_line(driver, iid, prefix, within):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        out = await driver.console_output(iid)
        for line in out[:out.rfind("\n") + 1].splitlines():  # whole lines only
            if prefix in line:
                return line[line.index(prefix):].strip()
        await asyncio.sleep(0.5)
    raise TimeoutError(f"no {prefix!r} on the console of {iid} after {within}s")


async def test_a_real_guest_through_the_driver(test_image, libvirtd, guest_network, tmp_path,
                                               caplog):
    caplog.set_level("INFO")
    data = test_image.qcow2.read_bytes()
    image = {"id": str(uuid.uuid4()), "disk_format": "qcow2",
             "checksum": hashlib.md5(data).hexdigest()}

    async def image_data():
        yield data

    iid = str(uuid.uuid4())
    guest_network.metadata["meta_data.json"] = json.dumps({"uuid": iid})
    driver = LibvirtDriver("e2e-host", uri=libvirtd, instances_path=tmp_path / "instances",
                           cache_dir=configuration.load().cache_dir, shutdown_timeout=60,
                           detach_timeout=60)
    spec = GuestSpec(
        instance_id=iid, name="e2e", hostname="e2e", vcpus=1, memory_mb=128, root_gb=1,
        image=image, image_data=image_data, config_drive=True, key_data="ssh-ed25519 AAAA e2e",
        nics=[Nic(str(uuid.uuid4()), "fa:16:3e:aa:bb:cc", "net", [], 1500,
                  {"bridge_name": guest_network.bridge})])
    try:
        await driver.spawn(spec)
        line = await _console_line(driver, iid, testimage.MARKER, BOOT_TIMEOUT)
        assert line.startswith(f"{testimage.MARKER} ip={guest_network.prefix}.")
        meta = await _console_line(driver, iid, "POCKETSTACK-TESTVM-METADATA", 30)
        assert json.loads(meta.split(" ", 1)[1]) == {"uuid": iid}
        drive = await _console_line(driver, iid, "POCKETSTACK-TESTVM-CONFIGDRIVE", 10)
        assert json.loads(drive.split(" ", 1)[1])["public_keys"] == {
            "key": "ssh-ed25519 AAAA e2e"}
        await _console_line(driver, iid, "POCKETSTACK-TESTVM-DISKS vda vdb", 10)

        vol = tmp_path / "volume.qcow2"
        await asyncio.to_thread(subprocess.run, ["qemu-img", "create", "-q", "-f", "qcow2",
                                                 str(vol), "16M"], check=True)
        await driver.attach_volume(iid, Disk("vol-1", "/dev/vdc", {
            "driver_volume_type": "file", "data": {"path": str(vol), "format": "qcow2"}}))
        await _console_line(driver, iid, "POCKETSTACK-TESTVM-DISK-ADDED vdc", 30)
        await driver.detach_volume(iid, "vol-1")  # returns once the guest let go
        await _console_line(driver, iid, "POCKETSTACK-TESTVM-DISK-REMOVED vdc", 10)

        await driver.reboot(iid, hard=False)  # ACPI: the guest powers off, then starts
        assert await driver.power_state(iid) == PowerState.RUNNING
        await _console_line(driver, iid, testimage.MARKER, BOOT_TIMEOUT)
        assert await driver.list_guests() == {iid: PowerState.RUNNING}
        assert (await driver.resources()).hypervisor_type in ("QEMU", "KVM")
    finally:
        await driver.destroy(iid)
        await driver.close()
    assert not (tmp_path / "instances" / iid).exists()
    gone = await asyncio.to_thread(subprocess.run, ["virsh", "-c", libvirtd, "dominfo", iid],
                                   capture_output=True)
    assert gone.returncode != 0
    assert "rebooting hard" not in caplog.text  # the soft reboot really was ACPI
