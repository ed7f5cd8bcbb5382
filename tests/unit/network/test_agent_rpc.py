"""The agent interface over RPC (local transport, which round-trips the codec):
binding a port casts to the host's agent, whose status report turns it ACTIVE."""

from __future__ import annotations

import asyncio

from pocketstack.core.rpc import RPC, LocalTransport, Target
from pocketstack.network.agent.messages import (
    AGENT_TOPIC,
    SERVER_TOPIC,
    AgentClient,
    ServerClient,
)
from pocketstack.network.agent.noop import NoopAgent
from pocketstack.network.agent.rpc import (
    AgentManager,
    RpcNotifier,
    RpcStatusSink,
    ServerManager,
)


class Remembering(NoopAgent):
    binds_active = False  # a host's agent: it reports the port up

    def __init__(self, sink):  # noqa: ANN001
        super().__init__(sink)
        self.removed: list[str] = []
        self.networks: list[str] = []
        self.collections: list[str] = []

    async def port_removed(self, ctx, port_id, host):  # noqa: ANN001
        self.removed.append(port_id)

    async def network_changed(self, ctx, network_id):  # noqa: ANN001
        self.networks.append(network_id)

    async def resources_changed(self, ctx, collection):  # noqa: ANN001
        self.collections.append(collection)


async def wait_for(check, seconds: float = 5.0) -> None:  # noqa: ANN001
    for _ in range(int(seconds / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def test_port_goes_active_through_rpc_agent(net_api, svc):
    rpc = RPC(LocalTransport(), timeout=5)
    server = await rpc.serve(Target(SERVER_TOPIC), ServerManager(svc))
    agent = Remembering(RpcStatusSink(ServerClient(rpc)))
    agent_server = await rpc.serve(Target(AGENT_TOPIC, server="host-7"), AgentManager(agent))
    svc.notifier = RpcNotifier(AgentClient(rpc))
    try:
        alice = net_api.as_("alice")
        net = await alice.network()
        await alice.subnet(net["id"])
        port = await alice.port(net["id"], **{"binding:host_id": "host-7"})
        assert port["binding:vif_type"] == "tap"

        async def active() -> bool:
            got = (await alice.get(f"/ports/{port['id']}")).json()["port"]
            return got["status"] == "ACTIVE"

        await wait_for(active)
        await alice.delete(f"/ports/{port['id']}")

        async def removed() -> bool:
            return port["id"] in agent.removed

        await wait_for(removed)

        async def told() -> bool:
            return net["id"] in agent.networks

        await wait_for(told)
        await alice.post("/routers", {"router": {"name": "r"}})

        async def routers() -> bool:
            return "routers" in agent.collections

        await wait_for(routers)
    finally:
        await agent_server.stop()
        await server.stop()
        await rpc.close()
