"""The format inspector: each format recognised from a header built here,
the hostile variants refused with a reason, and files made by qemu-img."""

from __future__ import annotations

import struct
import subprocess
import uuid
from pathlib import Path

import pytest

from pocketstack.image.cirros import empty_qcow2
from pocketstack.image.inspector import Inspection, UnsafeImage, inspect_bytes

MiB = 1 << 20


def qcow2(size=64 * MiB, version=3, backing=False, data_file=False, features=0) -> bytes:
    h = bytearray(512)
    struct.pack_into(">4sIQIIQ", h, 0, b"QFI\xfb", version, 256 if backing else 0,
                     8 if backing else 0, 16, size)
    struct.pack_into(">Q", h, 72, features | (4 if data_file else 0))
    struct.pack_into(">II", h, 96, 4, 104)
    return bytes(h) + b"\0" * 4096


def vhd(size=32 * MiB, disk_type=3) -> bytes:
    h = bytearray(512)
    h[:8] = b"conectix"
    struct.pack_into(">QQ", h, 40, size, size)
    struct.pack_into(">I", h, 60, disk_type)
    return bytes(h) + b"\0" * 1024


def vhdx(size=16 * MiB, parent=False) -> bytes:
    data = bytearray(1 * MiB)
    data[:8] = b"vhdxfile"
    meta_guid = uuid.UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E").bytes_le
    size_guid = uuid.UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8").bytes_le
    parent_guid = uuid.UUID("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C").bytes_le
    table = 192 * 1024
    struct.pack_into("<4sIII", data, table, b"regi", 0, 1, 0)
    data[table + 16:table + 32] = meta_guid
    struct.pack_into("<QII", data, table + 32, 512 * 1024, 64 * 1024, 1)
    meta = 512 * 1024
    items = [(size_guid, 65536)] + ([(parent_guid, 65600)] if parent else [])
    struct.pack_into("<8sHH", data, meta, b"metadata", 0, len(items))
    for i, (guid, offset) in enumerate(items):
        entry = meta + 32 + 32 * i
        data[entry:entry + 16] = guid
        struct.pack_into("<II", data, entry + 16, offset, 8)
    struct.pack_into("<Q", data, meta + 65536, size)
    return bytes(data)


def vmdk(descriptor: str, size_sectors=2048, desc_sector=1) -> bytes:
    h = bytearray(512)
    struct.pack_into("<4sIIQQQQ", h, 0, b"KDMV", 1, 3, size_sectors, 128, desc_sector, 2)
    desc = descriptor.encode().ljust(1024, b"\0")
    return bytes(h) + desc + b"\0" * 4096


GOOD_DESCRIPTOR = """# Disk DescriptorFile
version=1
CID=12345678
parentCID=ffffffff
createType="monolithicSparse"

# Extent description
RW 2048 SPARSE "disk.vmdk"

# The Disk Data Base
ddb.virtualHWVersion = "4"
"""


def vdi(size=8 * MiB, image_type=1) -> bytes:
    h = bytearray(512)
    struct.pack_into("<I", h, 0x40, 0xBEDA107F)
    struct.pack_into("<I", h, 0x4C, image_type)
    struct.pack_into("<Q", h, 0x170, size)
    return bytes(h) + b"\0" * 512


def iso(blocks=100) -> bytes:
    data = bytearray(0x8000 + 4096)
    pvd = 0x8000
    data[pvd] = 1
    data[pvd + 1:pvd + 6] = b"CD001"
    struct.pack_into("<I", data, pvd + 80, blocks)
    struct.pack_into("<H", data, pvd + 128, 2048)
    return bytes(data)


@pytest.mark.parametrize("fmt,data,size", [
    ("qcow2", qcow2(), 64 * MiB),
    ("qcow2", qcow2(version=2), 64 * MiB),
    ("qcow2", empty_qcow2(), 112 * MiB),
    ("vhd", vhd(), 32 * MiB),
    ("vhdx", vhdx(), 16 * MiB),
    ("vmdk", vmdk(GOOD_DESCRIPTOR), 1 * MiB),
    ("vmdk", vmdk(GOOD_DESCRIPTOR.replace("monolithicSparse", "streamOptimized")), 1 * MiB),
    ("vdi", vdi(), 8 * MiB),
    ("iso", iso(), 100 * 2048),
    ("raw", b"just some bytes" * 5000, 75000),
    ("raw", b"", 0),
])
def test_recognises_each_format(fmt, data, size):
    assert inspect_bytes(data, fmt) == size


