"""Routers: the external gateway (a port on an external network), interfaces
(ports on project subnets holding their gateway address) and extra routes."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import delete, select

from pocketstack.core.context import RequestContext
from pocketstack.network import errors, query, schemas, views
from pocketstack.network.models import (
    FloatingIP,
    IPAllocation,
    Port,
    PortSecurityGroup,
    Router,
    Subnet,
)
from pocketstack.network.ports import ROUTER_GATEWAY, ROUTER_INTERFACE
from pocketstack.network.resource import Resource, new_id, set_tags, tags_of

GATEWAY_GUARDED = {"external_fixed_ips": "external_gateway_info:external_fixed_ips",
                   "enable_snat": "external_gateway_info:enable_snat"}
SYSTEM = RequestContext.admin()


class Routers(Resource):
    resource, collection, model = "router", "routers", Router
    listing = query.Listing(Router, renames={"tenant_id": "project_id"})

    async def views(self, session, ctx: RequestContext, rows) -> list[dict]:  # noqa: ANN001
        tags = await tags_of(session, [r.id for r in rows])
        gw = {r.gw_port_id for r in rows if r.gw_port_id}
        ips: dict[str, list[dict[str, str]]] = {}
        if gw:
            for a in await session.scalars(select(IPAllocation).where(
                    IPAllocation.port_id.in_(gw)).order_by(IPAllocation.seq)):
                ips.setdefault(a.port_id, []).append(
                    {"subnet_id": a.subnet_id, "ip_address": a.ip_address})
        return [views.router(r, tags[r.id], ctx, ips.get(r.gw_port_id or "", [])) for r in rows]

    async def create(self, ctx: RequestContext, body: dict) -> dict:
        req = schemas.parse(schemas.RouterCreate, body, "router")
        async with self.db.write() as s:
            row = await self.create_in(s, ctx, req)
            return await self.one_view(s, ctx, row)

    async def create_in(self, s, ctx: RequestContext, req: Any) -> Router:  # noqa: ANN001
        project = self.owner_of(ctx, req)
        await self.check_quota(s, project)
        row = Router(id=new_id(), project_id=project, name=req.name or "",
                     description=req.description or "",
                     admin_state_up=req.admin_state_up is not False,
                     availability_zone_hints=getattr(req, "availability_zone_hints", None) or [])
        s.add(row)
        await s.flush()
        if req.external_gateway_info is not None:
            await self._set_gateway(s, ctx, row, req.external_gateway_info, "create")
        return row

    async def _set_gateway(self, s, ctx: RequestContext, row: Router,  # noqa: ANN001
                           info: schemas.GatewayInfo, action: str) -> None:
        given = info.model_dump(exclude_unset=True)
        self.check_attrs(ctx, action, given, GATEWAY_GUARDED, {"project_id": row.project_id})
        if not info.network_id:
            await self._clear_gateway(s, row)
            return
        network = await self.svc.networks.get(s, ctx, info.network_id)
        if not network.external:
            raise errors.bad_request(f"Bad router request: Network {network.id} is not a "
                                     "valid external network.")
        if info.enable_snat is not None:
            row.enable_snat = info.enable_snat
        elif row.gw_network_id != network.id:
            row.enable_snat = True
        if row.gw_network_id == network.id and info.external_fixed_ips is None:
            return
        await self._clear_gateway(s, row)
        fixed = None if info.external_fixed_ips is None else [
            schemas.FixedIP(subnet_id=f.subnet_id, ip_address=f.ip_address)
            for f in info.external_fixed_ips]
        port, _ = await self.svc.ports.create_in(s, SYSTEM, schemas.PortCreate(
            network_id=network.id, fixed_ips=fixed, device_id=row.id,
            device_owner=ROUTER_GATEWAY, project_id=""), internal=True)
        row.gw_port_id, row.gw_network_id = port.id, network.id

    async def _clear_gateway(self, s, row: Router) -> None:  # noqa: ANN001
        if not row.gw_port_id:
            return
        if await s.scalar(select(FloatingIP.id).where(FloatingIP.router_id == row.id).limit(1)):
            raise errors.conflict("RouterExternalGatewayInUseByFloatingIp",
                                  f"Gateway cannot be updated for router {row.id}, since a "
                                  "gateway to external network is required by one or more "
                                  "floating IPs.")
        port = await s.get(Port, row.gw_port_id)
        if port is not None:
            await self.svc.ports.delete_in(s, port)
        row.gw_port_id = row.gw_network_id = None

    async def refuse_if_gateway(self, s, network_id: str) -> None:  # noqa: ANN001
        if await s.scalar(select(Router.id).where(Router.gw_network_id == network_id).limit(1)):
            raise errors.conflict("ExternalNetworkInUse",
                                  f"External network {network_id} cannot be updated to be "
                                  "internal, as it is used by router gateways.")

    async def update(self, ctx: RequestContext, id_: str, body: dict) -> dict:
        req = schemas.parse(schemas.RouterUpdate, body, "router")
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "update")
            given = req.given()
            for field in ("name", "description", "admin_state_up"):
                if given.get(field) is not None:
                    setattr(row, field, given[field])
            if "external_gateway_info" in req.model_fields_set:
                info = req.external_gateway_info or schemas.GatewayInfo()
                await self._set_gateway(s, ctx, row, info, "update")
            if req.routes is not None:
                row.routes = await self._check_routes(s, row, req.routes)
            self.touch(row)
            return await self.one_view(s, ctx, row)

    async def _check_routes(self, s, row: Router, routes: list) -> list[dict]:  # noqa: ANN001
        connected = [ipaddress.ip_network(c) for c in await self._interface_cidrs(s, row.id)]
        out = []
        for r in routes:
            try:
                dest = ipaddress.ip_network(r.destination, strict=False)
                hop = ipaddress.ip_address(r.nexthop)
            except ValueError:
                raise errors.named(errors.exc.BadRequest, "InvalidRoutes",
                                   f"Invalid format for routes: {r.model_dump()}") from None
            if not any(hop in c for c in connected):
                raise errors.named(errors.exc.BadRequest, "InvalidRoutes",
                                   f"Invalid format for routes: {r.model_dump()}, the nexthop "
                                   "is not connected with router")
            route = {"destination": str(dest), "nexthop": str(hop)}
            if route not in out:
                out.append(route)
        return out

    async def _interface_cidrs(self, s, router_id: str) -> list[str]:  # noqa: ANN001
        return list(await s.scalars(
            select(Subnet.cidr).join(IPAllocation, IPAllocation.subnet_id == Subnet.id)
            .join(Port, Port.id == IPAllocation.port_id)
            .where(Port.device_id == router_id, Port.device_owner == ROUTER_INTERFACE)))

    async def delete(self, ctx: RequestContext, id_: str) -> None:
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "delete")
            if await s.scalar(select(Port.id).where(
                    Port.device_id == id_, Port.device_owner == ROUTER_INTERFACE).limit(1)):
                raise errors.conflict("RouterInUse",
                                      f"Router {id_} still has ports")
            await self._clear_gateway(s, row)
            await set_tags(s, id_, [])
            await s.delete(row)

    # -- interfaces -------------------------------------------------------------

    async def add_interface(self, ctx: RequestContext, id_: str, body: Any) -> dict:
        req = self._interface_body(body)
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "update")
            if req.subnet_id is not None:
                port = await self._port_for_subnet(s, ctx, row, req.subnet_id)
            else:
                port = await self._adopt_port(s, ctx, row, req.port_id)
            await s.flush()
            return await self._interface_info(s, row, port.id, port.network_id)

    @staticmethod
    def _interface_body(body: Any, adding: bool = True) -> schemas.InterfaceBody:
        if not isinstance(body, dict):
            raise errors.bad_request("Bad router request: a JSON object is required.")
        req = schemas.parse(schemas.InterfaceBody, {"b": body}, "b")
        if req.subnet_id is None and req.port_id is None or (
                adding and req.subnet_id is not None and req.port_id is not None):
            raise errors.bad_request("Bad router request: Either subnet_id or port_id must be "
                                     "specified, not both.")
        return req

    async def _port_for_subnet(self, s, ctx: RequestContext, row: Router,  # noqa: ANN001
                               subnet_id: str) -> Port:
        subnet = await self.svc.subnets.get(s, ctx, subnet_id)
        if not subnet.gateway_ip:
            raise errors.bad_request(f"Bad router request: Subnet {subnet_id} does not have a "
                                     "gateway IP.")
        await self._refuse_overlap(s, row, subnet)
        port, _ = await self.svc.ports.create_in(s, SYSTEM, schemas.PortCreate(
            network_id=subnet.network_id, device_id=row.id, device_owner=ROUTER_INTERFACE,
            fixed_ips=[schemas.FixedIP(subnet_id=subnet.id, ip_address=subnet.gateway_ip)],
            project_id=row.project_id), internal=True)
        port.status = "ACTIVE"
        return port

    async def _refuse_overlap(self, s, row: Router, subnet: Subnet) -> None:  # noqa: ANN001
        new = ipaddress.ip_network(subnet.cidr)
        for cidr in await self._interface_cidrs(s, row.id):
            if cidr == subnet.cidr:
                raise errors.bad_request(f"Bad router request: Router already has a port on "
                                         f"subnet {subnet.id}.")
            if ipaddress.ip_network(cidr).overlaps(new):
                raise errors.bad_request(f"Bad router request: Cidr {subnet.cidr} of subnet "
                                         f"{subnet.id} overlaps with cidr {cidr} of another "
                                         "subnet of the router.")

    async def _adopt_port(self, s, ctx: RequestContext, row: Router, port_id: str) -> Port:  # noqa: ANN001
        port = await self.svc.ports.get(s, ctx, port_id)
        if port.device_id or port.device_owner:
            raise errors.conflict("PortInUse",
                                  f"Unable to complete operation on port {port_id} for network "
                                  f"{port.network_id}. Port already has an attached device "
                                  f"{port.device_id}.")
        if not port.fixed_ips:
            raise errors.bad_request("Bad router request: Router port must have at least one "
                                     "fixed IP.")
        for a in port.fixed_ips:
            await self._refuse_overlap(s, row, await s.get(Subnet, a.subnet_id))
        port.device_id, port.device_owner, port.status = row.id, ROUTER_INTERFACE, "ACTIVE"
        await s.execute(delete(PortSecurityGroup).where(PortSecurityGroup.port_id == port.id))
        return port

    async def _interface_info(self, s, row: Router, port_id: str, network_id: str) -> dict:  # noqa: ANN001
        subnet_ids = list(await s.scalars(select(IPAllocation.subnet_id).where(
            IPAllocation.port_id == port_id)))
        return {"id": row.id, "tenant_id": row.project_id, "project_id": row.project_id,
                "port_id": port_id, "network_id": network_id,
                "subnet_id": subnet_ids[0] if subnet_ids else None, "subnet_ids": subnet_ids}

    async def remove_interface(self, ctx: RequestContext, id_: str, body: Any) -> dict:
        req = self._interface_body(body, adding=False)
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "update")
            port = await self._find_interface(s, row, req)
            info = await self._interface_info(s, row, port.id, port.network_id)
            await self._refuse_in_use(s, row, info["subnet_ids"])
            await self.svc.ports.delete_in(s, port)
            return info

    async def _find_interface(self, s, row: Router, req: schemas.InterfaceBody) -> Port:  # noqa: ANN001
        q = select(Port).where(Port.device_id == row.id, Port.device_owner == ROUTER_INTERFACE)
        if req.port_id is not None:
            port = (await s.execute(q.where(Port.id == req.port_id))).scalar()
            if port is None:
                raise errors.named(errors.exc.NotFound, "RouterInterfaceNotFound",
                                   f"Router {row.id} does not have an interface with id "
                                   f"{req.port_id}")
            return port
        port = (await s.execute(q.join(IPAllocation, IPAllocation.port_id == Port.id)
                                .where(IPAllocation.subnet_id == req.subnet_id))).scalar()
        if port is None:
            raise errors.named(errors.exc.NotFound, "RouterInterfaceNotFoundForSubnet",
                               f"Router {row.id} has no interface on subnet {req.subnet_id}")
        return port

    async def _refuse_in_use(self, s, row: Router, subnet_ids: list[str]) -> None:  # noqa: ANN001
        cidrs = [ipaddress.ip_network(c) for c in await s.scalars(
            select(Subnet.cidr).where(Subnet.id.in_(subnet_ids)))]
        for fip in await s.scalars(select(FloatingIP).where(FloatingIP.router_id == row.id)):
            if fip.fixed_ip_address and any(
                    ipaddress.ip_address(fip.fixed_ip_address) in c for c in cidrs):
                raise errors.conflict("RouterInterfaceInUseByFloatingIP",
                                      f"Router interface for subnet {subnet_ids[0]} on router "
                                      f"{row.id} cannot be deleted, as it is required by one "
                                      "or more floating IPs.")
        for route in row.routes:
            if any(ipaddress.ip_address(route["nexthop"]) in c for c in cidrs):
                raise errors.conflict("RouterInterfaceInUseByRoute",
                                      f"Router interface for subnet {subnet_ids[0]} on router "
                                      f"{row.id} cannot be deleted, as it is required by one "
                                      "or more routes.")

    async def router_for(self, s, network_id: str, subnet_id: str) -> str | None:  # noqa: ANN001
        """A router with a gateway on the external network and an interface on the subnet."""
        return await s.scalar(
            select(Router.id).join(Port, Port.device_id == Router.id)
            .join(IPAllocation, IPAllocation.port_id == Port.id)
            .where(Router.gw_network_id == network_id, Port.device_owner == ROUTER_INTERFACE,
                   IPAllocation.subnet_id == subnet_id).limit(1))
