"""The `noop` agent (the default): it touches nothing on the host, so the
all-in-one runs without privileges. As the server's own notifier a port is up
as soon as it is bound (`binds_active`: the server records it ACTIVE with the
binding, in one transaction); set `binds_active = False` where it stands in
for a host's agent behind RPC, and it reports every bound port ACTIVE at once.
Ports it binds get vif_type `tap` (a bare tap device, attached to nothing)."""

from __future__ import annotations

from typing import Any

from pocketstack.core.context import RequestContext
from pocketstack.network.agent.messages import PortBinding, PortStatus
from pocketstack.network.agent.notifier import StatusSink


class NoopAgent:
    vif_type = "tap"
    vif_details: dict[str, Any] = {"port_filter": False, "connectivity": "l2"}
    binds_active = True

    def __init__(self, sink: StatusSink):
        self.sink = sink

    def vif_details_for(self, network_id: str) -> dict[str, Any]:
        return dict(self.vif_details)

    async def port_bound(self, ctx: RequestContext, binding: PortBinding) -> None:
        if not self.binds_active:
            await self.sink.port_status(PortStatus(port_id=binding.port_id,
                                                   host=binding.host, status="ACTIVE"))

    async def port_removed(self, ctx: RequestContext, port_id: str, host: str) -> None:
        return None

    async def network_changed(self, ctx: RequestContext, network_id: str) -> None:
        return None

    async def resources_changed(self, ctx: RequestContext, collection: str) -> None:
        return None
