"""Subnets: CIDR (given, or carved from a subnet pool), gateway, allocation pools
(defaulted or validated against the CIDR and the gateway), IPv6 modes."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import delete, select

from pocketstack.core.context import RequestContext
from pocketstack.network import errors, ipam, query, schemas, views
from pocketstack.network.models import IPAllocation, IPRange, Network, Port, Subnet
from pocketstack.network.resource import Resource, new_id, set_tags

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network
ROUTER_OWNERS = ("network:router_interface", "network:router_gateway", "network:floatingip")
DHCP_OWNER = "network:dhcp"  # a DHCP agent's port: its addresses go with their subnet


def _ip(value: str, what: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise errors.invalid_input(f"'{value}' is not a valid IP address for {what}") from None


def parse_cidr(value: str) -> IPNet:
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise errors.invalid_input(f"'{value}' is not a valid IP subnet") from None
    if ipaddress.ip_address(value.split("/")[0]) != net.network_address:
        raise errors.invalid_input(
            f"'{value}' isn't a recommended CIDR, '{net}' is recommended")
    return net


def usable(net: IPNet) -> tuple[int, int]:
    """The first and last address a host can have in the network."""
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4 and net.prefixlen >= 31:
        return first, last
    return first + 1, (last - 1 if net.version == 4 else last)


def default_pools(net: IPNet, gateway: str | None) -> list[dict[str, str]]:
    lo, hi = usable(net)
    cut = int(ipaddress.ip_address(gateway)) if gateway else None
    spans = [(lo, hi)] if cut is None or not lo <= cut <= hi else \
        [(lo, cut - 1), (cut + 1, hi)]
    ver = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
    return [{"start": str(ver(a)), "end": str(ver(b))} for a, b in spans if a <= b]


def check_pools(net: IPNet, pools: list[dict[str, str]], gateway: str | None) -> None:
    lo, hi = usable(net)
    spans = []
    for p in pools:
        a, b = _ip(p["start"], "allocation_pools"), _ip(p["end"], "allocation_pools")
        if a.version != net.version or b.version != net.version or a > b:
            raise errors.named(errors.exc.BadRequest, "InvalidAllocationPool",
                               f"The allocation pool {p['start']}-{p['end']} spans beyond "
                               "the subnet cidr or is invalid.")
        if not (lo <= int(a) and int(b) <= hi):
            raise errors.named(errors.exc.BadRequest, "OutOfBoundsAllocationPool",
                               f"The allocation pool {p['start']}-{p['end']} spans beyond "
                               f"the subnet cidr {net}.")
        spans.append((int(a), int(b), f"{p['start']}-{p['end']}"))
    spans.sort()
    for (_, b1, n1), (a2, _, n2) in zip(spans, spans[1:], strict=False):
        if a2 <= b1:
            raise errors.conflict("OverlappingAllocationPools",
                                  f"Found overlapping allocation pools: {n1} and {n2}.")
    if gateway:
        g = int(ipaddress.ip_address(gateway))
        for a, b, name in spans:
            if a <= g <= b:
                raise errors.conflict("GatewayConflictWithAllocationPools",
                                      f"Gateway ip {gateway} conflicts with allocation pool "
                                      f"{name}")


def check_gateway(net: IPNet, gateway: str) -> str:
    g = _ip(gateway, "gateway_ip")
    if g.version != net.version or g not in net:
        raise errors.invalid_input(f"Gateway IP {gateway} is not in subnet {net}")
    if net.version == 4 and net.prefixlen < 31 and g in (net.network_address,
                                                         net.broadcast_address):
        raise errors.invalid_input(f"Gateway IP {gateway} is not a usable host address")
    return str(g)


def check_v6_modes(net: IPNet, ra: str | None, addr: str | None) -> None:
    if net.version == 4 and (ra or addr):
        raise errors.invalid_input("ipv6_ra_mode and ipv6_address_mode are for IPv6 subnets")
    if ra and addr and ra != addr:
        raise errors.invalid_input(
            f"ipv6_ra_mode set to '{ra}' with ipv6_address_mode set to '{addr}' is not valid. "
            "If both attributes are set, they must be the same value")
    if (addr in ("slaac", "dhcpv6-stateless") or ra in ("slaac", "dhcpv6-stateless")) \
            and net.prefixlen != 64:
        raise errors.invalid_input("Invalid CIDR for IPv6 address mode. OpenStack uses the "
                                   "EUI-64 address format, which requires the prefix to be /64")


def check_lists(dns: list[str] | None, routes: list[Any] | None) -> list[dict[str, str]]:
    for d in dns or []:
        _ip(d, "dns_nameservers")
    out = []
    for r in routes or []:
        dest = parse_cidr(r.destination)
        _ip(r.nexthop, "host_routes")
        out.append({"destination": str(dest), "nexthop": r.nexthop})
    return out


def is_auto_address(subnet: Subnet) -> bool:
    return subnet.ipv6_address_mode in ("slaac", "dhcpv6-stateless")


class Subnets(Resource):
    resource, collection, model = "subnet", "subnets", Subnet
    listing = query.Listing(Subnet, renames={"tenant_id": "project_id"})

    def visible(self, ctx: RequestContext) -> Any | None:
        if ctx.is_admin:
            return None
        open_nets = select(Network.id).where(Network.shared | Network.external)
        return (Subnet.project_id == ctx.project_id) | Subnet.network_id.in_(open_nets)

    def view(self, row: Subnet, tags: list[str], ctx: RequestContext) -> dict[str, Any]:
        return views.subnet(row, tags, ctx)

    async def create(self, ctx: RequestContext, body: dict) -> dict:
        req = schemas.parse(schemas.SubnetCreate, body, "subnet")
        async with self.db.write() as s:
            row = await self.create_in(s, ctx, req)
            out = await self.one_view(s, ctx, row)
        await self.svc.notifier.network_changed(ctx, row.network_id)
        return out

    async def create_in(self, s, ctx: RequestContext, req: schemas.SubnetCreate) -> Subnet:  # noqa: ANN001
        network = await self.svc.networks.get(s, ctx, req.network_id)
        project = self.owner_of(ctx, req)
        if not ctx.is_admin and network.project_id != ctx.project_id:
            raise errors.policy("create_subnet")
        await self.check_quota(s, project)
        net = await self._cidr(s, ctx, req)
        if net.version != req.ip_version:
            raise errors.invalid_input("Cidr's IP version and ip_version do not match")
        await self._refuse_overlap(s, network.id, net)
        check_v6_modes(net, req.ipv6_ra_mode, req.ipv6_address_mode)
        given = req.given()
        if "gateway_ip" in given:
            gateway = check_gateway(net, req.gateway_ip) if req.gateway_ip else None
        else:
            gateway = str(net.network_address + 1)
        if req.allocation_pools is not None:
            pools = [p.model_dump() for p in req.allocation_pools]
            check_pools(net, pools, gateway)
        else:
            pools = default_pools(net, gateway)
        row = Subnet(
            id=new_id(), project_id=project, name=req.name or "",
            description=req.description or "", network_id=network.id,
            ip_version=net.version, cidr=str(net), gateway_ip=gateway,
            allocation_pools=pools, enable_dhcp=req.enable_dhcp is not False,
            dns_nameservers=list(req.dns_nameservers or []),
            host_routes=check_lists(req.dns_nameservers, req.host_routes),
            ipv6_ra_mode=req.ipv6_ra_mode, ipv6_address_mode=req.ipv6_address_mode,
            subnetpool_id=req.subnetpool_id,
        )
        s.add(row)
        await s.flush()
        await ipam.create_ranges(s, row)
        if is_auto_address(row):
            await self._address_existing_ports(s, row)
        return row

    async def _address_existing_ports(self, s, row: Subnet) -> None:  # noqa: ANN001
        """A new SLAAC subnet gives every port already on the network its address."""
        ports = await s.execute(select(Port.id, Port.mac_address).where(
            Port.network_id == row.network_id, Port.device_owner.notin_(ROUTER_OWNERS)))
        for port_id, mac in ports:
            await ipam.record_unpooled(s, row, port_id, ipam.eui64(row.cidr, mac))

    async def _cidr(self, s, ctx: RequestContext, req: schemas.SubnetCreate) -> IPNet:  # noqa: ANN001
        if req.subnetpool_id is None and req.use_default_subnetpool:
            req.subnetpool_id = await self.svc.subnetpools.default_id(s, req.ip_version)
        if req.subnetpool_id is not None:
            pool = await self.svc.subnetpools.get(s, ctx, req.subnetpool_id)
            return await self.svc.subnetpools.allocate(s, pool, req.cidr, req.prefixlen)
        if req.cidr is None:
            raise errors.bad_request("Bad subnets request: a subnetpool must be specified in "
                                     "the absence of a cidr.")
        return parse_cidr(req.cidr)

    async def _refuse_overlap(self, s, network_id: str, net: IPNet) -> None:  # noqa: ANN001
        for cidr in await s.scalars(select(Subnet.cidr).where(Subnet.network_id == network_id)):
            if ipaddress.ip_network(cidr).overlaps(net):
                raise errors.invalid_input(
                    f"Requested subnet with cidr: {net} for network: {network_id} overlaps "
                    "with another subnet")

    async def update(self, ctx: RequestContext, id_: str, body: dict) -> dict:
        req = schemas.parse(schemas.SubnetUpdate, body, "subnet")
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "update")
            given = req.given()
            net = ipaddress.ip_network(row.cidr)
            gateway = row.gateway_ip
            if "gateway_ip" in given:
                gateway = check_gateway(net, req.gateway_ip) if req.gateway_ip else None
            pools = row.allocation_pools
            if req.allocation_pools is not None:
                pools = [p.model_dump() for p in req.allocation_pools]
            if "gateway_ip" in given or req.allocation_pools is not None:
                check_pools(net, pools, gateway)
                row.gateway_ip, row.allocation_pools = gateway, pools
                if req.allocation_pools is not None:
                    await ipam.rebuild_ranges(s, row)
            for field in ("name", "description", "enable_dhcp"):
                if given.get(field) is not None:
                    setattr(row, field, given[field])
            if req.dns_nameservers is not None:
                check_lists(req.dns_nameservers, None)
                row.dns_nameservers = list(req.dns_nameservers)
            if req.host_routes is not None:
                row.host_routes = check_lists(None, req.host_routes)
            self.touch(row)
            out = await self.one_view(s, ctx, row)
        await self.svc.notifier.network_changed(ctx, row.network_id)
        return out

    async def delete(self, ctx: RequestContext, id_: str) -> None:
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "delete")
            network_id = row.network_id
            await self.delete_in(s, row)
        await self.svc.notifier.network_changed(ctx, network_id)

    async def delete_in(self, s, row: Subnet) -> None:  # noqa: ANN001
        if is_auto_address(row):  # SLAAC addresses go with their subnet
            plain = select(Port.id).where(Port.network_id == row.network_id,
                                          Port.device_owner.notin_(ROUTER_OWNERS))
            await s.execute(delete(IPAllocation).where(IPAllocation.subnet_id == row.id,
                                                       IPAllocation.port_id.in_(plain)))
        dhcp = select(Port.id).where(Port.network_id == row.network_id,
                                     Port.device_owner == DHCP_OWNER)
        for ip in list(await s.scalars(select(IPAllocation.ip_address).where(
                IPAllocation.subnet_id == row.id, IPAllocation.port_id.in_(dhcp)))):
            await ipam.release(s, row, ip)
        used = await s.scalar(select(IPAllocation.port_id)
                              .where(IPAllocation.subnet_id == row.id).limit(1))
        if used:
            raise errors.conflict(
                "SubnetInUse",
                f"Unable to complete operation on subnet {row.id}: One or more ports have an "
                "IP allocation from this subnet.")
        await s.execute(delete(IPRange).where(IPRange.subnet_id == row.id))
        await set_tags(s, row.id, [])
        await s.delete(row)
