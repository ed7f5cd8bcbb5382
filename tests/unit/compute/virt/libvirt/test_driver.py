"""LibvirtDriver against libvirt's test driver (test:///default): no daemon, no guests
run, but every libvirt call, qemu-img call and file the driver makes is real."""

import hashlib
import json
import subprocess
import uuid
import xml.etree.ElementTree as ET

import pytest

from pocketstack.compute.virt.driver import (
    CanAttachInterface,
    CanAttachVolume,
    CanPause,
    CanSnapshot,
    CanSuspend,
    Disk,
    DriverError,
    GuestNotFound,
    GuestSpec,
    Nic,
    PowerState,
)
from pocketstack.compute.virt.libvirt.driver import LibvirtDriver

GiB = 1024 ** 3


def _image(tmp_path, fmt="qcow2", size="64M", **over):
    path = tmp_path / f"image-{uuid.uuid4().hex[:6]}.{fmt}"
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, str(path), size], check=True)
    data = path.read_bytes()
    meta = {"id": str(uuid.uuid4()), "disk_format": fmt, "container_format": "bare",
            "checksum": hashlib.md5(data).hexdigest(), "os_hash_algo": "sha512",
            "os_hash_value": hashlib.sha512(data).hexdigest(), **over}
    return meta, data


def _streamer(data, calls=None):
    async def stream():
        if calls is not None:
            calls.append(1)
        for i in range(0, len(data), 65536):
            yield data[i:i + 65536]
    return stream


def _spec(meta, data, **over):
    iid = str(uuid.uuid4())
    fields = dict(instance_id=iid, name="vm-1", hostname="vm-1", vcpus=1, memory_mb=128,
                  root_gb=1, image=meta, image_data=_streamer(data))
    fields.update(over)
    return GuestSpec(**fields)


@pytest.fixture
def driver(tmp_path):
    return LibvirtDriver("host-1", uri="test:///default", instances_path=tmp_path / "inst",
                         cache_dir=tmp_path / "cache", shutdown_timeout=2, detach_timeout=2)


def _qemu_info(path):
    return json.loads(subprocess.run(["qemu-img", "info", "-f", "qcow2", "--output=json",
                                      str(path)], capture_output=True, check=True).stdout)


async def test_spawn_makes_nova_style_disks_and_a_running_domain(driver, tmp_path):
    meta, data = _image(tmp_path)
    vol = tmp_path / "volume.raw"
    vol.write_bytes(b"\0" * 1024 * 1024)
    spec = _spec(meta, data, ephemeral_gb=1, swap_mb=16, flavor_name="m1.small",
                 nics=[Nic("0123abcd-4567-89ef-0123-456789abcdef", "fa:16:3e:00:00:01", "net",
                           ["10.0.0.5"], 1450, {"bridge_name": "brq0123"})],
                 disks=[Disk("vol-1", "/dev/vdd", {"driver_volume_type": "file", "data": {
                     "path": str(vol), "format": "raw", "access_mode": "rw"}})])
    await driver.spawn(spec)
    idir = tmp_path / "inst" / spec.instance_id
    root = _qemu_info(idir / "disk")
    assert root["backing-filename"] == str(tmp_path / "inst/_base" / (meta["id"] + ".qcow2"))
    assert root["backing-filename-format"] == "qcow2"
    assert root["virtual-size"] == 1 * GiB
    eph = _qemu_info(idir / "disk.eph0")
    assert eph["backing-filename"].endswith("_base/ephemeral_1_ext4")
    assert eph["backing-filename-format"] == "raw"
    assert _qemu_info(idir / "disk.swap")["backing-filename"].endswith("_base/swap_16")
    xml = ET.fromstring((idir / "domain.xml").read_text())
    targets = [(d.find("target").get("dev"), d.find("source").get("file"))
               for d in xml.findall("devices/disk")]
    assert targets == [("vda", str(idir / "disk")), ("vdb", str(idir / "disk.eph0")),
                       ("vdc", str(idir / "disk.swap")), ("vdd", str(vol))]
    assert xml.find("devices/interface/source").get("bridge") == "brq0123"
    assert xml.find("devices/serial/log").get("file") == str(idir / "console.log")
    assert await driver.list_guests() == {spec.instance_id: PowerState.RUNNING}
    assert (await driver.resources()).hypervisor_type == "QEMU"


async def test_the_image_is_downloaded_once_per_host(driver, tmp_path):
    meta, data = _image(tmp_path)
    calls = []
    for _ in range(2):
        await driver.spawn(_spec(meta, data, image_data=_streamer(data, calls)))
    assert calls == [1]


async def test_raw_images_convert_when_asked(tmp_path):
    drv = LibvirtDriver("h", uri="test:///default", instances_path=tmp_path / "i",
                        cache_dir=tmp_path, images_type="raw")
    meta, data = _image(tmp_path)
    spec = _spec(meta, data)
    await drv.spawn(spec)
    root = _qemu_info(tmp_path / "i" / spec.instance_id / "disk")
    assert root["backing-filename-format"] == "raw"
    assert root["backing-filename"].endswith(meta["id"] + ".raw")


