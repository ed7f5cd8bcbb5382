"""/resource_providers/{uuid}/inventories and .../inventories/{resource_class}."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from pocketstack.core import exceptions as exc
from pocketstack.placement import http, schemas
from pocketstack.placement.models import ResourceProvider
from pocketstack.placement.objects import inventory, resource_provider
from pocketstack.placement.objects.inventory import FIELDS, InventoryRecord


def record(req: Request, rc: str, data: schemas.InventoryFields) -> InventoryRecord:
    rec = InventoryRecord(**{f: getattr(data, f) for f in FIELDS})
    rec.allocation_ratio = float(rec.allocation_ratio)
    rec.check(rc, allow_reserved_equal_total=http.want(req, "1.26"))
    return rec


def fields(inv) -> dict:  # noqa: ANN001
    return {f: getattr(inv, f) for f in FIELDS}


async def render_all(s: AsyncSession, rp: ResourceProvider) -> dict:
    invs = await inventory.of_provider(s, rp.id)
    return {"inventories": {n: fields(i) for n, i in invs.items()},
            "resource_provider_generation": rp.generation}


async def render_one(s: AsyncSession, rp: ResourceProvider, rc: str) -> dict:
    invs = await inventory.of_provider(s, rp.id)
    if rc not in invs:
        raise exc.NotFound(f"No inventory of class {rc} for {rp.uuid}")
    return {"resource_provider_generation": rp.generation, **fields(invs[rc])}


async def list_inventories(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:inventories:list")
    async with svc.db.read() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        return http.respond(await render_all(s, rp))


async def replace_inventories(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:inventories:update")
    data = await http.body(req, schemas.InventoriesUpdate)
    wanted = {rc: record(req, rc, inv) for rc, inv in data.inventories.items()}
    async with svc.write() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        await inventory.replace(s, rp, data.resource_provider_generation, wanted)
        return http.respond(await render_all(s, rp))


async def delete_inventories(req: Request) -> Response:
    http.require(req, "1.5", status=405)
    svc = http.authorize(req, "placement:resource_providers:inventories:delete")
    async with svc.write() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        await inventory.replace(s, rp, rp.generation, {})
    return http.respond(None, 204)


async def create_inventory(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:inventories:create")
    data = await http.body(req, schemas.InventoryCreate)
    rc = data.resource_class
    async with svc.write() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        await inventory.set_one(s, rp, data.resource_provider_generation, rc,
                                record(req, rc, data), create=True)
        body = await render_one(s, rp, rc)
    where = f"/resource_providers/{rp.uuid}/inventories/{rc}"
    return http.respond(body, 201, http.location(req, where))


async def show_inventory(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:inventories:show")
    async with svc.db.read() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        return http.respond(await render_one(s, rp, req.path_params["resource_class"]))


async def update_inventory(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:inventories:update")
    data = await http.body(req, schemas.InventoryUpdate)
    rc = req.path_params["resource_class"]
    async with svc.write() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        await inventory.set_one(s, rp, data.resource_provider_generation, rc,
                                record(req, rc, data), create=False)
        return http.respond(await render_one(s, rp, rc))


async def delete_inventory(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:inventories:delete")
    async with svc.write() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        await inventory.delete_one(s, rp, None, req.path_params["resource_class"])
    return http.respond(None, 204)
