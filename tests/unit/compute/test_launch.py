"""The launch flow end to end in-process: API -> scheduler -> agent -> ACTIVE,
and its failures."""

from __future__ import annotations

import asyncio

from pocketstack.compute.remote.placement import provider_uuid
from pocketstack.core.context import RequestContext
from tests.unit.compute.conftest import ARM_IMAGE, start_env, stop_env


async def test_boot_to_active_with_an_address_and_a_claim(env):
    server = await env.boot()
    assert server["status"] == "ACTIVE"
    assert server["OS-EXT-STS:power_state"] == 1
    (addr,) = server["addresses"]["private"]
    assert addr["addr"].startswith("10.0.0.")
    ports = await env.remotes.network.list_ports(None, device_id=server["id"])
    assert len(ports) == 1 and ports[0]["binding:host_id"].startswith("fake-")
    allocs = await env.remotes.placement.allocations(server["id"])
    assert list(allocs.values()) == [{"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}]


async def test_delete_releases_port_and_claim(env):
    server = await env.boot()
    async with env.client() as c:
        assert (await c.delete(f"/v2.1/servers/{server['id']}")).status_code == 204
    assert (await env.wait(server["id"], until=("DELETED",)))["status"] == "DELETED"
    assert await env.remotes.network.list_ports(None, device_id=server["id"]) == []
    assert await env.remotes.placement.allocations(server["id"]) == {}


async def test_no_valid_host_says_which_filter(env):
    server = await env.boot(imageRef=ARM_IMAGE)
    assert server["status"] == "ERROR"
    assert "No valid host was found" in server["fault"]["message"]
    assert "image_properties removed 3" in server["fault"]["message"]
    assert await env.remotes.placement.allocations(server["id"]) == {}


async def test_failed_spawn_is_rescheduled(tmp_path):
    env = await start_env(tmp_path, fake_fail_spawn_on=["fake-1", "fake-2"])
    try:
        servers = [await env.boot(name=f"vm{i}") for i in range(3)]
        assert all(s["status"] == "ACTIVE" for s in servers)
        async with env.client("admin") as c:
            hosts = set()
            for s in servers:
                r = await c.get(f"/v2.1/servers/{s['id']}")
                hosts.add(r.json()["server"]["OS-EXT-SRV-ATTR:host"])
        assert hosts == {"fake-3"}
        for s in servers:
            allocs = await env.remotes.placement.allocations(s["id"])
            assert list(allocs) == [provider_uuid("fake-3")]
    finally:
        await stop_env(env)


async def test_last_attempt_failing_is_error_with_the_driver_message(tmp_path):
    env = await start_env(tmp_path, fake_fail_spawn_on=["fake-1", "fake-2", "fake-3"])
    try:
        server = await env.boot()
        assert server["status"] == "ERROR"
        assert "Fake spawn failure injected" in server["fault"]["message"]
        assert await env.remotes.network.list_ports(None, device_id=server["id"]) == []
        assert await env.remotes.placement.allocations(server["id"]) == {}
    finally:
        await stop_env(env)


async def test_build_timeout_sets_error_and_releases(tmp_path):
    env = await start_env(tmp_path, fake_hosts=1, fake_hang_spawn_on=["fake-1"],
                          build_timeout=1)
    try:
        server = await env.boot(wait=False)
        done = await env.wait(server["id"], seconds=8)
        assert done["status"] == "ERROR"
        assert "build_timeout" in done["fault"]["message"]
        assert await env.remotes.network.list_ports(None, device_id=server["id"]) == []
        assert await env.remotes.placement.allocations(server["id"]) == {}
    finally:
        await stop_env(env)


async def test_concurrent_boots_never_overcommit(tmp_path):
    env = await start_env(tmp_path, fake_hosts=2, fake_memory_mb=1024,
                          ram_allocation_ratio=1.0)
    try:
        servers = await asyncio.gather(*[env.boot(name=f"vm{i}") for i in range(6)])
        active = [s for s in servers if s["status"] == "ACTIVE"]
        assert len(active) == 4  # 2 hosts x 1024 MB / 512 MB
        assert all("No valid host" in s["fault"]["message"] for s in servers
                   if s["status"] == "ERROR")
    finally:
        await stop_env(env)


async def test_delete_works_in_error_and_while_building(tmp_path):
    env = await start_env(tmp_path, fake_hosts=1, fake_hang_spawn_on=["fake-1"])
    try:
        building = await env.boot(wait=False)
        for _ in range(200):
            if await env.remotes.network.list_ports(None, device_id=building["id"]):
                break
            await asyncio.sleep(0.01)
        failed = await env.boot(flavorRef="5", imageRef=ARM_IMAGE)
        assert failed["status"] == "ERROR"
        async with env.client() as c:
            for server in (building, failed):
                assert (await c.delete(f"/v2.1/servers/{server['id']}")).status_code == 204
        for server in (building, failed):
            await env.wait(server["id"], until=("DELETED",))
            assert await env.remotes.network.list_ports(None, device_id=server["id"]) == []
            assert await env.remotes.placement.allocations(server["id"]) == {}
    finally:
        await stop_env(env)


async def test_power_state_sync_notices_a_guest_that_stopped(env):
    server = await env.boot()
    async with env.client("admin") as c:
        host = (await c.get(f"/v2.1/servers/{server['id']}")).json()["server"][
            "OS-EXT-SRV-ATTR:host"]
    agent = env.unit.agents[host]
    await agent.driver.power_off(server["id"])
    await agent._sync_power_states(RequestContext.admin())
    stopped = await env.wait(server["id"], until=("SHUTOFF",))
    assert stopped["OS-EXT-STS:power_state"] == 4
