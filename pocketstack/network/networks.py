"""Networks: create (with a provider segment), update, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pocketstack.core.context import RequestContext
from pocketstack.network import errors, query, schemas, segments, views
from pocketstack.network.models import Network, Port
from pocketstack.network.resource import Resource, new_id, set_tags
from pocketstack.network.subnets import DHCP_OWNER

PROVIDER_FIELDS = {"network_type": "provider", "physical_network": "provider",
                   "segmentation_id": "provider"}
GUARDED = {"shared": "shared", "external": "router:external"} | PROVIDER_FIELDS


class Networks(Resource):
    resource, collection, model = "network", "networks", Network
    listing = query.Listing(Network, renames={
        "tenant_id": "project_id", "router:external": "external",
        "provider:network_type": "network_type",
        "provider:physical_network": "physical_network",
        "provider:segmentation_id": "segmentation_id",
    })

    def visible(self, ctx: RequestContext) -> Any | None:
        if ctx.is_admin:
            return None
        return (Network.project_id == ctx.project_id) | Network.shared | Network.external

    def view(self, row: Network, tags: list[str], ctx: RequestContext) -> dict[str, Any]:
        return views.network(row, tags, ctx)

    async def create(self, ctx: RequestContext, body: dict) -> dict:
        req = schemas.parse(schemas.NetworkCreate, body, "network")
        async with self.db.write() as s:
            row = await self.create_in(s, ctx, req)
            out = await self.one_view(s, ctx, row)
        await self.svc.notifier.network_changed(ctx, row.id)
        return out

    async def create_in(self, s, ctx: RequestContext, req: schemas.NetworkCreate) -> Network:  # noqa: ANN001
        project = self.owner_of(ctx, req)
        given = req.given()
        self.check_attrs(ctx, "create", given, GUARDED, {"project_id": project})
        await self.check_quota(s, project)
        seg = await segments.choose(s, self.svc.cfg, req.network_type, req.physical_network,
                                    req.segmentation_id)
        if seg.key and await s.scalar(select(Network.id).where(Network.segment_key == seg.key)):
            raise errors.conflict("SegmentInUse", f"Segment {seg.key} is in use.")
        mtu = segments.mtu_for(self.svc.cfg, seg.network_type)
        if req.mtu is not None and req.mtu > mtu:
            raise errors.invalid_input(f"Requested MTU is too big, maximum is {mtu}")
        row = Network(
            id=new_id(), project_id=project, name=req.name or "",
            description=req.description or "",
            admin_state_up=req.admin_state_up is not False, shared=bool(req.shared),
            external=bool(req.external), mtu=req.mtu or mtu,
            port_security_enabled=req.port_security_enabled is not False,
            availability_zone_hints=req.availability_zone_hints or [],
            network_type=seg.network_type, physical_network=seg.physical_network,
            segmentation_id=seg.segmentation_id, segment_key=seg.key,
        )
        s.add(row)
        return row

    async def update(self, ctx: RequestContext, id_: str, body: dict) -> dict:
        req = schemas.parse(schemas.NetworkUpdate, body, "network")
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "update")
            given = req.given()
            self.check_attrs(ctx, "update", given, GUARDED, {"project_id": row.project_id})
            for field in ("name", "description", "admin_state_up", "shared", "external",
                          "port_security_enabled"):
                if given.get(field) is not None:
                    setattr(row, field, given[field])
            if req.mtu is not None:
                limit = segments.mtu_for(self.svc.cfg, row.network_type)
                if req.mtu > limit:
                    raise errors.invalid_input(f"Requested MTU is too big, maximum is {limit}")
                row.mtu = req.mtu
            if given.get("external") is False:
                await self.svc.routers.refuse_if_gateway(s, row.id)
            self.touch(row)
            out = await self.one_view(s, ctx, row)
        await self.svc.notifier.network_changed(ctx, id_)
        return out

    async def delete(self, ctx: RequestContext, id_: str) -> None:
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "delete")
            in_use = await s.scalar(select(Port.id).where(
                Port.network_id == id_, Port.device_owner != DHCP_OWNER).limit(1))
            if in_use:
                raise errors.conflict(
                    "NetworkInUse",
                    f"Unable to complete operation on network {id_}. There are one or more "
                    "ports still in use on the network.")
            for port in list(await s.scalars(select(Port).where(Port.network_id == id_))):
                await self.svc.ports.delete_in(s, port)  # DHCP ports go with their network
            for subnet in list(row.subnets):
                await self.svc.subnets.delete_in(s, subnet)
            await set_tags(s, id_, [])
            await s.delete(row)
        await self.svc.notifier.network_changed(ctx, id_)