@pytest.mark.parametrize("damage, message", [
    ({"checksum": "0" * 32}, "checksum"),
    ({"os_hash_value": "0" * 128}, "sha512"),
    ({"disk_format": "raw"}, "says raw but is a qcow2"),
    ({"disk_format": "vmdk"}, "raw and qcow2"),
])
async def test_bad_images_are_refused_and_nothing_is_left(driver, tmp_path, damage, message):
    meta, data = _image(tmp_path)
    spec = _spec({**meta, **damage}, data)
    with pytest.raises(DriverError, match=message):
        await driver.spawn(spec)
    assert not (tmp_path / "inst" / spec.instance_id).exists()
    assert spec.instance_id not in await driver.list_guests()
    assert not [p for p in (tmp_path / "inst/_base").glob("*") if p.suffix != ".lock"]


async def test_a_qcow2_with_a_backing_file_is_refused(driver, tmp_path):
    secret = tmp_path / "host-secret.raw"
    secret.write_bytes(b"secret")
    evil = tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",  # noqa: ASYNC221
                    str(secret), str(evil)], check=True)
    data = evil.read_bytes()
    meta = {"id": str(uuid.uuid4()), "disk_format": "qcow2"}
    with pytest.raises(DriverError, match="backing"):
        await driver.spawn(_spec(meta, data))


async def test_flavor_disk_smaller_than_the_image(driver, tmp_path):
    meta, data = _image(tmp_path, size="2G")
    with pytest.raises(DriverError, match="smaller than the image"):
        await driver.spawn(_spec(meta, data, root_gb=1))


async def test_power_operations_and_their_states(driver, tmp_path):
    meta, data = _image(tmp_path)
    spec = _spec(meta, data)
    await driver.spawn(spec)
    iid = spec.instance_id
    assert isinstance(driver, CanPause) and isinstance(driver, CanSuspend)
    await driver.pause(iid)
    assert await driver.power_state(iid) == PowerState.PAUSED
    await driver.unpause(iid)
    assert await driver.power_state(iid) == PowerState.RUNNING
    await driver.suspend(iid)
    assert await driver.power_state(iid) == PowerState.SUSPENDED
    await driver.resume(iid)
    assert await driver.power_state(iid) == PowerState.RUNNING
    await driver.reboot(iid, hard=False)
    assert await driver.power_state(iid) == PowerState.RUNNING
    await driver.reboot(iid, hard=True)
    assert await driver.power_state(iid) == PowerState.RUNNING
    await driver.power_off(iid)
    await driver.power_off(iid)  # idempotent
    assert await driver.power_state(iid) == PowerState.SHUTDOWN
    await driver.power_on(iid)
    await driver.power_on(iid)
    assert await driver.power_state(iid) == PowerState.RUNNING


async def test_destroy_removes_everything_and_is_idempotent(driver, tmp_path):
    meta, data = _image(tmp_path)
    spec = _spec(meta, data)
    await driver.spawn(spec)
    await driver.destroy(spec.instance_id)
    await driver.destroy(spec.instance_id)
    assert not (tmp_path / "inst" / spec.instance_id).exists()
    assert spec.instance_id not in await driver.list_guests()
    assert await driver.power_state(spec.instance_id) == PowerState.NOSTATE
    assert (tmp_path / "inst/_base" / (meta["id"] + ".qcow2")).exists()  # the cache stays


async def test_unknown_guests(driver):
    iid = str(uuid.uuid4())
    for op in (driver.reboot(iid, True), driver.power_on(iid), driver.pause(iid),
               driver.console_output(iid)):
        with pytest.raises(GuestNotFound):
            await op
    await driver.power_off(iid)
    assert await driver.power_state(iid) == PowerState.NOSTATE


async def test_spawning_the_same_instance_twice_fails_without_harm(driver, tmp_path):
    meta, data = _image(tmp_path)
    spec = _spec(meta, data)
    await driver.spawn(spec)
    with pytest.raises(DriverError, match="already exists"):
        await driver.spawn(spec)
    assert await driver.power_state(spec.instance_id) == PowerState.RUNNING


async def test_console_output_reads_the_serial_log(driver, tmp_path):
    meta, data = _image(tmp_path)
    spec = _spec(meta, data)
    await driver.spawn(spec)
    (tmp_path / "inst" / spec.instance_id / "console.log").write_bytes(
        b"x" * 200_000 + b"\nPOCKETSTACK-TESTVM-UP ip=10.0.0.5\n")
    out = await driver.console_output(spec.instance_id)
    assert out.endswith("POCKETSTACK-TESTVM-UP ip=10.0.0.5\n") and len(out) == 100 * 1024


