"""/os-aggregates: host aggregates with metadata and an availability zone (what
the availability zone and aggregate metadata filters read); admin only."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from sqlalchemy import select

from pocketstack.compute.api.deps import Ctx, Mv, api, body_of, enforce
from pocketstack.compute.api.microversions import at_least
from pocketstack.compute.api.views import iso
from pocketstack.compute.models import Aggregate
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.microversion import Version

router = APIRouter(prefix="/v2.1/os-aggregates")
JSON = Annotated[Any, Body()]


def view(a: Aggregate, mv: Version) -> dict[str, Any]:
    metadata = dict(a.metadata_ or {})
    if a.availability_zone:
        metadata["availability_zone"] = a.availability_zone
    body = {"id": a.id, "name": a.name, "availability_zone": a.availability_zone,
            "hosts": list(a.hosts), "metadata": metadata, "created_at": iso(a.created_at),
            "updated_at": None, "deleted": False, "deleted_at": None}
    if at_least(mv, "2.41"):
        body["uuid"] = a.uuid
    return body


def _name(value: Any, field: str = "name") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value.strip()) <= 255:
        raise exc.BadRequest(f"Invalid input for field/attribute {field}.")
    return value.strip()


async def _changed(request: Request, ctx: RequestContext) -> None:
    await api(request).scheduler.reload(ctx)


async def _get(s: Any, aggregate_id: str) -> Aggregate:
    found = None
    if aggregate_id.isdigit():
        found = await s.get(Aggregate, int(aggregate_id))
    else:
        found = await s.scalar(select(Aggregate).where(Aggregate.uuid == aggregate_id))
    if found is None:
        raise exc.NotFound(f"Aggregate {aggregate_id} could not be found.")
    return found


@router.get("")
async def index(request: Request, ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    enforce(request, ctx, "os_compute_api:os-aggregates")
    return {"aggregates": [view(a, mv) for a in await api(request).store.aggregates()]}


@router.post("")
async def create(request: Request, body: JSON, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> dict:
    enforce(request, ctx, "os_compute_api:os-aggregates")
    raw = body_of(body, "aggregate")
    if set(raw) - {"name", "availability_zone"}:
        raise exc.BadRequest("Invalid input for field/attribute aggregate.")
    name, zone = _name(raw.get("name")), _name(raw.get("availability_zone"),
                                                "availability_zone")
    if name is None:
        raise exc.BadRequest("Invalid input for field/attribute name.")
    async with api(request).db.write() as s:
        if await s.scalar(select(Aggregate).where(Aggregate.name == name)) is not None:
            raise exc.Conflict(f"Aggregate {name} already exists.")
        agg = Aggregate(uuid=str(uuid.uuid4()), name=name, availability_zone=zone,
                        metadata_={}, hosts=[])
        s.add(agg)
    await _changed(request, ctx)
    return {"aggregate": view(agg, mv)}


@router.get("/{aggregate_id}")
async def show(aggregate_id: str, request: Request, ctx: RequestContext = Ctx,
               mv: Version = Mv) -> dict:
    enforce(request, ctx, "os_compute_api:os-aggregates")
    async with api(request).db.read() as s:
        return {"aggregate": view(await _get(s, aggregate_id), mv)}


@router.put("/{aggregate_id}")
async def update(aggregate_id: str, request: Request, body: JSON, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> dict:
    enforce(request, ctx, "os_compute_api:os-aggregates")
    raw = body_of(body, "aggregate")
    if not raw or set(raw) - {"name", "availability_zone"}:
        raise exc.BadRequest("Invalid input for field/attribute aggregate.")
    async with api(request).db.write() as s:
        agg = await _get(s, aggregate_id)
        if "name" in raw:
            agg.name = _name(raw["name"])
        if "availability_zone" in raw:
            agg.availability_zone = _name(raw["availability_zone"], "availability_zone")
    await _changed(request, ctx)
    return {"aggregate": view(agg, mv)}


@router.delete("/{aggregate_id}")
async def delete(aggregate_id: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    enforce(request, ctx, "os_compute_api:os-aggregates")
    async with api(request).db.write() as s:
        agg = await _get(s, aggregate_id)
        if agg.hosts:
            raise exc.BadRequest(f"Aggregate {aggregate_id} still has hosts.")
        await s.delete(agg)
    await _changed(request, ctx)
    return Response(status_code=200)


@router.post("/{aggregate_id}/action")
async def action(aggregate_id: str, request: Request, body: JSON, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> dict:
    enforce(request, ctx, "os_compute_api:os-aggregates")
    if not isinstance(body, dict) or len(body) != 1:
        raise exc.BadRequest("Invalid aggregate action: one of add_host, remove_host, "
                             "set_metadata expected.")
    (name, arg), = body.items()
    if name not in ("add_host", "remove_host", "set_metadata") or not isinstance(arg, dict):
        raise exc.BadRequest(f"Invalid aggregate action {name}.")
    svc = api(request)
    if name != "set_metadata":
        host = _name(arg.get("host"), "host")
        if host is None or host not in {r.host for r in await svc.store.records.list(
                binary="nova-compute")}:
            raise exc.NotFound(f"Compute host {arg.get('host')} could not be found.")
    async with svc.db.write() as s:
        agg = await _get(s, aggregate_id)
        if name == "add_host":
            if host in agg.hosts:
                raise exc.Conflict(f"Host {host} is already in aggregate {aggregate_id}.")
            agg.hosts = [*agg.hosts, host]
        elif name == "remove_host":
            if host not in agg.hosts:
                raise exc.NotFound(f"Host {host} is not in aggregate {aggregate_id}.")
            agg.hosts = [h for h in agg.hosts if h != host]
        else:
            _set_metadata(agg, arg.get("metadata"))
    await _changed(request, ctx)
    return {"aggregate": view(agg, mv)}


def _set_metadata(agg: Aggregate, metadata: Any) -> None:
    if not isinstance(metadata, dict):
        raise exc.BadRequest("Invalid input for field/attribute metadata.")
    merged = dict(agg.metadata_ or {})
    for key, value in metadata.items():
        if not isinstance(key, str) or not 0 < len(key) <= 255 or not (
                value is None or isinstance(value, str) and len(value) <= 255):
            raise exc.BadRequest(f"Invalid input for field/attribute metadata: {key!r}.")
        if key == "availability_zone":
            agg.availability_zone = value
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    agg.metadata_ = merged
