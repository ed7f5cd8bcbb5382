"""The REST client other services use, against the real app in-process."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pocketstack.core import exceptions as exc
from pocketstack.image.client import ImageClient, ImageCorrupt

from .image_harness import USERS


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


@pytest.fixture
async def client(unit):
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=unit.app),
                             base_url="http://image.test")
    yield ImageClient(http, "http://image.test")
    await http.aclose()


def listing(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


def demo():
    return USERS["demo"].model_copy(update={"auth_token": "demo"})


async def test_create_upload_get_download(client, work: Path):
    source = work / "src.img"
    source.write_bytes(b"disk bytes" * 1_000_000)
    image = await client.create(demo(), name="c", disk_format="raw", container_format="bare")
    await client.upload(demo(), image["id"], source)
    meta = await client.get(demo(), image["id"])
    assert meta["status"] == "active" and meta["size"] == source.stat().st_size
    got = await client.download(demo(), image["id"], work / "dest.img")
    assert got.path.read_bytes() == source.read_bytes()
    assert got.hash_value == meta["os_hash_value"] and got.checksum == meta["checksum"]
    assert listing(work) == ["dest.img", "src.img"]


async def test_download_refuses_corrupt_data(client, unit, work: Path):
    image = await client.create(demo(), name="c", disk_format="raw", container_format="bare")
    await client.upload(demo(), image["id"], b"original")
    (unit.images.data_store.root / image["id"]).write_bytes(b"tampered")
    with pytest.raises(ImageCorrupt):
        await client.download(demo(), image["id"], work / "dest.img")
    assert listing(work) == []


async def test_errors_map_to_core_exceptions(client, work: Path):
    with pytest.raises(exc.NotFound, match="No image found"):
        await client.get(demo(), "0c0ffee0-0000-0000-0000-000000000000")
    image = await client.create(demo(), name="q", disk_format="raw", container_format="bare")
    with pytest.raises(exc.Conflict):
        await client.download(demo(), image["id"], work / "x")
    with pytest.raises(exc.Unauthorized):
        await client.get(USERS["demo"], image["id"])
    alt = USERS["alt"].model_copy(update={"auth_token": "alt"})
    with pytest.raises(exc.NotFound):
        await client.download(alt, image["id"], work / "x")


async def test_data_streams_the_bytes_and_local_data_is_a_verified_copy(client, work: Path):
    image = await client.create(demo(), name="c", disk_format="raw", container_format="bare")
    await client.upload(demo(), image["id"], b"x" * 3_000_000)
    assert b"".join([c async for c in client.data(demo(), image["id"])]) == b"x" * 3_000_000
    meta = await client.get(demo(), image["id"])
    async with client.local_data(demo(), meta, work / "scratch") as path:
        assert path.parent == work / "scratch" and path.read_bytes() == b"x" * 3_000_000
    assert listing(work / "scratch") == []
    with pytest.raises(exc.NotFound):
        [c async for c in client.data(demo(), "0" * 32)]


async def test_local_data_reads_a_file_location_in_place_only_when_allowed(client, work: Path):
    own = work / "store.img"
    own.write_bytes(b"in place")
    image = {"id": "i-1", "direct_url": own.as_uri()}
    client.direct_schemes = ("file",)
    async with client.local_data(demo(), image, work / "scratch") as path:
        assert path == own
    client.direct_schemes = ()
    with pytest.raises(exc.NotFound):  # not allowed in place: downloaded, and it is unknown
        async with client.local_data(demo(), image, work / "scratch"):
            pass


async def test_an_unreachable_image_service_is_service_unavailable(work: Path):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        client = ImageClient(http, "http://image.test")
        with pytest.raises(exc.ServiceUnavailable):
            await client.get(demo(), "i-1")
