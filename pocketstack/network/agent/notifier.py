"""The contract the network server uses to reach the agents.

The server calls a notifier after the transaction that made the change has
committed. `port_bound` and `port_removed` are fire-and-forget: an agent
answers a bound port by reporting its status (`StatusSink.port_status`),
which is what turns a port ACTIVE. Nothing here blocks on the host.
`vif_type` and `vif_details_for(network)` are what a port bound through these
agents gets. A notifier whose (optional) `binds_active` is true has nothing to
wire on the host (the noop agent): the server records such a port ACTIVE in
the transaction that binds it, and no status report follows.
"""

from __future__ import annotations

from typing import Any, Protocol

from pocketstack.core.context import RequestContext
from pocketstack.network.agent.messages import PortBinding, PortStatus


class StatusSink(Protocol):
    """Where agents report port status: the network service."""

    async def port_status(self, report: PortStatus) -> None: ...


class AgentNotifier(Protocol):
    vif_type: str
    binds_active: bool  # optional: False when absent

    def vif_details_for(self, network_id: str) -> dict[str, Any]: ...

    async def port_bound(self, ctx: RequestContext, binding: PortBinding) -> None: ...

    async def port_removed(self, ctx: RequestContext, port_id: str, host: str) -> None: ...

    async def network_changed(self, ctx: RequestContext, network_id: str) -> None: ...

    async def resources_changed(self, ctx: RequestContext, collection: str) -> None:
        """Routers, floating IPs, security groups or ports (NetworkService.DATA_PLANE)."""
