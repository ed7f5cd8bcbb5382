"""The LVM backend on a volume group the test makes on a loop device.

This machine's kernel has no device-mapper, so logical volumes cannot be
activated: the backend runs with activation off (LVM metadata only). What
that covers: creating, growing and removing logical volumes, capacity from
`vgs`, the connection info; and that every operation needing a block device
or device-mapper (snapshots, clones, images) fails with a clear reason.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from pocketstack.volume.backends.base import BackendError, ImageSource, SnapshotRef, VolumeRef
from pocketstack.volume.backends.lvm import LVMBackend

ENV = dict(os.environ, LVM_SUPPRESS_FD_WARNINGS="1")


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, env=ENV,
                          stdin=subprocess.DEVNULL).stdout


def lvs(vg: str) -> dict[str, int]:
    out = run("lvs", "--config", "global{activation=0}", "--noheadings", "--units", "b",
              "--nosuffix", "-o", "lv_name,lv_size", vg)
    return {name: int(size) for name, size in (line.split() for line in out.splitlines())}


@pytest.fixture
def volume_group(tmp_path) -> Iterator[str]:  # noqa: ANN001
    """A volume group on a 3 GiB sparse file behind a loop device; all removed after."""
    image = tmp_path / "pv.img"
    with open(image, "wb") as f:
        f.truncate(3 << 30)
    loop = run("losetup", "--find", "--show", str(image)).strip()
    vg = f"pstest-{uuid.uuid4().hex[:8]}"
    try:
        run("pvcreate", "-q", loop)
        run("vgcreate", "-q", vg, loop)
        yield vg
    finally:
        subprocess.run(["vgremove", "-f", "--config", "global{activation=0}", vg],
                       capture_output=True, env=ENV)
        subprocess.run(["pvremove", "-q", loop], capture_output=True, env=ENV)
        run("losetup", "-d", loop)


async def test_lvm_volumes_on_a_loop_device(volume_group, tmp_path):
    """A 1 GiB volume, grown to 2, a snapshot; what needs a block device fails clearly."""
    vg = volume_group
    b = LVMBackend(vg, activation=False)
    v = VolumeRef("v1", 1)
    await b.create_volume(v)
    assert lvs(vg)["volume-v1"] == 1 << 30
    cap = await b.capacity()
    assert round(cap.total_gb - cap.free_gb, 2) == 1.0
    await b.extend_volume(v, 2)
    assert lvs(vg)["volume-v1"] == 2 << 30
    snap = SnapshotRef("s1", "v1", 1)
    with pytest.raises(BackendError, match="device-mapper"):
        await b.create_snapshot(snap, v)  # LVM snapshots need device-mapper even here
    await b.delete_snapshot(snap)  # nothing to delete: no error
    info = b.connection_info(v, {"host": "h"})
    assert info["driver_volume_type"] == "local"
    assert info["data"]["device_path"] == f"/dev/{vg}/volume-v1"
    for op in (b.clone_volume(VolumeRef("v2", 1), v),
               b.create_volume_from_snapshot(VolumeRef("v3", 1), snap),
               b.copy_volume_to_image(v, tmp_path / "out", "raw")):
        with pytest.raises(BackendError, match="activation is disabled"):
            await op
    raw = tmp_path / "img.raw"
    raw.write_bytes(b"\0" * 4096)
    with pytest.raises(BackendError, match="activation is disabled"):
        await b.copy_image_to_volume(VolumeRef("v4", 1), ImageSource(raw, "raw"))
    assert set(lvs(vg)) == {"volume-v1"}
    with pytest.raises(BackendError, match="lvcreate failed"):
        await b.create_volume(VolumeRef("huge", 100))
    await b.delete_volume(v)
    assert lvs(vg) == {}


async def test_missing_volume_group_is_a_clear_error():
    with pytest.raises(BackendError, match="vgs failed"):
        await LVMBackend("pstest-does-not-exist", activation=False).capacity()
