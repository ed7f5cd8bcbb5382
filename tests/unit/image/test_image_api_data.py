"""Image data: upload and download (ranges, 204), hashes and virtual size,
refused and interrupted uploads, quotas and the size cap, staging and the
glance-direct import, and that deleting an image removes its data."""

from __future__ import annotations

import asyncio
import hashlib
import struct

import httpx
import pytest

from pocketstack.image.cirros import empty_qcow2
from pocketstack.image.unit import ImageUnit

from .image_harness import USERS, Api, make_config, validate


def hostile_qcow2() -> bytes:
    """A qcow2 whose backing file is /etc/passwd."""
    data = bytearray(empty_qcow2(virtual_size=1 << 20))
    struct.pack_into(">QI", data, 8, 1024, len(b"/etc/passwd"))
    data[1024:1024 + 11] = b"/etc/passwd"
    return bytes(data)


def files_in(unit: ImageUnit) -> list[str]:
    root = unit.images.data_store.root
    return sorted(p.name for p in root.iterdir())


async def test_upload_then_download(api, unit):
    data = empty_qcow2()
    image = await api.create(disk_format="qcow2")
    r = await api.upload(image["id"], data)
    assert r.status_code == 204, r.text
    shown = (await api.get(f"/v2/images/{image['id']}")).json()
    assert shown["status"] == "active" and shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert shown["virtual_size"] == 112 << 20 and shown["stores"] == "file"
    r = await api.get(f"/v2/images/{image['id']}/file")
    assert r.status_code == 200 and r.content == data
    assert r.headers["Content-MD5"] == shown["checksum"]
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert int(r.headers["Content-Length"]) == len(data)
    assert files_in(unit) == [image["id"]]


async def test_raw_virtual_size_is_its_size(api):
    image = await api.create()
    await api.upload(image["id"], b"x" * 3000)
    assert (await api.get(f"/v2/images/{image['id']}")).json()["virtual_size"] == 3000


@pytest.mark.parametrize("header,status,body,content_range", [
    ("bytes=0-3", 206, b"0123", "bytes 0-3/10"),
    ("bytes=8-", 206, b"89", "bytes 8-9/10"),
    ("bytes=-3", 206, b"789", "bytes 7-9/10"),
    ("bytes=5-100", 206, b"56789", "bytes 5-9/10"),
    ("bytes=0-9", 200, b"0123456789", None),
    ("bytes=10-", 416, None, "bytes */10"),
    ("bytes=4-2", 416, None, "bytes */10"),
    ("bytes=0-1,3-4", 416, None, None),
    ("chars=0-1", 416, None, None),
])
async def test_download_ranges(api, header, status, body, content_range):
    image = await api.create()
    await api.upload(image["id"], b"0123456789")
    r = await api.get(f"/v2/images/{image['id']}/file", headers={"Range": header})
    assert r.status_code == status, r.text
    if body is not None:
        assert r.content == body
    if content_range:
        assert r.headers["Content-Range"] == content_range
    if status == 206:
        assert "Content-MD5" not in r.headers


async def test_download_without_data_is_204(api):
    image = await api.create()
    r = await api.get(f"/v2/images/{image['id']}/file")
    assert r.status_code == 204 and r.content == b""


