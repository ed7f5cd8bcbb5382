"""The RPC messages between the network server and the per-host agents, typed.

Server -> agent on host H (topic `network-agent.<H>`), all casts:
  PortBound       a port was bound to H: plug it, then report its status
  PortRemoved     a port left H (deleted or unbound): unplug it
  NetworkChanged  a network or its subnets changed: refresh DHCP and the like
Agent -> server (topic `network`), a call:
  PortStatus      the port is ACTIVE (plugged) or DOWN on its host
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


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


class PortStatus(BaseModel):
    kind: Literal["port_status"] = "port_status"
    port_id: str
    host: str
    status: Literal["ACTIVE", "DOWN", "ERROR"]


AGENT_TOPIC = "network-agent"
SERVER_TOPIC = "network"
