"""IPAM and the default security group on a real PostgreSQL (a throwaway
cluster started and stopped by PID): concurrent allocations stay distinct
and inside the pools, a full subnet answers 409, released addresses return.
The `db` fixture here replaces conftest's SQLite one for this module."""

from __future__ import annotations

import asyncio
import ipaddress
import uuid

import pytest

from pocketstack.core.db import Database
from pocketstack.network.unit import MIGRATIONS

pytestmark = pytest.mark.postgres


def error_type(resp):
    return resp.json()["NeutronError"]["type"]


@pytest.fixture(scope="module")
def pg():
    from pocketstack.testing.postgres import PostgresCluster

    cluster = PostgresCluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
async def db(pg):
    url = pg.database_url(f"t{uuid.uuid4().hex[:8]}").replace("{service}", "network")
    database = Database(url, MIGRATIONS)
    await database.start()
    yield database
    await database.close()


async def test_concurrent_allocation_on_postgres(net_api):
    await net_api.put("/quotas/p1", {"quota": {"port": -1}})
    alice = net_api.as_("alice")
    net = await alice.network()
    sn = await alice.subnet(net["id"], "10.0.0.0/26")  # 61 addresses
    results = await asyncio.gather(*[
        alice.request("POST", "/ports", json={"port": {"network_id": net["id"]}})
        for _ in range(100)])
    created = [r.json()["port"] for r in results if r.status_code == 201]
    refused = [r for r in results if r.status_code != 201]
    assert len(created) == 61, {r.status_code for r in refused}
    assert {error_type(r) for r in refused} == {"IpAddressGenerationFailure"}
    addrs = [p["fixed_ips"][0]["ip_address"] for p in created]
    assert len(set(addrs)) == 61
    pool = sn["allocation_pools"][0]
    lo, hi = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
    assert all(lo <= ipaddress.ip_address(a) <= hi for a in addrs)
    await asyncio.gather(*[alice.delete(f"/ports/{p['id']}") for p in created[::2]])
    again = await asyncio.gather(*[
        alice.request("POST", "/ports", json={"port": {"network_id": net["id"]}})
        for _ in range(40)])
    assert sorted(r.status_code for r in again) == [201] * 31 + [409] * 9
    now = {r.json()["port"]["fixed_ips"][0]["ip_address"] for r in again
           if r.status_code == 201} | set(addrs[1::2])
    assert len(now) == 61


async def test_racing_for_one_address_on_postgres(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    await alice.subnet(net["id"], "10.0.0.0/24")
    body = {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.0.77"}]}}
    results = await asyncio.gather(*[alice.request("POST", "/ports", json=body)
                                     for _ in range(10)])
    assert sorted(r.status_code for r in results) == [201] + [409] * 9


async def test_default_group_made_once_under_concurrency(net_api):
    alice = net_api.as_("alice")
    results = await asyncio.gather(*[alice.get("/security-groups") for _ in range(10)])
    ids = {g["id"] for r in results for g in r.json()["security_groups"]}
    assert len(ids) == 1
