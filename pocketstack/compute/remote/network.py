"""The network service (Neutron v2.0), as compute uses it: networks, security
groups and ports (steps 22-24)."""

from __future__ import annotations

import ipaddress
import random
import uuid
from typing import Any, Protocol

from pocketstack.compute.remote.rest import RestClient
from pocketstack.core import exceptions as exc


class NetworkAPI(Protocol):
    async def get_network(self, token: str | None, network_id: str) -> dict[str, Any]: ...

    async def list_networks(self, token: str | None, **filters: Any) -> list[dict[str, Any]]:
        ...

    async def security_group_ids(self, token: str | None, names: list[str]) -> list[str]:
        """The ids of the caller's security groups by name or id (NotFound if one lacks)."""
        ...

    async def create_port(self, token: str | None, port: dict[str, Any]) -> dict[str, Any]: ...

    async def update_port(self, token: str | None, port_id: str,
                          port: dict[str, Any]) -> dict[str, Any]: ...

    async def get_port(self, token: str | None, port_id: str) -> dict[str, Any]: ...

    async def list_ports(self, token: str | None, **filters: Any) -> list[dict[str, Any]]: ...

    async def delete_port(self, token: str | None, port_id: str) -> None:
        """No error when the port is already gone."""
        ...


class RestNetworkAPI(RestClient):
    async def get_network(self, token: str | None, network_id: str) -> dict[str, Any]:
        return (await self.request(token, "GET", f"/v2.0/networks/{network_id}"))["network"]

    async def list_networks(self, token: str | None, **filters: Any) -> list[dict[str, Any]]:
        return (await self.request(token, "GET", "/v2.0/networks", params=filters))["networks"]

    async def security_group_ids(self, token: str | None, names: list[str]) -> list[str]:
        groups = (await self.request(token, "GET", "/v2.0/security-groups"))["security_groups"]
        ids = []
        for name in names:
            match = [g["id"] for g in groups if name in (g["id"], g["name"])]
            if not match:
                raise exc.BadRequest(f"Security group {name} not found.")
            ids.append(match[0])
        return ids

    async def create_port(self, token: str | None, port: dict[str, Any]) -> dict[str, Any]:
        return (await self.request(token, "POST", "/v2.0/ports", json={"port": port}))["port"]

    async def update_port(self, token: str | None, port_id: str,
                          port: dict[str, Any]) -> dict[str, Any]:
        body = await self.request(token, "PUT", f"/v2.0/ports/{port_id}", json={"port": port})
        return body["port"]

    async def get_port(self, token: str | None, port_id: str) -> dict[str, Any]:
        return (await self.request(token, "GET", f"/v2.0/ports/{port_id}"))["port"]

    async def list_ports(self, token: str | None, **filters: Any) -> list[dict[str, Any]]:
        return (await self.request(token, "GET", "/v2.0/ports", params=filters))["ports"]

    async def delete_port(self, token: str | None, port_id: str) -> None:
        try:
            await self.request(token, "DELETE", f"/v2.0/ports/{port_id}")
        except exc.NotFound:
            pass


class FakeNetworkAPI:
    """Networks with one IPv4 subnet each, and ports that take the next free address."""

    def __init__(self) -> None:
        self.networks: dict[str, dict[str, Any]] = {}
        self.ports: dict[str, dict[str, Any]] = {}
        self.security_groups = {"default": str(uuid.uuid4())}

    def add_network(self, name: str, cidr: str, project_id: str | None = None,
                    shared: bool = False, network_id: str | None = None) -> dict[str, Any]:
        net = {"id": network_id or str(uuid.uuid4()), "name": name, "cidr": cidr,
               "project_id": project_id, "shared": shared, "mtu": 1450,
               "subnets": [str(uuid.uuid5(uuid.NAMESPACE_URL, cidr))],
               "router:external": False, "status": "ACTIVE"}
        self.networks[net["id"]] = net
        return net

    async def get_network(self, token: str | None, network_id: str) -> dict[str, Any]:
        if network_id not in self.networks:
            raise exc.NotFound(f"Network {network_id} could not be found.")
        return dict(self.networks[network_id])

    async def list_networks(self, token: str | None, **filters: Any) -> list[dict[str, Any]]:
        return [dict(n) for n in self.networks.values()
                if all(str(n.get(k)) == str(v) for k, v in filters.items())]

    async def security_group_ids(self, token: str | None, names: list[str]) -> list[str]:
        ids = []
        for name in names:
            if name not in self.security_groups and name not in self.security_groups.values():
                raise exc.BadRequest(f"Security group {name} not found.")
            ids.append(self.security_groups.get(name, name))
        return ids

    def _next_ip(self, net: dict[str, Any]) -> str:
        taken = {ip["ip_address"] for p in self.ports.values() for ip in p["fixed_ips"]}
        for host in list(ipaddress.ip_network(net["cidr"]).hosts())[1:]:
            if str(host) not in taken:
                return str(host)
        raise exc.Conflict(f"No more IP addresses available on network {net['id']}.")

    async def create_port(self, token: str | None, port: dict[str, Any]) -> dict[str, Any]:
        net = await self.get_network(token, port["network_id"])
        wanted = [f["ip_address"] for f in port.get("fixed_ips", []) if "ip_address" in f]
        ip = wanted[0] if wanted else self._next_ip(net)
        mac = "fa:16:3e:" + ":".join(f"{b:02x}" for b in random.randbytes(3))
        created = {"id": str(uuid.uuid4()), "mac_address": mac, "status": "ACTIVE",
                   "device_id": "", "device_owner": "", "binding:host_id": "",
                   "security_groups": [], "binding:vif_type": "ovs", "binding:vif_details": {},
                   **port, "fixed_ips": [{"subnet_id": net["subnets"][0], "ip_address": ip}]}
        self.ports[created["id"]] = created
        return dict(created)

    async def update_port(self, token: str | None, port_id: str,
                          port: dict[str, Any]) -> dict[str, Any]:
        found = await self.get_port(token, port_id)
        found.update(port)
        self.ports[port_id] = found
        return dict(found)

    async def get_port(self, token: str | None, port_id: str) -> dict[str, Any]:
        if port_id not in self.ports:
            raise exc.NotFound(f"Port {port_id} could not be found.")
        return dict(self.ports[port_id])

    async def list_ports(self, token: str | None, **filters: Any) -> list[dict[str, Any]]:
        return [dict(p) for p in self.ports.values()
                if all(str(p.get(k)) == str(v) for k, v in filters.items())]

    async def delete_port(self, token: str | None, port_id: str) -> None:
        self.ports.pop(port_id, None)
