"""The RPC messages between the network server and the per-host agents, typed.

Server -> agent on host H (topic `network-agent.<H>`), all casts:
  PortBound       a port was bound to H: plug it, then report its status
  PortRemoved     a port left H (deleted or unbound): unplug it
  NetworkChanged  a network or its subnets changed: refresh DHCP and the like
  ResourcesChanged  (to all hosts) routers, floating IPs, security groups or
                  ports changed: refresh routers and firewalls
Agent -> server (topic `network`), a call:
  PortStatus      the port is ACTIVE (plugged) or DOWN on its host
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from pocketstack.core import rpc
from pocketstack.core.context import RequestContext


class PortBinding(BaseModel):
    """What a host needs to plug a port."""

    port_id: str
    host: str
    network_id: str
    mac_address: str
    device_id: str = ""


class PortBound(BaseModel):
    kind: Literal["port_bound"] = "port_bound"
    binding: PortBinding


class PortRemoved(BaseModel):
    kind: Literal["port_removed"] = "port_removed"
    port_id: str
    host: str


class NetworkChanged(BaseModel):
    kind: Literal["network_changed"] = "network_changed"
    network_id: str


class ResourcesChanged(BaseModel):
    kind: Literal["resources_changed"] = "resources_changed"
    collection: str  # "routers", "floatingips", "security-group-rules", ...


class PortStatus(BaseModel):
    kind: Literal["port_status"] = "port_status"
    port_id: str
    host: str
    status: Literal["ACTIVE", "DOWN", "ERROR"]


AGENT_TOPIC = "network-agent"
SERVER_TOPIC = "network"


class AgentClient(rpc.Client):
    """The server's stub for the agents: casts to `network-agent.<host>`."""

    topic = AGENT_TOPIC

    async def port_bound(self, ctxt: RequestContext, message: PortBound) -> None:
        await self.prepare(server=message.binding.host).cast(ctxt, "port_bound",
                                                             message=message)

    async def port_removed(self, ctxt: RequestContext, message: PortRemoved) -> None:
        await self.prepare(server=message.host).cast(ctxt, "port_removed", message=message)

    async def network_changed(self, ctxt: RequestContext, message: NetworkChanged) -> None:
        await self.fanout_cast(ctxt, "network_changed", message=message)

    async def resources_changed(self, ctxt: RequestContext, message: ResourcesChanged) -> None:
        await self.fanout_cast(ctxt, "resources_changed", message=message)


class ServerClient(rpc.Client):
    """The agents' stub for the server: a call to `network`."""

    topic = SERVER_TOPIC

    async def port_status(self, ctxt: RequestContext, report: PortStatus) -> None:
        await self.call(ctxt, "port_status", report=report)