async def test_direct_kernel_boot(driver, tmp_path):
    meta, data = _image(tmp_path)
    kernel, ramdisk = b"kernel bytes", b"ramdisk bytes"
    images = {"k1": ({"id": "k1", "checksum": hashlib.md5(kernel).hexdigest()}, kernel),
              "r1": ({"id": "r1", "checksum": hashlib.md5(ramdisk).hexdigest()}, ramdisk)}

    async def image_by_id(image_id):
        m, d = images[image_id]
        return m, _streamer(d)

    spec = _spec({**meta, "kernel_id": "k1", "ramdisk_id": "r1",
                  "os_command_line": "console=ttyS0 quiet"}, data, image_by_id=image_by_id)
    await driver.spawn(spec)
    xml = ET.fromstring((tmp_path / "inst" / spec.instance_id / "domain.xml").read_text())
    assert (tmp_path / "inst/_base/k1.file").read_bytes() == kernel
    assert xml.findtext("os/kernel") == str(tmp_path / "inst/_base/k1.file")
    assert xml.findtext("os/initrd") == str(tmp_path / "inst/_base/r1.file")
    assert xml.findtext("os/cmdline") == "console=ttyS0 quiet"


async def test_snapshot_uploads_a_qcow2_of_the_root_disk(driver, tmp_path):
    meta, data = _image(tmp_path)
    spec = _spec(meta, data)
    await driver.spawn(spec)
    assert isinstance(driver, CanSnapshot)
    got = bytearray()

    async def upload(chunks):
        async for c in chunks:
            got.extend(c)
    await driver.snapshot(spec.instance_id, upload)
    assert bytes(got[:4]) == b"QFI\xfb"
    out = tmp_path / "snap.qcow2"
    out.write_bytes(bytes(got))
    info = _qemu_info(out)
    assert "backing-filename" not in info and info["virtual-size"] == 1 * GiB
    assert await driver.power_state(spec.instance_id) == PowerState.RUNNING


async def test_volume_attach_and_detach_refusals(driver, tmp_path):
    """(libvirt's test driver cannot hot-plug: the real attach is in tests/e2e.)"""
    meta, data = _image(tmp_path)
    spec = _spec(meta, data)
    await driver.spawn(spec)
    assert isinstance(driver, CanAttachVolume) and isinstance(driver, CanAttachInterface)
    with pytest.raises(DriverError, match="not attached"):
        await driver.detach_volume(spec.instance_id, "vol-9")
    with pytest.raises(DriverError, match="cannot attach"):
        await driver.attach_volume(spec.instance_id, Disk("v2", "/dev/vdc", {
            "driver_volume_type": "iscsi", "data": {}}))
    with pytest.raises(DriverError, match="Invalid device"):
        await driver.attach_volume(spec.instance_id, Disk("v2", "/dev/../x", {
            "driver_volume_type": "file", "data": {"path": "/x"}}))
    with pytest.raises(GuestNotFound):
        await driver.detach_volume(str(uuid.uuid4()), "vol-9")


def _mtype(image, path):
    return subprocess.run(["mtype", "-i", str(image), "::" + path], capture_output=True,
                          check=True).stdout


async def test_config_drive_is_a_vfat_disk_with_the_metadata(driver, tmp_path):
    import base64

    meta, data = _image(tmp_path)
    spec = _spec(meta, data, config_drive=True, key_data="ssh-ed25519 AAAA me", key_name="me",
                 user_data=base64.b64encode(b"#!/bin/sh\necho hi\n").decode(),
                 metadata={"role": "web"}, project_id="p1",
                 nics=[Nic("0123abcd-4567-89ef-0123-456789abcdef", "fa:16:3e:00:00:01", "n1",
                           ["10.0.0.5"])])
    await driver.spawn(spec)
    drive = tmp_path / "inst" / spec.instance_id / "disk.config"
    label = subprocess.run(["mlabel", "-s", "-i", str(drive), "::"],  # noqa: ASYNC221
                           capture_output=True, text=True, check=True).stdout
    assert "CONFIG-2" in label.upper()
    md = json.loads(_mtype(drive, "openstack/latest/meta_data.json"))
    assert md["uuid"] == spec.instance_id and md["project_id"] == "p1"
    assert md["public_keys"] == {"me": "ssh-ed25519 AAAA me"} and md["meta"] == {"role": "web"}
    assert _mtype(drive, "openstack/latest/user_data") == b"#!/bin/sh\necho hi\n"
    nd = json.loads(_mtype(drive, "openstack/latest/network_data.json"))
    assert nd["links"][0]["ethernet_mac_address"] == "fa:16:3e:00:00:01"
    xml = ET.fromstring((tmp_path / "inst" / spec.instance_id / "domain.xml").read_text())
    last = xml.findall("devices/disk")[-1]
    assert last.find("source").get("file") == str(drive)
    assert last.find("driver").get("type") == "raw" and last.find("target").get("dev") == "vdb"


async def test_bad_user_data_fails_the_spawn_cleanly(driver, tmp_path):
    meta, data = _image(tmp_path)
    spec = _spec(meta, data, config_drive=True, user_data="not base64!!")
    with pytest.raises(DriverError, match="base64"):
        await driver.spawn(spec)
    assert not (tmp_path / "inst" / spec.instance_id).exists()
