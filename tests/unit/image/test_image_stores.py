"""The store contract, run against both stores: data is invisible until
commit, abort leaves nothing, reads honour offset and length, delete is
idempotent. And the first-start cirros image."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pocketstack.image.cirros import NAME, empty_qcow2
from pocketstack.image.stores.file import FileStore
from pocketstack.image.stores.memory import MemoryStore
from pocketstack.runtime import BootstrapInfo

from .image_harness import USERS


@pytest.fixture(params=["file", "memory"])
def store(request, tmp_path: Path):
    return FileStore(tmp_path / "images", fsync=True) if request.param == "file" \
        else MemoryStore()


async def read_all(store, location, *args) -> bytes:
    return b"".join([c async for c in store.read(location, *args)])


async def test_write_commit_read(store):
    writer = store.writer("image-1")
    writer.write(b"hello ")
    writer.write(memoryview(b"world" * 300000))
    location = writer.commit()
    data = b"hello " + b"world" * 300000
    assert await store.size(location) == len(data)
    assert await read_all(store, location) == data
    assert await read_all(store, location, 6, 10) == b"worldworld"
    assert await read_all(store, location, len(data) - 3) == data[-3:]
    await store.delete(location)
    await store.delete(location)
    with pytest.raises(FileNotFoundError):
        await store.size(location)


async def test_abort_leaves_nothing(store, tmp_path):
    writer = store.writer("image-2")
    writer.write(b"partial")
    writer.abort()
    writer.abort()
    if isinstance(store, FileStore):
        assert list((tmp_path / "images").iterdir()) == []
    else:
        assert store.blobs == {}


def test_file_store_refuses_unsafe_keys_and_foreign_locations(tmp_path):
    store = FileStore(tmp_path / "images")
    with pytest.raises(ValueError):
        store.writer("../escape")
    with pytest.raises(FileNotFoundError):
        store._path("file:///etc/passwd")


def test_empty_qcow2_is_valid_for_qemu(tmp_path):
    path = tmp_path / "cirros.qcow2"
    path.write_bytes(empty_qcow2())
    subprocess.run(["qemu-img", "check", "-q", str(path)], check=True)
    info = subprocess.run(["qemu-img", "info", str(path)], capture_output=True, text=True,
                          check=True).stdout
    assert "file format: qcow2" in info and "112 MiB" in info


async def test_bootstrap_makes_a_public_cirros_once(unit, api):
    admin = USERS["admin"]
    info = BootstrapInfo(admin_ctx=admin, admin_project_id="p-admin", demo_project_id="p-demo",
                         service_project_id="p-service", admin_user_id="u-admin",
                         demo_user_id="u-demo")
    await unit.bootstrap(info)
    await unit.bootstrap(info)
    images = (await api.get("/v2/images", as_="demo")).json()["images"]
    assert [i["name"] for i in images] == [NAME]
    cirros = images[0]
    assert cirros["visibility"] == "public" and cirros["owner"] == "p-admin"
    assert cirros["status"] == "active" and cirros["disk_format"] == "qcow2"
    assert (await api.get(f"/v2/images/{cirros['id']}/file")).content == empty_qcow2()
