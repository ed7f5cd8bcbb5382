"""Regions, services and endpoints (/v3/regions, /v3/services, /v3/endpoints)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import delete, select

from pocketstack.core import exceptions as exc
from pocketstack.identity import models as m
from pocketstack.identity.api.common import base, collection, enforce, ident, new_router, where
from pocketstack.identity.schemas.catalog import (
    EndpointBody,
    EndpointUpdateBody,
    RegionBody,
    RegionUpdateBody,
    ServiceBody,
    ServiceUpdateBody,
    endpoint_view,
    region_view,
    service_view,
)
from pocketstack.identity.schemas.common import changes

router = new_router()


# -- regions ------------------------------------------------------------------

@router.get("/v3/regions")
async def list_regions(request: Request) -> dict[str, Any]:
    enforce(request, "identity:list_regions")
    q = select(m.Region).where(*where(request, m.Region, "parent_region_id")).order_by(m.Region.id)
    async with ident(request).db.read() as s:
        rows = (await s.execute(q)).scalars().all()
    return collection(request, "regions", [region_view(r, base(request)) for r in rows])


@router.get("/v3/regions/{region_id}")
async def get_region(request: Request, region_id: str) -> dict[str, Any]:
    enforce(request, "identity:get_region")
    async with ident(request).db.read() as s:
        row = await ident(request).get(s, m.Region, region_id, "region")
    return {"region": region_view(row, base(request))}


async def _create_region(request: Request, body: RegionBody, region_id: str | None) -> dict:
    enforce(request, "identity:create_region")
    r = body.region
    svc = ident(request)
    async with svc.write() as s:
        new_id = region_id or r.id or m.new_id()
        if await s.get(m.Region, new_id) is not None:
            raise exc.Conflict(f"Conflict occurred attempting to store region - "
                               f"Duplicate ID, {new_id}.")
        if r.parent_region_id is not None:
            await svc.get(s, m.Region, r.parent_region_id, "region")
        row = m.Region(id=new_id, description=r.description,
                       parent_region_id=r.parent_region_id)
        s.add(row)
    return {"region": region_view(row, base(request))}


@router.post("/v3/regions", status_code=201)
async def create_region(request: Request, body: RegionBody) -> dict[str, Any]:
    return await _create_region(request, body, None)


@router.put("/v3/regions/{region_id}", status_code=201)
async def create_region_with_id(request: Request, region_id: str,
                                body: RegionBody) -> dict[str, Any]:
    if body.region.id not in (None, region_id):
        raise exc.BadRequest("The region id in the URL and the body differ.")
    return await _create_region(request, body, region_id)


@router.patch("/v3/regions/{region_id}")
async def update_region(request: Request, region_id: str,
                        body: RegionUpdateBody) -> dict[str, Any]:
    enforce(request, "identity:update_region")
    svc = ident(request)
    async with svc.write() as s:
        row = await svc.get(s, m.Region, region_id, "region")
        for key, value in changes(body.region).items():
            setattr(row, key, value)
    return {"region": region_view(row, base(request))}


@router.delete("/v3/regions/{region_id}", status_code=204)
async def delete_region(request: Request, region_id: str) -> None:
    enforce(request, "identity:delete_region")
    svc = ident(request)
    async with svc.write() as s:
        row = await svc.get(s, m.Region, region_id, "region")
        child = (await s.execute(select(m.Region.id).where(
            m.Region.parent_region_id == region_id).limit(1))).first()
        if child is not None:
            raise exc.Forbidden(f"Cannot delete region {region_id}: it has child regions.")
        await s.delete(row)


# -- services -----------------------------------------------------------------

@router.get("/v3/services")
async def list_services(request: Request) -> dict[str, Any]:
    enforce(request, "identity:list_services")
    q = select(m.Service).where(*where(request, m.Service, "type", "name")).order_by(m.Service.id)
    async with ident(request).db.read() as s:
        rows = (await s.execute(q)).scalars().all()
    return collection(request, "services", [service_view(r, base(request)) for r in rows])


@router.get("/v3/services/{service_id}")
async def get_service(request: Request, service_id: str) -> dict[str, Any]:
    enforce(request, "identity:get_service")
    async with ident(request).db.read() as s:
        row = await ident(request).get(s, m.Service, service_id, "service")
    return {"service": service_view(row, base(request))}


@router.post("/v3/services", status_code=201)
async def create_service(request: Request, body: ServiceBody) -> dict[str, Any]:
    enforce(request, "identity:create_service")
    row = m.Service(id=m.new_id(), **body.service.model_dump())
    async with ident(request).write() as s:
        s.add(row)
    return {"service": service_view(row, base(request))}


@router.patch("/v3/services/{service_id}")
async def update_service(request: Request, service_id: str,
                         body: ServiceUpdateBody) -> dict[str, Any]:
    enforce(request, "identity:update_service")
    svc = ident(request)
    async with svc.write() as s:
        row = await svc.get(s, m.Service, service_id, "service")
        for key, value in changes(body.service).items():
            setattr(row, key, value)
    return {"service": service_view(row, base(request))}


@router.delete("/v3/services/{service_id}", status_code=204)
async def delete_service(request: Request, service_id: str) -> None:
    enforce(request, "identity:delete_service")
    svc = ident(request)
    async with svc.write() as s:
        row = await svc.get(s, m.Service, service_id, "service")
        await s.execute(delete(m.Endpoint).where(m.Endpoint.service_id == service_id))
        await s.delete(row)


# -- endpoints ----------------------------------------------------------------

@router.get("/v3/endpoints")
async def list_endpoints(request: Request) -> dict[str, Any]:
    enforce(request, "identity:list_endpoints")
    q = select(m.Endpoint).where(
        *where(request, m.Endpoint, "interface", "service_id", "region_id")).order_by(
        m.Endpoint.service_id, m.Endpoint.interface)
    async with ident(request).db.read() as s:
        rows = (await s.execute(q)).scalars().all()
    return collection(request, "endpoints", [endpoint_view(r, base(request)) for r in rows])


@router.get("/v3/endpoints/{endpoint_id}")
async def get_endpoint(request: Request, endpoint_id: str) -> dict[str, Any]:
    enforce(request, "identity:get_endpoint")
    async with ident(request).db.read() as s:
        row = await ident(request).get(s, m.Endpoint, endpoint_id, "endpoint")
    return {"endpoint": endpoint_view(row, base(request))}


async def _check_refs(request: Request, s, service_id: str | None,  # noqa: ANN001
                      region_id: str | None) -> None:
    svc = ident(request)
    if service_id is not None:
        await svc.get(s, m.Service, service_id, "service")
    if region_id is not None:
        await svc.get(s, m.Region, region_id, "region")


@router.post("/v3/endpoints", status_code=201)
async def create_endpoint(request: Request, body: EndpointBody) -> dict[str, Any]:
    enforce(request, "identity:create_endpoint")
    e = body.endpoint
    region_id = e.region_id or e.region
    async with ident(request).write() as s:
        await _check_refs(request, s, e.service_id, region_id)
        row = m.Endpoint(id=m.new_id(), service_id=e.service_id, interface=e.interface,
                         url=e.url, region_id=region_id, enabled=e.enabled)
        s.add(row)
    return {"endpoint": endpoint_view(row, base(request))}


@router.patch("/v3/endpoints/{endpoint_id}")
async def update_endpoint(request: Request, endpoint_id: str,
                          body: EndpointUpdateBody) -> dict[str, Any]:
    enforce(request, "identity:update_endpoint")
    svc = ident(request)
    update = changes(body.endpoint)
    if "region" in update:
        update.setdefault("region_id", update.pop("region"))
    async with svc.write() as s:
        row = await svc.get(s, m.Endpoint, endpoint_id, "endpoint")
        await _check_refs(request, s, update.get("service_id"), update.get("region_id"))
        for key, value in update.items():
            setattr(row, key, value)
    return {"endpoint": endpoint_view(row, base(request))}


@router.delete("/v3/endpoints/{endpoint_id}", status_code=204)
async def delete_endpoint(request: Request, endpoint_id: str) -> None:
    enforce(request, "identity:delete_endpoint")
    svc = ident(request)
    async with svc.write() as s:
        await s.delete(await svc.get(s, m.Endpoint, endpoint_id, "endpoint"))
