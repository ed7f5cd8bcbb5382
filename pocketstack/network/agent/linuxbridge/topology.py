"""What the host should look like, read from the network service: the
bridges, the DHCP servers, the routers and the bound ports' filters. Plain
frozen values, so the agent applies only what differs from what it applied.
Built from one listing of each collection (as admin), never from the host."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from pocketstack.network.agent.linuxbridge.dnsmasq import METADATA_IP, DhcpHost, DhcpSubnet
from pocketstack.network.agent.linuxbridge.firewall import PortFilter, Rule

DHCP_OWNER = "network:dhcp"
ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"


@dataclass(frozen=True)
class Bridge:
    network_id: str
    mtu: int = 0
    host_cidrs: tuple[str, ...] = ()  # addresses on the host (an external network's gateway)


@dataclass(frozen=True)
class Dhcp:
    network_id: str
    port_id: str
    mac: str
    cidrs: tuple[str, ...]  # the DHCP port's addresses, a.b.c.d/len, then the metadata /32
    subnets: tuple[DhcpSubnet, ...]
    hosts: tuple[DhcpHost, ...]
    mtu: int = 0


@dataclass(frozen=True)
class Leg:
    """A router's port: a veth from the network's bridge into the router."""

    port_id: str
    network_id: str
    mac: str
    cidrs: tuple[str, ...]


@dataclass(frozen=True)
class Router:
    id: str
    interfaces: tuple[Leg, ...] = ()
    gateway: Leg | None = None
    gateway_ip: str | None = None  # the external subnet's gateway: the default route
    snat: bool = True
    floating: tuple[tuple[str, str], ...] = ()  # (floating IP, fixed IP)


@dataclass(frozen=True)
class BoundPort:
    port_id: str
    network_id: str
    filter: PortFilter | None  # None: port security disabled


@dataclass
class Topology:
    bridges: dict[str, Bridge] = field(default_factory=dict)
    dhcp: dict[str, Dhcp] = field(default_factory=dict)
    routers: dict[str, Router] = field(default_factory=dict)
    ports: dict[str, BoundPort] = field(default_factory=dict)
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)  # remote group -> IPs
    # Networks that need DHCP: {network id: (project id, DHCP subnet ids)}.
    dhcp_wanted: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    dhcp_ports: dict[str, dict[str, Any]] = field(default_factory=dict)  # network -> port


@dataclass
class Listing:
    """The network service's collections, as its REST API returns them."""

    networks: list[dict[str, Any]]
    subnets: list[dict[str, Any]]
    ports: list[dict[str, Any]]
    security_groups: list[dict[str, Any]]
    routers: list[dict[str, Any]]
    floatingips: list[dict[str, Any]]


def build(data: Listing, dhcp_device_id: str, hosts: set[str] | None) -> Topology:
    """The topology for an agent whose DHCP ports have `dhcp_device_id`(+ network
    id) and which wires the ports bound to `hosts` (None: to any host)."""
    top = Topology()
    subnets = {s["id"]: s for s in data.subnets}
    by_network: dict[str, list[dict[str, Any]]] = {}
    for s in data.subnets:
        by_network.setdefault(s["network_id"], []).append(s)
    for n in data.networks:
        top.bridges[n["id"]] = Bridge(n["id"], n.get("mtu") or 0,
                                      _host_cidrs(n, by_network.get(n["id"], [])))
        wanted = tuple(s["id"] for s in by_network.get(n["id"], [])
                       if s["enable_dhcp"] and s["ip_version"] == 4)
        if wanted:
            top.dhcp_wanted[n["id"]] = (n.get("project_id") or "", wanted)
    for p in data.ports:
        if p["device_owner"] == DHCP_OWNER and p["device_id"] == dhcp_device_id + p["network_id"]:
            top.dhcp_ports[p["network_id"]] = p
    for net_id, dport in top.dhcp_ports.items():
        if net_id in top.dhcp_wanted and net_id in top.bridges:
            top.dhcp[net_id] = _dhcp(top.bridges[net_id], dport, subnets, data.ports,
                                     top.dhcp_wanted[net_id][1])
    top.ports, top.members = _bound_ports(data, hosts)
    top.routers = _routers(data, subnets)
    return top


def _host_cidrs(network: dict[str, Any], subnets: list[dict[str, Any]]) -> tuple[str, ...]:
    """An external network's gateway address goes on the host (DevStack's br-ex)."""
    if not network.get("router:external"):
        return ()
    return tuple(_with_len(s["gateway_ip"], s["cidr"]) for s in subnets
                 if s["ip_version"] == 4 and s.get("gateway_ip"))


def _with_len(address: str, cidr: str) -> str:
    return f"{address}/{ipaddress.ip_network(cidr).prefixlen}"


def _v4_ips(port: dict[str, Any], subnet_ids: Any) -> list[dict[str, str]]:
    return [f for f in port["fixed_ips"] if f["subnet_id"] in subnet_ids
            and ":" not in f["ip_address"]]


