"""Volumes from images and volumes uploaded to images, on the file backend
(real qemu-img), with a stand-in image API."""

from __future__ import annotations

import subprocess

import pytest

from pocketstack.volume.backends.file import FileBackend


@pytest.fixture
def backend(tmp_path):  # noqa: ANN001, ANN201
    return FileBackend(tmp_path / "volumes", "qcow2")


def qcow2_bytes(tmp_path, size: str = "64M") -> bytes:  # noqa: ANN001
    path = tmp_path / "src.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), size], check=True)
    return path.read_bytes()


async def test_volume_from_image(api, images, backend, tmp_path):
    images.add("cirros", qcow2_bytes(tmp_path), "qcow2", virtual_size=64 << 20)
    vol = await api.create_volume(1, imageRef="cirros", name="v2")
    done = await api.wait_volume(vol["id"], "available")
    assert done["bootable"] == "true"
    assert done["volume_image_metadata"]["image_id"] == "cirros"
    assert done["volume_image_metadata"]["disk_format"] == "qcow2"
    assert backend.volume_path(vol["id"]).exists()
    assert list(api.unit.cfg.state_dir.joinpath("volume-scratch").iterdir()) == []


async def test_image_checks_at_the_api(api, images, tmp_path):
    images.add("big", b"\0" * 512, "raw", virtual_size=3 << 30)
    images.add("needs-2", b"\0" * 512, "raw", min_disk=2)
    images.add("queued", b"", "raw", status="queued")
    for ref in ("big", "needs-2", "queued", "missing"):
        r = await api.post("/v3/volumes", {"volume": {"size": 1, "imageRef": ref}})
        assert r.status_code == 400, (ref, r.text)


async def test_bad_image_data_ends_in_error(api, images):
    evil = b"QFI\xfb" + b"\0" * 508  # declares qcow2, is not a valid one
    images.add("broken", evil, "qcow2")
    vol = await api.create_volume(1, imageRef="broken")
    await api.wait_volume(vol["id"], "error")
    msg = (await api.get("/v3/messages")).json()["messages"][0]["user_message"]
    assert "qemu-img" in msg


async def test_upload_to_image(api, images, tmp_path):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "available")
    r = await api.post(f"/v3/volumes/{vol['id']}/action", {"os-volume_upload_image": {
        "image_name": "from-volume", "disk_format": "qcow2"}})
    assert r.status_code == 202, r.text
    up = r.json()["os-volume_upload_image"]
    assert up["status"] == "uploading" and up["image_name"] == "from-volume"
    await api.wait_volume(vol["id"], "available")
    assert images.images[up["image_id"]]["status"] == "active"
    assert images.data[up["image_id"]][:4] == b"QFI\xfb"
    r = await api.post(f"/v3/volumes/{vol['id']}/action", {"os-volume_upload_image": {
        "image_name": "x", "visibility": "public"}})
    assert r.status_code == 403


async def test_direct_url_is_read_in_place(api, images, backend, tmp_path):
    """A file:// direct_url (image service on this host) is read, not downloaded."""
    path = tmp_path / "in-place.raw"
    path.write_bytes(b"\x7e" * 4096)
    images.add("local", b"\x11" * 4096, "raw", direct_url=f"file://{path}")
    vol = await api.create_volume(1, imageRef="local")
    await api.wait_volume(vol["id"], "available")
    assert first_byte(backend.volume_path(vol["id"])) == "7e"


def first_byte(path) -> str:  # noqa: ANN001
    out = subprocess.run(["qemu-io", "-f", "qcow2", "-c", "read -v 0 1", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return out.split(":", 1)[1].split()[0]
