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
