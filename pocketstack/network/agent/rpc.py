"""The agent interface over RPC (core/rpc), for per-host agents in their own
processes: the server's `RpcNotifier` casts messages.py's messages to
`network-agent.<host>`; `ServerManager` serves the agents' status reports on
`network`; `AgentManager` is the agent side, serving one host's queue with any
agent implementation (the noop one included) and reporting back by RPC."""

from __future__ import annotations

from typing import Any

from pocketstack.core.context import RequestContext
from pocketstack.network.agent.messages import (
    AgentClient,
    NetworkChanged,
    PortBinding,
    PortBound,
    PortRemoved,
    PortStatus,
    ResourcesChanged,
    ServerClient,
)
from pocketstack.network.agent.notifier import AgentNotifier, StatusSink

AGENT_CONTEXT = RequestContext.admin(user_name="network-agent")


class RpcNotifier:
    """AgentNotifier over RPC; ports get the binding the hosts' agents implement."""

    binds_active = False  # the host's agent reports the port up once it is wired

    def __init__(self, client: AgentClient, vif_type: str = "tap",
                 vif_details: dict[str, Any] | None = None):
        self.client = client
        self.vif_type = vif_type
        self.vif_details = vif_details or {"port_filter": False, "connectivity": "l2"}

    def vif_details_for(self, network_id: str) -> dict[str, Any]:
        return dict(self.vif_details)

    async def port_bound(self, ctx: RequestContext, binding: PortBinding) -> None:
        await self.client.port_bound(ctx, PortBound(binding=binding))

    async def port_removed(self, ctx: RequestContext, port_id: str, host: str) -> None:
        await self.client.port_removed(ctx, PortRemoved(port_id=port_id, host=host))

    async def network_changed(self, ctx: RequestContext, network_id: str) -> None:
        await self.client.network_changed(ctx, NetworkChanged(network_id=network_id))

    async def resources_changed(self, ctx: RequestContext, collection: str) -> None:
        await self.client.resources_changed(ctx, ResourcesChanged(collection=collection))


class ServerManager:
    """What the network server answers on topic `network`."""

    def __init__(self, sink: StatusSink):
        self.sink = sink

    async def port_status(self, ctxt: RequestContext, report: PortStatus) -> None:
        await self.sink.port_status(report)


class RpcStatusSink:
    """An agent's way back to the server: status reports as RPC calls."""

    def __init__(self, client: ServerClient):
        self.client = client

    async def port_status(self, report: PortStatus) -> None:
        await self.client.port_status(AGENT_CONTEXT, report)


class AgentManager:
    """Serves `network-agent.<host>` with an agent (see notifier.AgentNotifier)."""

    def __init__(self, agent: AgentNotifier):
        self.agent = agent

    async def port_bound(self, ctxt: RequestContext, message: PortBound) -> None:
        await self.agent.port_bound(ctxt, message.binding)

    async def port_removed(self, ctxt: RequestContext, message: PortRemoved) -> None:
        await self.agent.port_removed(ctxt, message.port_id, message.host)

    async def network_changed(self, ctxt: RequestContext, message: NetworkChanged) -> None:
        await self.agent.network_changed(ctxt, message.network_id)

    async def resources_changed(self, ctxt: RequestContext, message: ResourcesChanged) -> None:
        await self.agent.resources_changed(ctxt, message.collection)