async def test_upload_rules(api):
    image = await api.create()
    path = f"/v2/images/{image['id']}/file"
    r = await api.put(path, content=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert (await api.upload(image["id"], b"x", as_="reader")).status_code == 403
    assert (await api.upload(image["id"], b"x", as_="alt")).status_code == 404
    assert (await api.upload(image["id"], b"x")).status_code == 204
    r = await api.upload(image["id"], b"y")
    assert r.status_code == 409
    bare = (await api.post("/v2/images", json={"name": "no formats"})).json()
    assert (await api.upload(bare["id"], b"x")).status_code == 400


async def test_chunked_upload(api):
    image = await api.create()

    async def chunks():
        for i in range(40):
            yield bytes([i]) * 100_000

    r = await api.put(f"/v2/images/{image['id']}/file", content=chunks(),
                      headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204
    shown = (await api.get(f"/v2/images/{image['id']}")).json()
    expected = b"".join(bytes([i]) * 100_000 for i in range(40))
    assert shown["size"] == 4_000_000
    assert shown["os_hash_value"] == hashlib.sha512(expected).hexdigest()
    assert (await api.get(f"/v2/images/{image['id']}/file")).content == expected


@pytest.mark.parametrize("declared,data", [
    ("qcow2", "hostile"),
    ("raw", "hostile"),
    ("raw", "qcow2"),
    ("qcow2", "raw"),
    ("vmdk", "qcow2"),
])
async def test_refused_data_leaves_image_queued_and_no_file(api, unit, declared, data):
    payload = {"hostile": hostile_qcow2(), "qcow2": empty_qcow2(), "raw": b"\0" * 70000}[data]
    image = await api.create(disk_format=declared)
    r = await api.upload(image["id"], payload)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "400 Bad Request"
    if data == "hostile":
        assert "backing file" in r.json()["message"]
    shown = (await api.get(f"/v2/images/{image['id']}")).json()
    assert shown["status"] == "queued" and shown["size"] is None and shown["checksum"] is None
    assert files_in(unit) == []
    assert (await api.get(f"/v2/images/{image['id']}/file")).status_code == 204


async def test_interrupted_upload_leaves_image_queued(unit):
    ctx = USERS["demo"]
    image = await unit.images.create(ctx, {"disk_format": "raw", "container_format": "bare"})

    async def broken():
        yield b"a" * (9 << 20)  # more than one batch: something reached the disk
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await unit.transfers.upload(ctx, image.id, broken(), None)
    assert (await unit.images.get(ctx, image.id)).status == "queued"
    assert files_in(unit) == []


async def test_cancelled_upload_leaves_image_queued(unit):
    ctx = USERS["demo"]
    image = await unit.images.create(ctx, {"disk_format": "raw", "container_format": "bare"})
    started = asyncio.Event()

    async def slow():
        yield b"a" * (9 << 20)
        started.set()
        await asyncio.sleep(3600)
        yield b"never"

    task = asyncio.create_task(unit.transfers.upload(ctx, image.id, slow(), None))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await unit.images.get(ctx, image.id)).status == "queued"
    assert files_in(unit) == []


async def test_recovery_after_a_crash_mid_upload(tmp_path):
    config = make_config(tmp_path)
    first = ImageUnit(config, validate)
    await first.start()
    image = await first.images.create(USERS["demo"], {"disk_format": "raw",
                                                      "container_format": "bare"})
    async with first.db.write() as s:  # as if the process died while saving
        from pocketstack.image.models import Image
        (await s.get(Image, image.id)).status = "saving"
    await first.stop()
    (first.images.data_store.root / f".tmp-{image.id}-dead").write_bytes(b"partial")
    second = ImageUnit(config, validate)
    await second.start()
    try:
        assert (await second.images.get(USERS["demo"], image.id)).status == "queued"
        assert files_in(second) == []
    finally:
        await second.stop()


async def test_delete_removes_data(api, unit):
    image = await api.create()
    await api.upload(image["id"], b"payload")
    assert files_in(unit) == [image["id"]]
    assert (await api.delete(f"/v2/images/{image['id']}")).status_code == 204
    assert files_in(unit) == []


async def limited_api(tmp_path, **limits):
    unit = ImageUnit(make_config(tmp_path, **limits), validate)
    await unit.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=unit.app),
                               base_url="http://image.test")
    return unit, client, Api(client)


