"""The fake hosts of one process report on one timer: registered at once in
placement, the services table and the compute nodes; afterwards a round says
who is alive and carries only the reports that changed."""

from __future__ import annotations

import asyncio
import dataclasses

from pocketstack.compute.remote.placement import provider_uuid
from pocketstack.core.context import RequestContext


async def nova_compute(env) -> dict[str, int]:
    return {r.host: r.report_count
            for r in await env.unit.store.records.list(binary="nova-compute")}


async def eventually(condition, seconds: float = 5.0) -> None:  # noqa: ANN001
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the scheduler never saw the change")


async def test_every_fake_host_is_registered_at_start(env):
    hosts = ["fake-1", "fake-2", "fake-3"]
    assert env.unit.fleet is not None
    assert sorted(await nova_compute(env)) == hosts
    assert sorted(n.host for n in await env.unit.store.nodes()) == hosts
    assert sorted(env.unit.scheduler.states.hosts) == hosts
    placement = env.remotes.placement
    assert placement.inventories[provider_uuid("fake-2")]["VCPU"]["total"] == 16
    assert placement.inventories[provider_uuid("fake-2")]["VCPU"]["allocation_ratio"] == 16.0


async def test_a_round_is_a_heartbeat_and_sends_only_what_changed(env):
    fleet, states = env.unit.fleet, env.unit.scheduler.states
    before = await nova_compute(env)
    seen = states.hosts["fake-1"].seen_at
    sent = dict(fleet._sent)
    await asyncio.sleep(0.01)
    await fleet.report(RequestContext.admin())
    assert await nova_compute(env) == {h: n + 1 for h, n in before.items()}
    await eventually(lambda: states.hosts["fake-1"].seen_at > seen)  # a fanout cast
    assert all(fleet._sent[h] is sent[h] for h in sent)  # nothing was re-sent

    driver = env.unit.agents["fake-3"].driver
    driver._resources = dataclasses.replace(driver._resources, vcpus=64)
    await fleet.report(RequestContext.admin())
    assert fleet._sent["fake-3"] is not sent["fake-3"]
    assert all(fleet._sent[h] is sent[h] for h in ("fake-1", "fake-2"))
    await eventually(lambda: states.hosts["fake-3"].vcpus == 64)
    assert {n.host: n.vcpus for n in await env.unit.store.nodes()}["fake-3"] == 64


async def test_power_sync_visits_only_hosts_with_guests(env):
    server = await env.boot()
    async with env.client("admin") as c:
        host = (await c.get(f"/v2.1/servers/{server['id']}")).json()["server"][
            "OS-EXT-SRV-ATTR:host"]
    await env.unit.agents[host].driver.power_off(server["id"])
    await env.unit.fleet.sync_power_states(RequestContext.admin())
    assert env.unit.fleet._synced == {host}
    stopped = await env.wait(server["id"], until=("SHUTOFF",))
    assert stopped["OS-EXT-STS:power_state"] == 4
