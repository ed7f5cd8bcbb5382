"""The image service on a real PostgreSQL (a throwaway cluster, stopped by
PID): the same API exchanges as on SQLite, and two uploads racing for one
image — exactly one wins, the other gets 409."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from pocketstack.config import Config
from pocketstack.image.unit import ImageUnit
from pocketstack.testing.postgres import PostgresCluster

from .image_harness import Api, validate

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def test_api_on_postgres(pg, tmp_path):
    config = Config(state_dir=tmp_path, database_url=pg.database_url("img"),
                    image={"fsync": False})
    unit = ImageUnit(config, validate)
    await unit.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=unit.app),
                                     base_url="http://image.test") as client:
            api = Api(client)
            for name in ("b", None, "a"):
                await api.create(name=name, tags=["t"], k="v")
            page = (await api.get("/v2/images?sort=name:asc&limit=2")).json()
            rest = (await api.get(page["next"])).json()
            names = [i["name"] for i in page["images"] + rest["images"]]
            assert names == [None, "a", "b"]
            image = await api.create(name="race")
            results = await asyncio.gather(*[api.upload(image["id"], b"x" * 100_000)
                                             for _ in range(4)])
            assert sorted(r.status_code for r in results) == [204, 409, 409, 409]
            await api.post(f"/v2/images/{image['id']}/members", json={"member": "p-alt"})
            r = await api.put(f"/v2/images/{image['id']}/members/p-alt",
                              json={"status": "accepted"}, as_="alt")
            assert r.json()["status"] == "accepted"
            assert (await api.get(f"/v2/images/{image['id']}/file", as_="alt")).content == \
                b"x" * 100_000
    finally:
        await unit.stop()
