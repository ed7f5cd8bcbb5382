"""The file backend with the real qemu-img (qcow2), and in raw mode."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pocketstack.volume.backends.base import BackendError, GiB, ImageSource, SnapshotRef, VolumeRef
from pocketstack.volume.backends.file import FileBackend


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def info(path: Path) -> dict:
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def write_pattern(backend: FileBackend, volume_id: str, data: bytes) -> None:
    subprocess.run(["qemu-io", "-f", backend.fmt, "-c",
                    f"write -P 0x{data[0]:02x} 0 {len(data)}",
                    str(backend.volume_path(volume_id))], check=True, capture_output=True)


def read_byte(path: Path, fmt: str) -> str:
    out = subprocess.run(["qemu-io", "-f", fmt, "-c", "read -v 0 1", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return out.split(":", 1)[1].split()[0]


@pytest.fixture
def qcow(tmp_path) -> FileBackend:  # noqa: ANN001
    return FileBackend(tmp_path / "vols", "qcow2")


async def test_create_extend_delete(qcow):
    v = VolumeRef("v1", 1)
    await qcow.create_volume(v)
    found = info(qcow.volume_path("v1"))
    assert found["format"] == "qcow2" and found["virtual-size"] == GiB
    assert found["actual-size"] < 1 << 20  # thin
    with pytest.raises(BackendError, match="already exists"):
        await qcow.create_volume(v)
    await qcow.extend_volume(v, 3)
    assert info(qcow.volume_path("v1"))["virtual-size"] == 3 * GiB
    await qcow.delete_volume(v)
    await qcow.delete_volume(v)  # idempotent
    assert not qcow.volume_path("v1").exists()
    assert list(qcow.dir.iterdir()) == []


async def test_snapshot_clone_revert_keep_data(qcow):
    v = VolumeRef("v1", 1)
    await qcow.create_volume(v)
    write_pattern(qcow, "v1", b"\xab" * 4096)
    snap = SnapshotRef("s1", "v1", 1)
    await qcow.create_snapshot(snap, v)
    write_pattern(qcow, "v1", b"\xcd" * 4096)
    await qcow.create_volume_from_snapshot(VolumeRef("v2", 2), snap)
    assert read_byte(qcow.volume_path("v2"), "qcow2") == "ab"
    assert info(qcow.volume_path("v2"))["virtual-size"] == 2 * GiB
    await qcow.clone_volume(VolumeRef("v3", 1), v)
    assert read_byte(qcow.volume_path("v3"), "qcow2") == "cd"
    await qcow.revert_to_snapshot(v, snap)
    assert read_byte(qcow.volume_path("v1"), "qcow2") == "ab"
    await qcow.delete_snapshot(snap)
    assert not qcow.snapshot_path("s1").exists()


async def test_image_to_volume_and_back(qcow, tmp_path):
    raw = tmp_path / "img.raw"
    raw.write_bytes(b"\x5a" * 65536)
    await qcow.copy_image_to_volume(VolumeRef("v1", 1), ImageSource(raw, "raw"))
    assert info(qcow.volume_path("v1"))["virtual-size"] == GiB
    assert read_byte(qcow.volume_path("v1"), "qcow2") == "5a"
    q = tmp_path / "img.qcow2"
    sh("qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(q))
    await qcow.copy_image_to_volume(VolumeRef("v2", 1), ImageSource(q, "qcow2"))
    assert read_byte(qcow.volume_path("v2"), "qcow2") == "5a"
    out = tmp_path / "out.raw"
    await qcow.copy_volume_to_image(VolumeRef("v2", 1), out, "raw")
    assert out.stat().st_size == GiB and out.open("rb").read(1) == b"\x5a"


async def test_untrusted_images_are_refused(qcow, tmp_path):
    big = tmp_path / "big.qcow2"
    sh("qemu-img", "create", "-q", "-f", "qcow2", str(big), "2G")
    with pytest.raises(BackendError, match="doesn't fit"):
        await qcow.copy_image_to_volume(VolumeRef("v1", 1), ImageSource(big, "qcow2"))
    secret = tmp_path / "secret"
    secret.write_bytes(b"host secret")
    evil = tmp_path / "evil.qcow2"
    sh("qemu-img", "create", "-q", "-f", "qcow2", "-b", str(secret), "-F", "raw", str(evil), "1M")
    with pytest.raises(BackendError, match="backing file"):
        await qcow.copy_image_to_volume(VolumeRef("v2", 1), ImageSource(evil, "qcow2"))
    # declared raw but really qcow2: copied as raw bytes, never followed
    await qcow.copy_image_to_volume(VolumeRef("v3", 1), ImageSource(evil, "raw"))
    assert read_byte(qcow.volume_path("v3"), "qcow2") == "51"  # 'Q' of the qcow2 magic
    with pytest.raises(BackendError, match="disk format"):
        await qcow.copy_image_to_volume(VolumeRef("v4", 1), ImageSource(evil, "iso9660"))
    assert sorted(p.name for p in qcow.dir.iterdir()) == ["volume-v3"]  # nothing left over


async def test_raw_mode(tmp_path):
    b = FileBackend(tmp_path / "raw", "raw", capacity_gb=10)
    v = VolumeRef("v1", 1)
    await b.create_volume(v)
    p = b.volume_path("v1")
    assert p.stat().st_size == GiB and p.stat().st_blocks == 0  # sparse
    await b.extend_volume(v, 2)
    assert p.stat().st_size == 2 * GiB
    await b.create_snapshot(SnapshotRef("s1", "v1", 2), v)
    await b.create_volume_from_snapshot(VolumeRef("v2", 3), SnapshotRef("s1", "v1", 2))
    assert b.volume_path("v2").stat().st_size == 3 * GiB
    cap = await b.capacity()
    assert cap.total_gb == 10 and cap.thin and 9.9 < cap.free_gb <= 10
    info = b.connection_info(v, {"host": "h"})
    assert info["driver_volume_type"] == "file"
    assert info["data"] == {"path": str(p), "format": "raw", "name": "volume-v1",
                            "volume_id": "v1", "access_mode": "rw"}


async def test_without_qemu_img_only_raw_images(tmp_path):
    b = FileBackend(tmp_path / "noqemu", "raw")
    b.qemu = False  # as on a machine without qemu-utils
    img = tmp_path / "img.raw"
    img.write_bytes(b"\x42" * 4096)
    await b.copy_image_to_volume(VolumeRef("v1", 1), ImageSource(img, "raw"))
    assert b.volume_path("v1").read_bytes()[:2] == b"\x42\x42"
    with pytest.raises(BackendError, match="without qemu-img"):
        await b.copy_image_to_volume(VolumeRef("v2", 1), ImageSource(img, "qcow2"))
    with pytest.raises(BackendError, match="without qemu-img"):
        await b.copy_volume_to_image(VolumeRef("v1", 1), tmp_path / "out", "qcow2")
    await b.copy_volume_to_image(VolumeRef("v1", 1), tmp_path / "out.raw", "raw")
    assert (tmp_path / "out.raw").stat().st_size == GiB
