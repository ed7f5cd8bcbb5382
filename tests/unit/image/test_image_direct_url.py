"""`image.show_image_direct_url` (Glance's option): an active image's file://
location shows as direct_url on GET /v2/images/{id}; off by default."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from pocketstack.image.unit import ImageUnit

from .image_harness import Api, make_config, validate


async def shown(tmp_path: Path, **image: object) -> tuple[dict, dict]:
    unit = ImageUnit(make_config(tmp_path, **image), validate)
    await unit.start()
    try:
        transport = httpx.ASGITransport(app=unit.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://image.test") as c:
            api = Api(c)
            queued = await api.create(name="x")
            before = (await api.get(f"/v2/images/{queued['id']}")).json()
            assert (await api.upload(queued["id"], b"data")).status_code == 204
            return before, (await api.get(f"/v2/images/{queued['id']}")).json()
    finally:
        await unit.stop()


async def test_direct_url_off_by_default(tmp_path):
    _, active = await shown(tmp_path)
    assert "direct_url" not in active


async def test_direct_url_when_enabled(tmp_path):
    queued, active = await shown(tmp_path, show_image_direct_url=True)
    assert "direct_url" not in queued
    path = Path(active["direct_url"].removeprefix("file://"))
    assert active["direct_url"].startswith("file:///")
    assert await asyncio.to_thread(path.read_bytes) == b"data"
