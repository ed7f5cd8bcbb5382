"""The `noop` agent (the default): it touches nothing on the host and reports
every bound port ACTIVE at once, so the all-in-one runs without privileges.
Ports it binds get vif_type `tap` (a bare tap device, attached to nothing)."""

from __future__ import annotations

from typing import Any

from pocketstack.core.context import RequestContext
from pocketstack.network.agent.messages import PortBinding, PortStatus
from pocketstack.network.agent.notifier import StatusSink


class NoopAgent:
    vif_type = "tap"
    vif_details: dict[str, Any] = {"port_filter": False, "connectivity": "l2"}

    def __init__(self, sink: StatusSink):
        self.sink = sink

    def vif_details_for(self, network_id: str) -> dict[str, Any]:
        return dict(self.vif_details)

    async def port_bound(self, ctx: RequestContext, binding: PortBinding) -> None:
        await self.sink.port_status(PortStatus(port_id=binding.port_id, host=binding.host,
                                               status="ACTIVE"))

    async def port_removed(self, ctx: RequestContext, port_id: str, host: str) -> None:
        return None

    async def network_changed(self, ctx: RequestContext, network_id: str) -> None:
        return None

    async def resources_changed(self, ctx: RequestContext, collection: str) -> None:
        return None