async def test_size_cap(tmp_path):
    unit, client, api = await limited_api(tmp_path, image_size_cap=1000)
    try:
        image = await api.create()
        r = await api.upload(image["id"], b"x" * 1001)
        assert r.status_code == 413
        assert (await api.get(f"/v2/images/{image['id']}")).json()["status"] == "queued"

        async def unsized():
            yield b"x" * 600
            yield b"x" * 600

        r = await api.put(f"/v2/images/{image['id']}/file", content=unsized(),
                          headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 413 and files_in(unit) == []
        assert (await api.upload(image["id"], b"x" * 1000)).status_code == 204
    finally:
        await client.aclose()
        await unit.stop()


async def test_quotas_per_project(tmp_path):
    unit, client, api = await limited_api(tmp_path, image_count_total=2, image_size_total=100,
                                          image_stage_total=50)
    try:
        first = await api.create()
        assert (await api.upload(first["id"], b"x" * 80)).status_code == 204
        second = await api.create()
        r = await api.upload(second["id"], b"x" * 30)
        assert r.status_code == 413 and "quota" in r.json()["message"]
        assert (await api.upload(second["id"], b"x" * 20)).status_code == 204
        r = await api.post("/v2/images", json={"name": "third"})
        assert r.status_code == 413
        other = await api.create(as_="alt")  # another project has its own quota
        r = await api.put(f"/v2/images/{other['id']}/stage", content=b"x" * 51, as_="alt",
                          headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 413
        assert (await api.get(f"/v2/images/{other['id']}", as_="alt")).json()["status"] == \
            "queued"
    finally:
        await client.aclose()
        await unit.stop()


async def test_store_failure_is_not_a_500(tmp_path):
    from pocketstack.image.stores.memory import MemoryStore

    unit = ImageUnit(make_config(tmp_path), validate, MemoryStore(fail_write_after=10),
                     MemoryStore())
    await unit.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=unit.app),
                                     base_url="http://image.test") as client:
            api = Api(client)
            image = await api.create()
            r = await api.upload(image["id"], b"x" * 100)
            assert r.status_code == 503
            assert (await api.get(f"/v2/images/{image['id']}")).json()["status"] == "queued"
            assert unit.images.data_store.blobs == {}
    finally:
        await unit.stop()


async def wait_status(api, image_id: str, status: str) -> dict:
    for _ in range(200):
        body = (await api.get(f"/v2/images/{image_id}")).json()
        if body["status"] == status:
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"image stayed {body['status']}")


async def test_stage_and_glance_direct_import(api, unit):
    data = empty_qcow2()
    image = await api.create(disk_format="qcow2")
    path = f"/v2/images/{image['id']}"
    r = await api.post(path + "/import", json={"method": {"name": "glance-direct"}})
    assert r.status_code == 409
    r = await api.put(path + "/stage", content=data,
                      headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204
    assert (await api.get(path)).json()["status"] == "uploading"
    assert (await api.post(path + "/import", json={})).status_code == 400
    r = await api.post(path + "/import", json={"method": {"name": "web-download",
                                                          "uri": "http://x"}})
    assert r.status_code == 400
    r = await api.post(path + "/import", json={"method": {"name": "glance-direct"}})
    assert r.status_code == 202
    body = await wait_status(api, image["id"], "active")
    assert body["checksum"] == hashlib.md5(data).hexdigest()
    assert body["virtual_size"] == 112 << 20
    assert (await api.get(path + "/file")).content == data
    assert list(unit.images.staging.root.iterdir()) == []


async def test_staging_refuses_hostile_data(api, unit):
    image = await api.create(disk_format="qcow2")
    path = f"/v2/images/{image['id']}"
    r = await api.put(path + "/stage", content=hostile_qcow2(),
                      headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 400
    assert (await api.get(path)).json()["status"] == "queued"
    assert list(unit.images.staging.root.iterdir()) == []


async def test_import_checks_the_staged_data_again(api, unit):
    image = await api.create(disk_format="qcow2")
    path = f"/v2/images/{image['id']}"
    r = await api.put(path + "/stage", content=empty_qcow2(),
                      headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204
    (staged,) = unit.images.staging.root.iterdir()
    staged.write_bytes(hostile_qcow2())  # changed behind the service's back
    r = await api.post(path + "/import", json={"method": {"name": "glance-direct"}})
    assert r.status_code == 202
    await wait_status(api, image["id"], "queued")
    assert files_in(unit) == [] and list(unit.images.staging.root.iterdir()) == []


async def test_image_deleted_during_upload_keeps_no_data(unit):
    ctx = USERS["demo"]
    image = await unit.images.create(ctx, {"disk_format": "raw", "container_format": "bare"})
    halfway = asyncio.Event()
    go_on = asyncio.Event()

    async def data():
        yield b"a" * (9 << 20)
        halfway.set()
        await go_on.wait()
        yield b"b" * 100

    from pocketstack.core import exceptions as exc

    task = asyncio.create_task(unit.transfers.upload(ctx, image.id, data(), None))
    await halfway.wait()
    await unit.images.delete(ctx, image.id)
    go_on.set()
    with pytest.raises(exc.Conflict):
        await task
    assert files_in(unit) == []
