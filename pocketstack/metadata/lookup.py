"""Who is asking: a guest's network and address -> its port (network API) ->
the port's device -> the server (compute API) -> the description the
documents are built from (content.Instance). Every call is made as the
service user (admin); answers are cached briefly, as Nova caches its
InstanceMetadata (metadata_cache_expiration)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from pocketstack.compute.remote.rest import RestClient
from pocketstack.core import exceptions as exc
from pocketstack.metadata import content

COMPUTE_VERSION = "2.90"  # user_data, hostname, launch_index, flavor name; keypairs by user
MAX_CACHED = 4096  # past this, expired answers are dropped before one is added
TokenSource = Callable[[], Awaitable[str]]


class InstanceLookup:
    def __init__(self, http: httpx.AsyncClient, network_url: str, compute_url: str,
                 token: TokenSource, *, cache_ttl: float = 15.0, dhcp_domain: str = "novalocal"):
        self.network = RestClient(http, network_url + "/v2.0")
        self.compute = RestClient(http, compute_url + "/v2.1",
                                  {"OpenStack-API-Version": f"compute {COMPUTE_VERSION}"})
        self.token, self.cache_ttl, self.dhcp_domain = token, cache_ttl, dhcp_domain
        self._cache: dict[tuple[str, str], tuple[float, content.Instance]] = {}

    async def find(self, network_id: str, address: str) -> content.Instance:
        """The instance owning `address` on `network_id`; NotFound when none does."""
        key = (network_id, address)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        inst = await self._describe(network_id, address)
        now = time.monotonic()
        if len(self._cache) >= MAX_CACHED:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[key] = (now + self.cache_ttl, inst)
        return inst

    def forget(self, instance_id: str) -> None:
        """Drop cached answers about one instance (after it changed)."""
        for key in [k for k, (_, i) in self._cache.items() if i.uuid == instance_id]:
            del self._cache[key]

    async def _describe(self, network_id: str, address: str) -> content.Instance:
        token = await self.token()
        ports = (await self.network.request(token, "GET", "/ports", params={
            "network_id": network_id, "fixed_ips": f"ip_address={address}"}))["ports"]
        device = next((p["device_id"] for p in ports
                       if p["device_id"] and p["device_owner"].startswith("compute:")), None)
        if device is None:
            raise exc.NotFound(f"No instance has address {address} on network {network_id}.")
        try:
            server = (await self.compute.request(token, "GET", f"/servers/{device}"))["server"]
        except exc.NotFound:
            raise exc.NotFound(f"Instance {device} not found.") from None
        return await self._instance(token, server)

    async def _instance(self, token: str, server: dict[str, Any]) -> content.Instance:
        attr = "OS-EXT-SRV-ATTR:"
        ports = (await self.network.request(token, "GET", "/ports", params={
            "device_id": server["id"]}))["ports"]
        return content.Instance(
            uuid=server["id"], name=server["name"], hostname=server[attr + "hostname"],
            project_id=server["tenant_id"],
            availability_zone=server.get("OS-EXT-AZ:availability_zone") or "nova",
            launch_index=server.get(attr + "launch_index") or 0,
            reservation_id=server.get(attr + "reservation_id") or "",
            key=await self._key(token, server), metadata=server.get("metadata") or {},
            user_data=_user_data(server.get(attr + "user_data")),
            interfaces=[await self._interface(token, p) for p in ports],
            floating_ips=await self._floating_ips(token, ports),
            security_groups=[g["name"] for g in server.get("security_groups") or []],
            flavor_name=(server.get("flavor") or {}).get("original_name", ""),
            image_id=(server.get("image") or {}).get("id", ""), dhcp_domain=self.dhcp_domain)

    async def _key(self, token: str, server: dict[str, Any]) -> content.KeyPair | None:
        if not server.get("key_name"):
            return None
        try:
            kp = (await self.compute.request(token, "GET", f"/os-keypairs/{server['key_name']}",
                                             params={"user_id": server["user_id"]}))["keypair"]
        except exc.NotFound:  # deleted since: Nova then shows no key either
            return None
        return content.KeyPair(kp["name"], kp["public_key"], kp.get("type", "ssh"))

    async def _interface(self, token: str, port: dict[str, Any]) -> content.Interface:
        network = (await self.network.request(
            token, "GET", f"/networks/{port['network_id']}"))["network"]
        subnets: dict[str, content.Subnet] = {}
        addresses = []
        for ip in port.get("fixed_ips") or []:
            if ip["subnet_id"] not in subnets:
                subnets[ip["subnet_id"]] = await self._subnet(token, ip["subnet_id"])
            addresses.append(content.Address(ip["ip_address"], subnets[ip["subnet_id"]]))
        return content.Interface(
            port["id"], port["mac_address"], port["network_id"], tuple(addresses),
            mtu=network.get("mtu"), vif_type=port.get("binding:vif_type") or "bridge")

    async def _subnet(self, token: str, subnet_id: str) -> content.Subnet:
        s = (await self.network.request(token, "GET", f"/subnets/{subnet_id}"))["subnet"]
        return content.Subnet(
            s["cidr"], gateway=s.get("gateway_ip"), dns=tuple(s.get("dns_nameservers") or ()),
            routes=tuple((r["destination"], r["nexthop"]) for r in s.get("host_routes") or ()),
            dhcp=bool(s.get("enable_dhcp", True)),
            ipv6_address_mode=s.get("ipv6_address_mode"))

    async def _floating_ips(self, token: str, ports: list[dict[str, Any]]) -> list[str]:
        out: list[str] = []
        for port in ports:
            fips = (await self.network.request(token, "GET", "/floatingips", params={
                "port_id": port["id"]}))["floatingips"]
            out += [f["floating_ip_address"] for f in fips]
        return out


def _user_data(raw: str | None) -> bytes | None:
    try:
        return content.decode_user_data(raw)
    except ValueError:  # the compute API validates it; never fail the guest for it
        return None