@pytest.mark.parametrize("fmt,data,reason", [
    ("qcow2", qcow2(backing=True), "backing file"),
    ("qcow2", qcow2(data_file=True), "external data file"),
    ("qcow2", qcow2(features=1 << 9), "unknown incompatible features"),
    ("qcow2", qcow2(version=4), "version"),
    ("raw", qcow2(backing=True), "backing file"),
    ("vhd", vhd(disk_type=4), "differencing"),
    ("vhdx", vhdx(parent=True), "differencing"),
    ("vmdk", vmdk(GOOD_DESCRIPTOR.replace('SPARSE "disk.vmdk"', 'FLAT "/etc/passwd" 0')),
     "another file"),
    ("vmdk", vmdk(GOOD_DESCRIPTOR.replace('"disk.vmdk"', '"../../etc/shadow"')),
     "another file"),
    ("vmdk", vmdk(GOOD_DESCRIPTOR + 'RW 2048 SPARSE "second.vmdk"\n'), "extents"),
    ("vmdk", vmdk(GOOD_DESCRIPTOR.replace("monolithicSparse", "monolithicFlat")), "createType"),
    ("vmdk", vmdk(GOOD_DESCRIPTOR + "something odd\n"), "not understood"),
    ("vmdk", vmdk(GOOD_DESCRIPTOR, desc_sector=7), "unreadable"),
    ("raw", GOOD_DESCRIPTOR.replace("SPARSE", "FLAT").encode(), "text vmdk descriptor"),
    ("vdi", vdi(image_type=4), "type"),
    ("raw", b"QED\x00" + b"\0" * 600, "qed"),
])
def test_refuses_hostile_images(fmt, data, reason):
    with pytest.raises(UnsafeImage, match=reason):
        inspect_bytes(data, fmt)


@pytest.mark.parametrize("declared,data", [
    ("qcow2", b"\0" * 70000),
    ("raw", qcow2()),
    ("raw", vmdk(GOOD_DESCRIPTOR)),
    ("vmdk", qcow2()),
    ("vhd", vdi()),
    ("iso", b"\0" * 70000),
])
def test_refuses_content_that_is_not_the_declared_format(declared, data):
    with pytest.raises(UnsafeImage, match="does not match|not raw"):
        inspect_bytes(data, declared)


def test_refuses_polyglots():
    data = bytearray(iso())
    data[:512] = qcow2()[:512]
    with pytest.raises(UnsafeImage, match="several formats"):
        inspect_bytes(bytes(data), "iso")


def test_formats_without_inspector_pass_unless_hostile():
    assert inspect_bytes(b"kernel" * 100, "aki") is None
    with pytest.raises(UnsafeImage):
        inspect_bytes(qcow2(backing=True), "ami")


def test_inspection_is_streamed_in_any_chunking():
    data = vhdx()
    for size in (1, 511, 4096, 65537, len(data)):
        inspection = Inspection()
        chunks = [data[i:i + size] for i in range(0, len(data), size)] if size > 1 else \
            [data[:300000]] + [data[300000 + i:300001 + i] for i in range(4000)] + \
            [data[304000:]]
        for chunk in chunks:
            inspection.feed(chunk)
        assert inspection.verdict("vhdx") == 16 * MiB


def test_settles_early_on_large_raw_data():
    inspection = Inspection()
    inspection.feed(b"\0" * (2 * MiB))
    assert inspection.settled


QEMU_CASES = [
    (["-f", "qcow2"], "qcow2", None),
    (["-f", "qcow2", "-o", "compat=0.10"], "qcow2", None),
    (["-f", "vmdk"], "vmdk", None),
    (["-f", "vmdk", "-o", "subformat=streamOptimized"], "vmdk", None),
    (["-f", "vpc"], "vhd", None),
    (["-f", "vhdx"], "vhdx", None),
    (["-f", "vdi"], "vdi", None),
    (["-f", "qcow2", "-b", "/etc/passwd", "-F", "raw"], "qcow2", "backing file"),
    (["-f", "qcow2", "-o", "data_file={tmp}/data.raw"], "qcow2", "external data file"),
    (["-f", "vmdk", "-o", "subformat=monolithicFlat"], "vmdk", "text vmdk descriptor"),
    (["-f", "qed"], "raw", "qed"),
]


@pytest.mark.parametrize("args,declared,refusal", QEMU_CASES)
def test_files_made_by_qemu_img(tmp_path: Path, args, declared, refusal):
    target = tmp_path / "disk.img"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    size = [] if "-b" in args else ["64M"]
    subprocess.run(["qemu-img", "create", "-q", *args, str(target), *size], check=True)
    data = target.read_bytes()
    if refusal:
        with pytest.raises(UnsafeImage, match=refusal):
            inspect_bytes(data, declared)
    else:
        assert inspect_bytes(data, declared) >= 64 * MiB
