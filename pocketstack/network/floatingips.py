"""Floating IPs: an address (held by a port) on an external network, associated
with a project port's fixed IP through a router that joins the two."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select

from pocketstack.core.context import RequestContext
from pocketstack.network import errors, query, schemas, views
from pocketstack.network.models import FloatingIP, Port
from pocketstack.network.ports import FLOATINGIP
from pocketstack.network.resource import Resource, new_id, set_tags

SYSTEM = RequestContext.admin()


class FloatingIPs(Resource):
    resource, collection, model = "floatingip", "floatingips", FloatingIP
    listing = query.Listing(FloatingIP, renames={"tenant_id": "project_id"})

    def view(self, row: FloatingIP, tags: list[str], ctx: RequestContext) -> dict[str, Any]:
        return views.floatingip(row, tags, ctx)

    async def create(self, ctx: RequestContext, body: dict) -> dict:
        req = schemas.parse(schemas.FloatingIPCreate, body, "floatingip")
        async with self.db.write() as s:
            project = self.owner_of(ctx, req)
            self.check_attrs(ctx, "create", req.given(),
                             {"floating_ip_address": "floating_ip_address"},
                             {"project_id": project})
            network = await self.svc.networks.get(s, ctx, req.floating_network_id)
            if not network.external:
                raise errors.bad_request(f"Bad floatingip request: Network "
                                         f"{network.id} is not a valid external network.")
            await self.check_quota(s, project)
            row = FloatingIP(id=new_id(), project_id=project,
                             description=req.description or "",
                             floating_network_id=network.id)
            row.floating_port_id, row.floating_ip_address = await self._address(s, row, req)
            s.add(row)
            if req.port_id is not None:
                await self._associate(s, ctx, row, req.port_id, req.fixed_ip_address)
            return await self.one_view(s, ctx, row)

    async def _address(self, s, row: FloatingIP,  # noqa: ANN001
                       req: schemas.FloatingIPCreate) -> tuple[str, str]:
        fixed = None
        if req.floating_ip_address or req.subnet_id:
            fixed = [schemas.FixedIP(subnet_id=req.subnet_id,
                                     ip_address=req.floating_ip_address)]
        port, _ = await self.svc.ports.create_in(s, SYSTEM, schemas.PortCreate(
            network_id=row.floating_network_id, fixed_ips=fixed, device_id=row.id,
            device_owner=FLOATINGIP, project_id=""), internal=True)
        await s.flush()
        await s.refresh(port, ["fixed_ips"])
        v4 = [a for a in port.fixed_ips if ":" not in a.ip_address] or list(port.fixed_ips)
        if not v4:
            raise errors.conflict("ExternalIpAddressExhausted",
                                  "Unable to find any IP address on external network "
                                  f"{row.floating_network_id}.")
        return port.id, v4[0].ip_address

    async def _associate(self, s, ctx: RequestContext, row: FloatingIP, port_id: str,  # noqa: ANN001
                         fixed_ip: str | None) -> None:
        port = await self.svc.ports.get(s, ctx, port_id)
        if not ctx.is_admin and port.project_id != row.project_id:
            raise errors.not_found("port", port_id)
        allocation = self._fixed_ip(port, fixed_ip)
        taken = await s.scalar(select(FloatingIP.id).where(
            FloatingIP.port_id == port.id, FloatingIP.fixed_ip_address == allocation.ip_address,
            FloatingIP.id != row.id))
        if taken:
            raise errors.conflict(
                "FloatingIPPortAlreadyAssociated",
                f"Cannot associate floating IP {row.floating_ip_address} ({row.id}) with port "
                f"{port.id} using fixed IP {allocation.ip_address}, as that fixed IP already "
                f"has a floating IP on external network {row.floating_network_id}.")
        router = await self.svc.routers.router_for(s, row.floating_network_id,
                                                   allocation.subnet_id)
        if router is None:
            raise errors.named(
                errors.exc.NotFound, "ExternalGatewayForFloatingIPNotFound",
                f"External network {row.floating_network_id} is not reachable from subnet "
                f"{allocation.subnet_id}.  Therefore, cannot associate Port {port.id} with a "
                "Floating IP.")
        row.port_id, row.fixed_ip_address = port.id, allocation.ip_address
        row.router_id, row.status = router, "ACTIVE"

    @staticmethod
    def _fixed_ip(port: Port, fixed_ip: str | None) -> Any:
        v4 = [a for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
        if fixed_ip is not None:
            for a in port.fixed_ips:
                if a.ip_address == fixed_ip:
                    return a
            raise errors.bad_request(f"Bad floatingip request: Port {port.id} does not have "
                                     f"fixed ip {fixed_ip}.")
        if not v4:
            raise errors.bad_request(f"Bad floatingip request: Port {port.id} does not have "
                                     "any fixed IPv4 addresses.")
        if len(v4) > 1:
            raise errors.bad_request(f"Bad floatingip request: Port {port.id} has multiple "
                                     "fixed IPv4 addresses.  Must provide a specific IPv4 "
                                     "address when assigning a floating IP.")
        return v4[0]

    async def update(self, ctx: RequestContext, id_: str, body: dict) -> dict:
        req = schemas.parse(schemas.FloatingIPUpdate, body, "floatingip")
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "update")
            given = req.given()
            if req.description is not None:
                row.description = req.description
            if "port_id" in given:
                if req.port_id is None:
                    row.port_id = row.fixed_ip_address = row.router_id = None
                    row.status = "DOWN"
                else:
                    await self._associate(s, ctx, row, req.port_id, req.fixed_ip_address)
            self.touch(row)
            return await self.one_view(s, ctx, row)

    async def delete(self, ctx: RequestContext, id_: str) -> None:
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "delete")
            port = await s.get(Port, row.floating_port_id)
            await s.delete(row)
            await s.flush()
            if port is not None:
                await self.svc.ports.delete_in(s, port)
            await set_tags(s, id_, [])