def _dhcp(bridge: Bridge, dport: dict[str, Any], subnets: dict[str, dict[str, Any]],
          ports: list[dict[str, Any]], wanted: tuple[str, ...]) -> Dhcp:
    server = {f["subnet_id"]: f["ip_address"] for f in _v4_ips(dport, wanted)}
    served = tuple(DhcpSubnet(
        id=sid, cidr=subnets[sid]["cidr"], gateway_ip=subnets[sid].get("gateway_ip"),
        dns_nameservers=tuple(subnets[sid].get("dns_nameservers") or ()),
        host_routes=tuple((r["destination"], r["nexthop"])
                          for r in subnets[sid].get("host_routes") or ()),
        server_ip=server[sid]) for sid in wanted if sid in server)
    hosts = tuple(DhcpHost(p["mac_address"], f["ip_address"])
                  for p in ports if p["network_id"] == bridge.network_id
                  and p["device_owner"] != DHCP_OWNER
                  for f in _v4_ips(p, server))
    cidrs = tuple(_with_len(ip_, subnets[sid]["cidr"]) for sid, ip_ in server.items())
    return Dhcp(bridge.network_id, dport["id"], dport["mac_address"],
                cidrs + (f"{METADATA_IP}/32",), served, hosts, bridge.mtu)


def _bound_ports(data: Listing, hosts: set[str] | None
                 ) -> tuple[dict[str, BoundPort], dict[str, tuple[str, ...]]]:
    """The ports to wire, and the members of the groups their rules let in."""
    groups = {g["id"]: g for g in data.security_groups}
    members: dict[str, list[str]] = {}
    for p in data.ports:
        for g in p.get("security_groups") or ():
            members.setdefault(g, []).extend(f["ip_address"] for f in p["fixed_ips"])
    out: dict[str, BoundPort] = {}
    for p in data.ports:
        host = p.get("binding:host_id") or ""
        if not host or (hosts is not None and host not in hosts) \
                or p["device_owner"].startswith("network:"):
            continue
        out[p["id"]] = BoundPort(p["id"], p["network_id"], _filter(p, groups, members))
    return out, {g: tuple(sorted(set(members.get(g, [])))) for g in _remote_groups(out)}


def _remote_groups(ports: dict[str, BoundPort]) -> set[str]:
    return {r.remote_group for b in ports.values() if b.filter is not None
            for r in b.filter.rules if r.remote_group}


def _filter(port: dict[str, Any], groups: dict[str, dict[str, Any]],
            members: dict[str, list[str]]) -> PortFilter | None:
    if not port.get("port_security_enabled", True):
        return None
    addresses = [(f["ip_address"], port["mac_address"]) for f in port["fixed_ips"]]
    addresses += [(a["ip_address"], a.get("mac_address") or port["mac_address"])
                  for a in port.get("allowed_address_pairs") or ()]
    rules = []
    for gid in port.get("security_groups") or ():
        for r in (groups.get(gid) or {}).get("security_group_rules", []):
            if r.get("ethertype", "IPv4") != "IPv4":
                continue
            remote = r.get("remote_group_id")
            by_chain = remote is not None and r["direction"] == "ingress"
            rules.append(Rule(
                r["direction"], r.get("protocol"), r.get("port_range_min"),
                r.get("port_range_max"), r.get("remote_ip_prefix"),
                tuple(sorted(set(members.get(remote, [])))) if remote and not by_chain
                else None, remote if by_chain else None))
    return PortFilter(port["id"], port["mac_address"], tuple(addresses),
                      tuple(dict.fromkeys(rules)))


def _routers(data: Listing, subnets: dict[str, dict[str, Any]]) -> dict[str, Router]:
    legs: dict[str, list[Leg]] = {}
    gateways: dict[str, Leg] = {}
    for p in data.ports:
        if p["device_owner"] not in (ROUTER_INTERFACE, ROUTER_GATEWAY):
            continue
        leg = Leg(p["id"], p["network_id"], p["mac_address"], tuple(
            _with_len(f["ip_address"], subnets[f["subnet_id"]]["cidr"])
            for f in p["fixed_ips"] if f["subnet_id"] in subnets
            and ":" not in f["ip_address"]))
        if p["device_owner"] == ROUTER_GATEWAY:
            gateways[p["device_id"]] = leg
        else:
            legs.setdefault(p["device_id"], []).append(leg)
    floating: dict[str, list[tuple[str, str]]] = {}
    for f in data.floatingips:
        if f.get("router_id") and f.get("port_id") and f.get("fixed_ip_address"):
            floating.setdefault(f["router_id"], []).append(
                (f["floating_ip_address"], f["fixed_ip_address"]))
    out = {}
    for r in data.routers:
        gw = gateways.get(r["id"])
        info = r.get("external_gateway_info") or {}
        gw_ip = None
        if gw is not None:
            gw_subnets = [subnets[f["subnet_id"]] for f in info.get("external_fixed_ips", [])
                          if f["subnet_id"] in subnets]
            gw_ip = next((s.get("gateway_ip") for s in gw_subnets
                          if s["ip_version"] == 4 and s.get("gateway_ip")), None)
        out[r["id"]] = Router(r["id"], tuple(sorted(legs.get(r["id"], []),
                                                    key=lambda leg: leg.port_id)),
                              gw, gw_ip, bool(info.get("enable_snat", True)),
                              tuple(sorted(floating.get(r["id"], []))))
    return out
