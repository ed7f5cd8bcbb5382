"""A stateful in-memory fake of network/client.py's NetworkClient, for the
services that use it (compute runs its launch tests on it): networks with one
IPv4 subnet each, ports that take the next free address, and a `default`
security group. Tokens are not checked."""

from __future__ import annotations

import ipaddress
import random
import uuid
from typing import Any

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.network.client import COMPUTE_OWNER, resolve_groups


class FakeNetworkClient:
    def __init__(self) -> None:
        self.networks: dict[str, dict[str, Any]] = {}
        self.ports: dict[str, dict[str, Any]] = {}
        self.security_groups = [{"id": str(uuid.uuid4()), "name": "default"}]

    def add_network(self, name: str, cidr: str, project_id: str | None = None,
                    shared: bool = False, network_id: str | None = None) -> dict[str, Any]:
        net = {"id": network_id or str(uuid.uuid4()), "name": name, "cidr": cidr,
               "project_id": project_id, "shared": shared, "mtu": 1450,
               "subnets": [str(uuid.uuid5(uuid.NAMESPACE_URL, cidr))],
               "router:external": False, "status": "ACTIVE"}
        self.networks[net["id"]] = net
        return net

    async def get_network(self, ctx: RequestContext | None, network_id: str) -> dict[str, Any]:
        if network_id not in self.networks:
            raise exc.NotFound(f"Network {network_id} could not be found.")
        return dict(self.networks[network_id])

    async def list_networks(self, ctx: RequestContext | None,
                            **filters: Any) -> list[dict[str, Any]]:
        return [dict(n) for n in self.networks.values() if _matches(n, filters)]

    async def security_group_ids(self, ctx: RequestContext | None,
                                 names: list[str]) -> list[str]:
        return resolve_groups(self.security_groups, names)

    def _next_ip(self, net: dict[str, Any]) -> str:
        taken = {ip["ip_address"] for p in self.ports.values() for ip in p["fixed_ips"]}
        for host in list(ipaddress.ip_network(net["cidr"]).hosts())[1:]:
            if str(host) not in taken:
                return str(host)
        raise exc.Conflict(f"No more IP addresses available on network {net['id']}.")

    async def create_port(self, ctx: RequestContext | None, network_id: str, *,
                          device_id: str = "", device_owner: str = COMPUTE_OWNER,
                          host: str | None = None,
                          fixed_ips: list[dict[str, str]] | None = None,
                          security_groups: list[str] | None = None,
                          **attrs: Any) -> dict[str, Any]:
        net = await self.get_network(ctx, network_id)
        wanted = [f["ip_address"] for f in fixed_ips or [] if "ip_address" in f]
        ip = wanted[0] if wanted else self._next_ip(net)
        mac = "fa:16:3e:" + ":".join(f"{b:02x}" for b in random.randbytes(3))
        created = {"id": str(uuid.uuid4()), "network_id": network_id, "mac_address": mac,
                   "status": "ACTIVE", "device_id": device_id, "device_owner": device_owner,
                   "binding:host_id": host or "", "security_groups": security_groups or [],
                   "binding:vif_type": "ovs", "binding:vif_details": {}, **attrs,
                   "fixed_ips": [{"subnet_id": net["subnets"][0], "ip_address": ip}]}
        self.ports[created["id"]] = created
        return dict(created)

    async def update_port(self, ctx: RequestContext | None, port_id: str,
                          **attrs: Any) -> dict[str, Any]:
        found = await self.get_port(ctx, port_id)
        found.update(attrs)
        self.ports[port_id] = found
        return dict(found)

    async def bind_port(self, ctx: RequestContext | None, port_id: str, host: str,
                        device_id: str, device_owner: str = COMPUTE_OWNER) -> dict[str, Any]:
        return await self.update_port(ctx, port_id, device_id=device_id,
                                      device_owner=device_owner, **{"binding:host_id": host})

    async def unbind_port(self, ctx: RequestContext | None, port_id: str) -> dict[str, Any]:
        return await self.update_port(ctx, port_id, device_id="", device_owner="",
                                      **{"binding:host_id": ""})

    async def get_port(self, ctx: RequestContext | None, port_id: str) -> dict[str, Any]:
        if port_id not in self.ports:
            raise exc.NotFound(f"Port {port_id} could not be found.")
        return dict(self.ports[port_id])

    async def list_ports(self, ctx: RequestContext | None, device_id: str | None = None,
                         **filters: Any) -> list[dict[str, Any]]:
        if device_id is not None:
            filters["device_id"] = device_id
        return [dict(p) for p in self.ports.values() if _matches(p, filters)]

    async def delete_port(self, ctx: RequestContext | None, port_id: str,
                          ignore_missing: bool = True) -> None:
        if self.ports.pop(port_id, None) is None and not ignore_missing:
            raise exc.NotFound(f"Port {port_id} could not be found.")


def _matches(item: dict[str, Any], filters: dict[str, Any]) -> bool:
    return all(str(item.get(k)) == str(v) for k, v in filters.items())
