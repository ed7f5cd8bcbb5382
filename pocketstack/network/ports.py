"""Ports: MAC addresses, fixed IPs (through ipam), security groups, address
pairs, and the binding to a host that the agent turns into status ACTIVE."""

from __future__ import annotations

import ipaddress
import random
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, exists, insert, select, update

from pocketstack.core.context import RequestContext
from pocketstack.network import errors, ipam, query, schemas, views
from pocketstack.network.agent.messages import PortBinding
from pocketstack.network.models import (
    FloatingIP,
    IPAllocation,
    Network,
    Port,
    PortSecurityGroup,
    SecurityGroup,
    Subnet,
)
from pocketstack.network.resource import Resource, new_id, set_tags
from pocketstack.network.subnets import is_auto_address

MAC = re.compile(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")
ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"
FLOATINGIP = "network:floatingip"
SERVICE_OWNERS = (ROUTER_INTERFACE, ROUTER_GATEWAY, FLOATINGIP)


def parse_ip(value: str) -> Any:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise errors.invalid_input(f"'{value}' is not a valid IP address") from None


def _fixed_ips_filter(values: list[str]) -> Any:
    conds = []
    for v in values:
        k, _, val = v.partition("=")
        if k == "ip_address":
            conds.append(IPAllocation.ip_address == val)
        elif k == "subnet_id":
            conds.append(IPAllocation.subnet_id == val)
        elif k == "ip_address_substr":
            conds.append(IPAllocation.ip_address.contains(val))
        else:
            raise errors.invalid_input(f"'{v}' is not a valid fixed_ips filter")
    return exists().where(IPAllocation.port_id == Port.id, and_(*conds))


def _security_groups_filter(values: list[str]) -> Any:
    return exists().where(PortSecurityGroup.port_id == Port.id,
                          PortSecurityGroup.security_group_id.in_(values))


@dataclass
class Change:
    """What to tell the agents once the transaction has committed."""

    port_id: str
    bound: PortBinding | None = None
    removed_from: str | None = None


class Ports(Resource):
    resource, collection, model = "port", "ports", Port
    listing = query.Listing(Port, renames={
        "tenant_id": "project_id", "binding:host_id": "host_id",
        "binding:vif_type": "vif_type", "binding:vnic_type": "vnic_type",
    }, custom={"fixed_ips": _fixed_ips_filter, "security_groups": _security_groups_filter})

    def visible(self, ctx: RequestContext) -> Any | None:
        if ctx.is_admin:
            return None
        mine = select(Network.id).where(Network.project_id == ctx.project_id)
        return (Port.project_id == ctx.project_id) | Port.network_id.in_(mine)

    def view(self, row: Port, tags: list[str], ctx: RequestContext) -> dict[str, Any]:
        return views.port(row, tags, ctx)

    # -- create -------------------------------------------------------------------

    async def create(self, ctx: RequestContext, body: dict) -> dict:
        if isinstance(body, dict) and isinstance(body.get("ports"), list):
            return await self.create_bulk(ctx, body["ports"])
        req = schemas.parse(schemas.PortCreate, body, "port")
        async with self.db.write() as s:
            row, change = await self.create_in(s, ctx, req)
        await self.after(ctx, change)
        async with self.db.read() as s:
            return {"port": (await self.views(s, ctx, [await self.get(s, ctx, row.id)]))[0]}

    async def create_bulk(self, ctx: RequestContext, items: list) -> dict:
        reqs = [schemas.parse(schemas.PortCreate, {"port": i}, "port") for i in items]
        async with self.db.write() as s:
            made = [await self.create_in(s, ctx, r) for r in reqs]
        for _, change in made:
            await self.after(ctx, change)
        async with self.db.read() as s:
            rows = [await self.get(s, ctx, row.id) for row, _ in made]
            return {"ports": await self.views(s, ctx, rows)}

    async def create_in(self, s, ctx: RequestContext, req: schemas.PortCreate,  # noqa: ANN001
                        internal: bool = False) -> tuple[Port, Change]:
        network = await self.svc.networks.get(s, ctx, req.network_id)
        project = req.owner(ctx.project_id) or "" if internal else self.owner_of(ctx, req)
        if not internal:
            self._check_guarded(ctx, "create", req, project, network)
            await self.check_quota(s, project)
        row = Port(
            id=new_id(), project_id=project, name=req.name or "",
            description=req.description or "", network_id=network.id,
            mac_address=await self._mac(s, network.id, req.mac_address),
            admin_state_up=req.admin_state_up is not False,
            device_id=req.device_id or "", device_owner=req.device_owner or "",
            vnic_type=req.vnic_type or "normal", binding_profile=req.binding_profile or {},
            port_security_enabled=network.port_security_enabled
            if req.port_security_enabled is None else req.port_security_enabled,
        )
        s.add(row)
        await s.flush()
        await self._assign_ips(s, row, network, req.fixed_ips)
        await self._set_security(s, ctx, row, req.security_groups, req.allowed_address_pairs,
                                 creating=True)
        if req.tags:
            await set_tags(s, row.id, req.tags)
        change = Change(row.id)
        if req.host_id:
            change.bound = self._bind(row, req.host_id)
        return row, change

    def _check_guarded(self, ctx: RequestContext, action: str, req: Any, project: str,
                       network: Network) -> None:
        target = {"project_id": project, "network_owner": network.project_id}
        given = req.given()
        if any(f.ip_address for f in req.fixed_ips or []):
            self.svc.authorize(ctx, f"{action}_port:fixed_ips:ip_address", target)
        guarded = {"mac_address": "mac_address", "host_id": "binding",
                   "binding_profile": "binding:profile"}
        self.check_attrs(ctx, action, given, guarded, target)

    async def _mac(self, s, network_id: str, wanted: str | None) -> str:  # noqa: ANN001
        if wanted is not None:
            if not MAC.match(wanted):
                raise errors.invalid_input(f"'{wanted}' is not a valid MAC address")
            mac = wanted.lower()
            if await self._mac_taken(s, network_id, mac):
                raise errors.conflict("MacAddressInUse",
                                      f"Unable to complete operation for network {network_id}. "
                                      f"The mac address {mac} is in use.")
            return mac
        prefix = self.svc.cfg.base_mac.lower().split(":")[:3]
        for _ in range(16):
            mac = ":".join(prefix + [f"{random.randrange(256):02x}" for _ in range(3)])
            if not await self._mac_taken(s, network_id, mac):
                return mac
        raise errors.conflict("MacAddressGenerationFailure",
                              f"Unable to generate unique mac on network {network_id}.")

    @staticmethod
    async def _mac_taken(s, network_id: str, mac: str) -> bool:  # noqa: ANN001
        return await s.scalar(select(Port.id).where(
            Port.network_id == network_id, Port.mac_address == mac)) is not None

    # -- addresses ----------------------------------------------------------------

    async def _assign_ips(self, s, port: Port, network: Network,  # noqa: ANN001
                          fixed: list[schemas.FixedIP] | None) -> None:
        subnets = list(network.subnets)
        if fixed is None:
            await self._auto_ips(s, port, network, subnets)
            return
        chosen = set()
        for f in fixed:
            chosen.add((await self._one_ip(s, port, network, subnets, f)).id)
        if port.device_owner != ROUTER_INTERFACE:  # SLAAC addresses come with every port
            for sn in subnets:
                if is_auto_address(sn) and sn.id not in chosen:
                    await ipam.record_unpooled(s, sn, port.id,
                                               ipam.eui64(sn.cidr, port.mac_address))

    async def _auto_ips(self, s, port: Port, network: Network, subnets: list) -> None:  # noqa: ANN001
        v4 = [sn for sn in subnets if sn.ip_version == 4]
        v6 = [sn for sn in subnets if sn.ip_version == 6 and not is_auto_address(sn)]
        for family in (v4, v6):
            if family:
                await self._first_free(s, port, network, family)
        if port.device_owner != ROUTER_INTERFACE:
            for sn in subnets:
                if sn.ip_version == 6 and is_auto_address(sn):
                    await ipam.record_unpooled(s, sn, port.id,
                                               ipam.eui64(sn.cidr, port.mac_address))

    async def _first_free(self, s, port: Port, network: Network, subnets: list) -> None:  # noqa: ANN001
        for sn in subnets:
            try:
                await ipam.allocate_any(s, sn, port.id)
                return
            except errors.exc.Conflict:
                continue
        raise errors.IpAddressGenerationFailure(network.id)

    async def _one_ip(self, s, port: Port, network: Network, subnets: list,  # noqa: ANN001
                      f: schemas.FixedIP) -> Subnet:
        ip = parse_ip(f.ip_address) if f.ip_address else None
        sn = self._subnet_for(network, subnets, f.subnet_id, ip)
        router_port = port.device_owner == ROUTER_INTERFACE
        if is_auto_address(sn) and not router_port:
            if ip is not None:
                raise errors.invalid_input(
                    f"IPv6 address {ip} cannot be directly assigned to a port on subnet "
                    f"{sn.id} as the subnet is configured for automatic addresses")
            await ipam.record_unpooled(s, sn, port.id, ipam.eui64(sn.cidr, port.mac_address))
        elif ip is not None:
            await ipam.allocate_specific(s, sn, port.id, ip, allow_gateway=router_port)
        else:
            await ipam.allocate_any(s, sn, port.id)
        return sn

    @staticmethod
    def _subnet_for(network: Network, subnets: list, subnet_id: str | None, ip: Any) -> Subnet:
        if subnet_id is not None:
            for sn in subnets:
                if sn.id == subnet_id:
                    return sn
            raise errors.invalid_input(
                f"Failed to create port on network {network.id}, because fixed_ips included "
                f"invalid subnet {subnet_id}")
        if ip is None:
            raise errors.invalid_input("IP allocation requires subnet_id or ip_address")
        for sn in subnets:
            if ip in ipaddress.ip_network(sn.cidr):
                return sn
        raise errors.invalid_input(f"IP address {ip} is not a valid IP for any of the "
                                   "subnets on the specified network.")

    async def _update_ips(self, s, port: Port, network: Network,  # noqa: ANN001
                          fixed: list[schemas.FixedIP]) -> None:
        current = list(await s.scalars(select(IPAllocation).where(
            IPAllocation.port_id == port.id)))
        keep: set[tuple[str, str]] = set()
        add: list[schemas.FixedIP] = []
        for f in fixed:
            match = next((a for a in current if (a.subnet_id, a.ip_address) not in keep and (
                (f.ip_address and parse_ip(f.ip_address) ==
                 ipaddress.ip_address(a.ip_address) and f.subnet_id in (None, a.subnet_id))
                or (not f.ip_address and f.subnet_id == a.subnet_id))), None)
            if match is not None:
                keep.add((match.subnet_id, match.ip_address))
            else:
                add.append(f)
        subnets = {sn.id: sn for sn in network.subnets}
        for a in current:
            if (a.subnet_id, a.ip_address) not in keep:
                await ipam.release(s, subnets[a.subnet_id], a.ip_address)
        s.expire(port, ["fixed_ips"])
        for f in add:
            await self._one_ip(s, port, network, list(network.subnets), f)

    # -- security -----------------------------------------------------------------

    async def _set_security(self, s, ctx: RequestContext, port: Port,  # noqa: ANN001
                            groups: list[str] | None, pairs: list | None,
                            creating: bool) -> None:
        service_port = port.device_owner.startswith("network:")
        if groups is None and creating and port.port_security_enabled and not service_port:
            default = await self.svc.security_groups.ensure_default(s, port.project_id)
            await self._bind_groups(s, ctx, port, [default], checked=True, fresh=True)
        elif groups is not None:
            if groups and not port.port_security_enabled:
                raise errors.conflict("PortSecurityAndIPRequiredForSecurityGroups",
                                      "Port security must be enabled and port must have an IP "
                                      "address in order to use security groups.")
            await self._bind_groups(s, ctx, port, groups, fresh=creating)
        if pairs is not None:
            if pairs and not port.port_security_enabled:
                raise errors.conflict("AddressPairAndPortSecurityRequired",
                                      "Port Security must be enabled in order to have allowed "
                                      "address pairs on a port.")
            port.allowed_address_pairs = self._pairs(port, pairs)

    async def _bind_groups(self, s, ctx: RequestContext, port: Port, groups: list[str],  # noqa: ANN001
                           checked: bool = False, fresh: bool = False) -> None:
        """Bind the groups (`checked`: known to be the caller's; `fresh`: a new port)."""
        wanted = list(dict.fromkeys(groups))
        for gid in [] if checked else wanted:
            q = select(SecurityGroup.id).where(SecurityGroup.id == gid)
            if not ctx.is_admin:
                q = q.where(SecurityGroup.project_id.in_([ctx.project_id, port.project_id]))
            if await s.scalar(q) is None:
                raise errors.not_found("security_group", gid)
        if not fresh:
            await s.execute(delete(PortSecurityGroup).where(
                PortSecurityGroup.port_id == port.id))
        if wanted:
            await s.execute(insert(PortSecurityGroup), [
                {"port_id": port.id, "security_group_id": g} for g in wanted])
        s.expire(port, ["security_group_bindings"])

    @staticmethod
    def _pairs(port: Port, pairs: list) -> list[dict[str, str]]:
        out = []
        for p in pairs:
            try:
                ipaddress.ip_network(p.ip_address, strict=False)
            except ValueError:
                raise errors.invalid_input(f"'{p.ip_address}' is not a valid IP address or "
                                           "CIDR") from None
            mac = (p.mac_address or port.mac_address).lower()
            if not MAC.match(mac):
                raise errors.invalid_input(f"'{mac}' is not a valid MAC address")
            pair = {"ip_address": p.ip_address, "mac_address": mac}
            if pair in out:
                raise errors.invalid_input("Duplicate address pair in the request")
            out.append(pair)
        return out

    # -- update and delete ---------------------------------------------------------

    async def update(self, ctx: RequestContext, id_: str, body: dict) -> dict:
        req = schemas.parse(schemas.PortUpdate, body, "port")
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "update")
            network = await self.svc.networks.get(s, RequestContext.admin(), row.network_id)
            self._check_guarded(ctx, "update", req, row.project_id, network)
            change = await self._apply(s, ctx, row, network, req)
            self.touch(row)
        await self.after(ctx, change)
        async with self.db.read() as s:
            return {"port": (await self.views(s, ctx, [await self.get(s, ctx, id_)]))[0]}

    async def _apply(self, s, ctx: RequestContext, row: Port, network: Network,  # noqa: ANN001
                     req: schemas.PortUpdate) -> Change:
        given = req.given()
        for field in ("name", "description", "admin_state_up", "device_id", "device_owner",
                      "port_security_enabled", "vnic_type", "binding_profile"):
            if given.get(field) is not None:
                setattr(row, field, given[field])
        if req.mac_address is not None and req.mac_address.lower() != row.mac_address:
            if row.vif_type not in ("unbound", "binding_failed"):
                raise errors.conflict("PortBound", f"Unable to complete operation on port "
                                      f"{row.id}, port is already bound")
            row.mac_address = await self._mac(s, row.network_id, req.mac_address)
        if req.fixed_ips is not None:
            await self._update_ips(s, row, network, req.fixed_ips)
        if req.port_security_enabled is False and req.security_groups is None \
                and row.security_group_bindings:
            raise errors.conflict("PortSecurityPortHasSecurityGroup",
                                  "Port has security group associated. Cannot disable port "
                                  "security or ip address until security group is removed")
        if req.security_groups is not None or req.allowed_address_pairs is not None:
            await self._set_security(s, ctx, row, req.security_groups,
                                     req.allowed_address_pairs, creating=False)
        change = Change(row.id)
        if "host_id" in given and (given["host_id"] or "") != row.host_id:
            if row.host_id:
                change.removed_from = row.host_id
                self._unbind(row)
            if given["host_id"]:
                change.bound = self._bind(row, given["host_id"])
        return change

    def _bind(self, row: Port, host: str) -> PortBinding:
        row.host_id = host
        row.vif_type = self.svc.notifier.vif_type
        row.vif_details = self.svc.notifier.vif_details_for(row.network_id)
        row.status = "ACTIVE" if getattr(self.svc.notifier, "binds_active", False) else "DOWN"
        return PortBinding(port_id=row.id, host=host, network_id=row.network_id,
                           mac_address=row.mac_address, device_id=row.device_id)

    @staticmethod
    def _unbind(row: Port) -> None:
        row.host_id, row.vif_type, row.vif_details, row.status = "", "unbound", {}, "DOWN"

    async def after(self, ctx: RequestContext, change: Change) -> None:
        if change.removed_from is not None:
            await self.svc.notifier.port_removed(ctx, change.port_id, change.removed_from)
        if change.bound is not None:
            await self.svc.notifier.port_bound(ctx, change.bound)

    async def delete(self, ctx: RequestContext, id_: str) -> None:
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "delete")
            if row.device_owner in SERVICE_OWNERS and not ctx.is_admin:
                raise errors.conflict("ServicePortInUse",
                                      f"Port {id_} cannot be deleted directly via the port API: "
                                      f"has device owner {row.device_owner}.")
            host = await self.delete_in(s, row)
        if host:
            await self.svc.notifier.port_removed(ctx, id_, host)

    async def delete_in(self, s, row: Port) -> str:  # noqa: ANN001
        """Delete the port and free what it held; the host it was bound to."""
        await s.execute(update(FloatingIP).where(FloatingIP.port_id == row.id).values(
            port_id=None, fixed_ip_address=None, router_id=None, status="DOWN"))
        subnets = {sn.id: sn for sn in await s.scalars(
            select(Subnet).where(Subnet.network_id == row.network_id))}
        for a in list(row.fixed_ips):
            await ipam.release(s, subnets[a.subnet_id], a.ip_address)
        s.expire(row, ["fixed_ips"])
        await set_tags(s, row.id, [])
        host = row.host_id
        await s.delete(row)
        return host

    async def set_status(self, port_id: str, status: str) -> None:
        """What an agent reports: the port is up (ACTIVE) or down on its host."""
        async with self.db.write() as s:
            await s.execute(update(Port).where(Port.id == port_id).values(status=status))
