"""The REST client the scheduler and compute agents use, against the real app."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx
import pytest

from pocketstack.core import exceptions as exc
from pocketstack.placement.client import PlacementClient


@pytest.fixture
async def requests_seen():
    return []


@pytest.fixture
async def client(app, requests_seen):
    async def count(request: httpx.Request) -> None:
        requests_seen.append(f"{request.method} {request.url.path}")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 event_hooks={"request": [count]}) as http:
        yield PlacementClient(http, "http://placement.test/", "service")


def new_uuid() -> str:
    return str(uuid.uuid4())


async def compute_node(client, name="cn1", vcpu=8, ram=4096, **kw):
    rp = await client.ensure_provider(new_uuid(), name, **kw)
    await client.set_inventories(rp.uuid, {"VCPU": {"total": vcpu, "allocation_ratio": 1.0},
                                           "MEMORY_MB": {"total": ram}})
    return rp


async def test_ensure_provider_creates_once_then_returns_it(client):
    u = new_uuid()
    first = await client.ensure_provider(u, "cn1")
    again = await client.ensure_provider(u, "cn1")
    assert first.uuid == again.uuid == u and first.root_provider_uuid == u
    child = await client.ensure_provider(new_uuid(), "cn1-numa0", parent_uuid=u)
    assert child.parent_provider_uuid == u and child.root_provider_uuid == u
    with pytest.raises(exc.Conflict):  # the name belongs to another provider
        await client.ensure_provider(new_uuid(), "cn1")


async def test_unchanged_inventory_report_costs_no_request(client, requests_seen):
    rp = await compute_node(client)
    requests_seen.clear()
    gen = await client.set_inventories(rp.uuid, {"VCPU": {"total": 8},
                                                 "MEMORY_MB": {"total": 4096}})
    assert requests_seen == [] and gen == 1


async def test_inventory_write_retries_after_a_generation_conflict(client):
    rp = await compute_node(client)
    # A claim bumps the provider generation behind the cached one.
    assert await client.claim(new_uuid(), {rp.uuid: {"VCPU": 2}}, "p", "u")
    gen = await client.set_inventories(rp.uuid, {"VCPU": {"total": 16},
                                                 "MEMORY_MB": {"total": 4096}})
    assert gen == 3
    assert (await client.get_inventories(rp.uuid))[1]["VCPU"]["total"] == 16


async def test_inventory_in_use_cannot_be_removed(client):
    rp = await compute_node(client)
    assert await client.claim(new_uuid(), {rp.uuid: {"MEMORY_MB": 512}}, "p", "u")
    with pytest.raises(exc.Conflict) as err:
        await client.set_inventories(rp.uuid, {"VCPU": {"total": 8}})
    assert err.value.extra["code"] == "placement.inventory.inuse"


async def test_traits_and_aggregates(client):
    rp = await compute_node(client)
    await client.ensure_traits(["CUSTOM_GOLD"])
    await client.set_traits(rp.uuid, ["COMPUTE_NODE", "CUSTOM_GOLD"])
    assert await client.get_traits(rp.uuid) == ["COMPUTE_NODE", "CUSTOM_GOLD"]
    agg = new_uuid()
    await client.set_aggregates(rp.uuid, [agg])
    assert await client.get_aggregates(rp.uuid) == [agg]
    with pytest.raises(exc.BadRequest):
        await client.set_traits(rp.uuid, ["CUSTOM_UNKNOWN"])


async def test_candidates_filter_by_traits_aggregates_tree_and_limit(client):
    a = await compute_node(client, "a")
    b = await compute_node(client, "b")
    small = await compute_node(client, "small", vcpu=1)
    agg = new_uuid()
    await client.set_traits(a.uuid, ["HW_CPU_X86_AVX2"])
    await client.set_aggregates(b.uuid, [agg])

    async def rps(**kw):
        c = await client.allocation_candidates({"VCPU": 2, "MEMORY_MB": 512}, **kw)
        return [next(iter(r)) for r in c.allocation_requests]

    assert await rps() == [a.uuid, b.uuid]
    assert await rps(required=["HW_CPU_X86_AVX2"]) == [a.uuid]
    assert await rps(forbidden=["HW_CPU_X86_AVX2"]) == [b.uuid]
    assert await rps(member_of=[agg]) == [b.uuid]
    assert await rps(in_tree=b.uuid) == [b.uuid]
    assert await rps(limit=1) == [a.uuid]
    assert small.uuid not in await rps()
    c = await client.allocation_candidates({"VCPU": 2})
    summary = c.provider_summaries[a.uuid]
    assert summary["resources"]["VCPU"] == {"capacity": 8, "used": 0}
    assert summary["traits"] == ["HW_CPU_X86_AVX2"]
    assert c.allocation_requests[0] == {a.uuid: {"VCPU": 2}}


async def test_claim_read_release(client):
    rp = await compute_node(client, vcpu=4)
    consumer = new_uuid()
    assert await client.claim(consumer, {rp.uuid: {"VCPU": 3, "MEMORY_MB": 1024}}, "p", "u")
    held = await client.get_allocations(consumer)
    assert held.allocations == {rp.uuid: {"VCPU": 3, "MEMORY_MB": 1024}}
    assert (held.consumer_generation, held.project_id, held.user_id) == (1, "p", "u")
    # Over capacity, and a stale or missing consumer generation: False, nothing changes.
    assert not await client.claim(new_uuid(), {rp.uuid: {"VCPU": 2}}, "p", "u")
    assert not await client.claim(consumer, {rp.uuid: {"VCPU": 1}}, "p", "u")
    assert await client.claim(consumer, {rp.uuid: {"VCPU": 1}}, "p", "u", consumer_generation=1)
    assert await client.provider_usages(rp.uuid) == {"VCPU": 1, "MEMORY_MB": 0}
    assert await client.usages("p") == {"VCPU": 1}
    assert await client.provider_allocations(rp.uuid) == {consumer: {"VCPU": 1}}
    assert await client.delete_allocations(consumer)
    assert not await client.delete_allocations(consumer)
    assert (await client.get_allocations(consumer)).consumer_generation is None
    assert await client.provider_usages(rp.uuid) == {"VCPU": 0, "MEMORY_MB": 0}


async def test_move_allocations_to_a_migration_consumer(client):
    rp = await compute_node(client, vcpu=4)
    instance, migration = new_uuid(), new_uuid()
    assert await client.claim(instance, {rp.uuid: {"VCPU": 4}}, "p", "u")
    assert await client.move_allocations(instance, migration)
    assert (await client.get_allocations(instance)).allocations == {}
    moved = await client.get_allocations(migration)
    assert moved.allocations == {rp.uuid: {"VCPU": 4}} and moved.consumer_type == "MIGRATION"
    assert await client.provider_usages(rp.uuid) == {"VCPU": 4, "MEMORY_MB": 0}


async def test_delete_provider(client):
    rp = await compute_node(client)
    consumer = new_uuid()
    assert await client.claim(consumer, {rp.uuid: {"VCPU": 1}}, "p", "u")
    with pytest.raises(exc.Conflict):
        await client.delete_provider(rp.uuid)
    await client.delete_allocations(consumer)
    assert await client.delete_provider(rp.uuid)
    assert await client.get_provider(rp.uuid) is None


async def test_concurrent_claims_never_overcommit(client):
    """200 concurrent claims into room for 100 (4 hosts of 10 VCPUs at ratio 2.5)."""
    hosts = [await client.ensure_provider(new_uuid(), f"host{i}") for i in range(4)]
    for host in hosts:
        await client.set_inventories(host.uuid, {"VCPU": {"total": 10,
                                                          "allocation_ratio": 2.5}})

    async def claim(i: int) -> bool:
        return await client.claim(new_uuid(), {hosts[i % 4].uuid: {"VCPU": 1}}, "p", "u")

    results = await asyncio.gather(*(claim(i) for i in range(200)))
    assert sum(results) == 100
    for host in hosts:
        assert (await client.provider_usages(host.uuid))["VCPU"] == 25
        allocations = await client.provider_allocations(host.uuid)
        assert sum(a["VCPU"] for a in allocations.values()) == 25


async def test_schedulers_racing_over_candidates_fill_exactly_the_capacity(client):
    """Scheduler-shaped: each takes candidates and claims the first that still fits."""
    hosts = [await compute_node(client, f"host{i}", vcpu=5) for i in range(4)]

    async def schedule() -> bool:
        candidates = await client.allocation_candidates({"VCPU": 1, "MEMORY_MB": 16})
        random.shuffle(candidates.allocation_requests)
        consumer = new_uuid()
        for request in candidates.allocation_requests:
            if await client.claim(consumer, request, "p", "u"):
                return True
        return False

    results = await asyncio.gather(*(schedule() for _ in range(30)))
    assert sum(results) == 20
    for host in hosts:
        assert (await client.provider_usages(host.uuid))["VCPU"] == 5
