"""The volume service as a scaled-out cloud runs it: PostgreSQL for its
database and RabbitMQ between volume-api, volume-scheduler and
volume-manager (each a throwaway server started here, stopped by PID).
Quota checks hold under concurrent creates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from pocketstack import config
from pocketstack.core import rpc as core_rpc
from pocketstack.runtime import Runtime
from pocketstack.testing.postgres import PostgresCluster
from pocketstack.testing.rabbitmq import RabbitBroker
from pocketstack.volume.backends.fake import FakeBackend
from pocketstack.volume.unit import VolumeUnit
from tests.unit.volume.conftest import PROJECT_A, Api, FakeValidator

pytestmark = [pytest.mark.postgres, pytest.mark.rabbit]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[PostgresCluster, RabbitBroker]]:
    pg = PostgresCluster.start()
    try:
        broker = RabbitBroker.start()
        try:
            yield pg, broker
        finally:
            broker.stop()
    finally:
        pg.stop()


@pytest.fixture
async def api(servers, tmp_path) -> AsyncIterator[Api]:  # noqa: ANN001
    pg, broker = servers
    cfg = config.Config(state_dir=tmp_path, database_url=pg.database_url(tmp_path.name[-12:]),
                        transport_url=broker.url)
    cfg.volume.report_interval = 3600
    http = httpx.AsyncClient(base_url="http://127.0.0.1:1")
    rpc = await core_rpc.connect(cfg)
    unit = VolumeUnit(Runtime(cfg, http, validator=FakeValidator(), rpc=rpc),
                      backend=FakeBackend(total_gb=1000))
    await unit.start()
    a = Api(unit)
    try:
        yield a
    finally:
        await a.client.aclose()
        await unit.stop()
        await rpc.close()
        await http.aclose()


async def test_walk_on_postgres_and_rabbitmq(api):
    vol = await api.create_volume(1, name="v1", metadata={"k": "v"})
    await api.wait_volume(vol["id"], "available")
    r = await api.get("/v3/volumes/detail", params={"metadata": '{"k": "v"}'})
    assert [v["id"] for v in r.json()["volumes"]] == [vol["id"]]
    snap = (await api.post("/v3/snapshots", {"snapshot": {"volume_id": vol["id"]}})).json()
    await api.wait(f"/v3/snapshots/{snap['snapshot']['id']}", "snapshot", "available")
    clone = await api.create_volume(2, snapshot_id=snap["snapshot"]["id"])
    await api.wait_volume(clone["id"], "available")
    att = (await api.post("/v3/attachments", {"attachment": {
        "volume_uuid": vol["id"], "connector": {"host": "c1"}}})).json()["attachment"]
    assert att["connection_info"]["driver_volume_type"] == "fake"  # a call over RabbitMQ
    assert (await api.post(f"/v3/attachments/{att['id']}/action",
                           {"os-complete": {}})).status_code == 204
    assert (await api.get(f"/v3/volumes/{vol['id']}")).json()["volume"]["status"] == "in-use"


async def test_concurrent_creates_never_overshoot_the_quota(api):
    await api.put(f"/v3/os-quota-sets/{PROJECT_A}", {"quota_set": {"volumes": 5}},
                  user="admin")
    answers = await asyncio.gather(*(api.post("/v3/volumes", {"volume": {"size": 1}})
                                     for _ in range(12)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [202] * 5 + [413] * 7
