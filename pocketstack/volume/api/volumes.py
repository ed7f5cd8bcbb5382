"""/v3/{project_id}/volumes: create, list, show, update, delete, metadata and
the volume actions (os-extend, os-set_bootable, os-volume_upload_image,
os-reset_status, os-force_delete, revert)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from pocketstack.core import exceptions as exc
from pocketstack.core.paging import next_link, parse_limit
from pocketstack.volume import schemas, store
from pocketstack.volume.api.common import (
    all_projects,
    base,
    body,
    ctx,
    enforce,
    parse,
    service,
    sort_keys,
    truthy,
    unwrap,
    version,
)
from pocketstack.volume.models import Volume

router = APIRouter()

SORT_KEYS = {"id", "name", "status", "size", "created_at", "updated_at", "availability_zone",
             "bootable"}
FILTERS = {"name": "name", "status": "status", "availability_zone": "availability_zone",
           "bootable": "bootable", "volume_type": "volume_type", "project_id": "project_id",
           "user_id": "user_id"}


async def render(request: Request, vols: list[Volume]) -> list[dict[str, Any]]:
    svc = service(request)
    async with svc.db.read() as s:
        types = await store.types_by_ids(s, {v.volume_type_id for v in vols})
        atts = await store.attachments_of(s, [v.id for v in vols])
    admin = ctx(request).is_admin
    return [schemas.volume_detail(v, base(request), type_name=getattr(
        types.get(v.volume_type_id), "name", None), attachments=atts[v.id], admin=admin)
        for v in vols]


async def one(request: Request, vol: Volume) -> dict[str, Any]:
    return {"volume": (await render(request, [vol]))[0]}


@router.post("/v3/volumes", status_code=202)
async def create(request: Request) -> dict[str, Any]:
    enforce(request, "volume:create")
    data = await body(request)
    req = unwrap(data, "volume", schemas.VolumeCreate)
    if "OS-SCH-HNT:scheduler_hints" in data and not isinstance(
            data["OS-SCH-HNT:scheduler_hints"], dict):
        raise exc.BadRequest("Invalid input received: scheduler_hints must be an object.")
    vol = await service(request).create_volume(ctx(request), req)
    return await one(request, vol)


async def _list(request: Request, detail: bool) -> dict[str, Any]:
    enforce(request, "volume:get_all")
    q = request.query_params
    filters: dict[str, Any] = {}
    for param, column in FILTERS.items():
        if param in q:
            filters[column] = q[param]
    if "bootable" in filters:
        filters["bootable"] = truthy(filters["bootable"])
    if "metadata" in q:
        try:
            meta = json.loads(q["metadata"].replace("'", '"'))
        except ValueError:
            raise exc.BadRequest("Invalid input received: metadata filter is not "
                                 "JSON.") from None
        if not isinstance(meta, dict):
            raise exc.BadRequest("Invalid input received: metadata filter is not an object.")
        filters["metadata"] = meta
    limit = parse_limit(q.get("limit"))
    vols = await service(request).list_volumes(
        ctx(request), filters=filters, all_projects=all_projects(request), limit=limit,
        marker=q.get("marker"), sort=sort_keys(request, SORT_KEYS))
    items = await render(request, vols) if detail else [
        schemas.volume_summary(v, base(request)) for v in vols]
    result: dict[str, Any] = {"volumes": items}
    link = next_link(request, items, limit)
    if link:
        result["volumes_links"] = [{"href": link, "rel": "next"}]
    return result


@router.get("/v3/volumes")
async def index(request: Request) -> dict[str, Any]:
    return await _list(request, detail=False)


@router.get("/v3/volumes/detail")
async def detail(request: Request) -> dict[str, Any]:
    return await _list(request, detail=True)


@router.get("/v3/volumes/summary")
async def summary(request: Request) -> dict[str, Any]:
    enforce(request, "volume:get_all")
    vols = await service(request).list_volumes(
        ctx(request), filters={}, all_projects=all_projects(request), limit=None,
        marker=None, sort=[("created_at", "desc")])
    meta: dict[str, list[str]] = {}
    for v in vols:
        for k, val in (v.meta or {}).items():
            meta.setdefault(k, [])
            if val not in meta[k]:
                meta[k].append(val)
    return {"volume-summary": {"total_size": sum(v.size for v in vols),
                               "total_count": len(vols), "metadata": meta}}


@router.get("/v3/volumes/{volume_id}")
async def show(request: Request, volume_id: str) -> dict[str, Any]:
    vol = await service(request).get_volume(ctx(request), volume_id)
    enforce(request, "volume:get", {"project_id": vol.project_id})
    return await one(request, vol)


@router.put("/v3/volumes/{volume_id}")
async def update(request: Request, volume_id: str) -> dict[str, Any]:
    svc = service(request)
    vol = await svc.get_volume(ctx(request), volume_id)
    enforce(request, "volume:update", {"project_id": vol.project_id})
    req = unwrap(await body(request), "volume", schemas.VolumeUpdate)
    return await one(request, await svc.update_volume(ctx(request), volume_id, req))


@router.delete("/v3/volumes/{volume_id}", status_code=202)
async def delete(request: Request, volume_id: str) -> Response:
    svc = service(request)
    vol = await svc.get_volume(ctx(request), volume_id)
    enforce(request, "volume:delete", {"project_id": vol.project_id})
    force = truthy(request.query_params.get("force"))
    if force:
        enforce(request, "volume_extension:volume_admin_actions:force_delete")
    await svc.delete_volume(ctx(request), volume_id,
                            cascade=truthy(request.query_params.get("cascade")), force=force)
    return Response(status_code=202)


# -- metadata -------------------------------------------------------------------

async def _owned(request: Request, volume_id: str, action: str) -> Volume:
    vol = await service(request).get_volume(ctx(request), volume_id)
    enforce(request, action, {"project_id": vol.project_id})
    return vol


@router.get("/v3/volumes/{volume_id}/metadata")
async def metadata(request: Request, volume_id: str) -> dict[str, Any]:
    vol = await _owned(request, volume_id, "volume:get")
    return {"metadata": dict(vol.meta or {})}


@router.post("/v3/volumes/{volume_id}/metadata")
async def add_metadata(request: Request, volume_id: str) -> dict[str, Any]:
    await _owned(request, volume_id, "volume:update")
    req = parse(await body(request), schemas.MetadataBody)
    meta = await service(request).set_metadata(ctx(request), volume_id, req.metadata,
                                               replace=False)
    return {"metadata": meta}


@router.put("/v3/volumes/{volume_id}/metadata")
async def replace_metadata(request: Request, volume_id: str) -> dict[str, Any]:
    await _owned(request, volume_id, "volume:update")
    req = parse(await body(request), schemas.MetadataBody)
    meta = await service(request).set_metadata(ctx(request), volume_id, req.metadata,
                                               replace=True)
    return {"metadata": meta}


@router.get("/v3/volumes/{volume_id}/metadata/{key}")
async def metadata_item(request: Request, volume_id: str, key: str) -> dict[str, Any]:
    vol = await _owned(request, volume_id, "volume:get")
    if key not in (vol.meta or {}):
        raise exc.NotFound(f"Metadata item was not found with key {key}.")
    return {"meta": {key: vol.meta[key]}}


@router.put("/v3/volumes/{volume_id}/metadata/{key}")
async def set_metadata_item(request: Request, volume_id: str, key: str) -> dict[str, Any]:
    await _owned(request, volume_id, "volume:update")
    req = parse(await body(request), schemas.MetaItem)
    if list(req.meta) != [key]:
        raise exc.BadRequest("Request body and URI mismatch")
    await service(request).set_metadata(ctx(request), volume_id, req.meta, replace=False)
    return {"meta": req.meta}


@router.delete("/v3/volumes/{volume_id}/metadata/{key}")
async def delete_metadata_item(request: Request, volume_id: str, key: str) -> Response:
    await _owned(request, volume_id, "volume:update")
    await service(request).delete_metadata_key(ctx(request), volume_id, key)
    return Response(status_code=200)


# -- actions ----------------------------------------------------------------

@router.post("/v3/volumes/{volume_id}/action")
async def action(request: Request, volume_id: str) -> Response:
    data = await body(request)
    if len(data) != 1:
        raise exc.BadRequest("There is either no action or more than one action in the "
                             "request body.")
    name, args = next(iter(data.items()))
    handler = ACTIONS.get(name)
    if handler is None:
        raise exc.BadRequest(f"There is no such action: {name}")
    vol = await service(request).get_volume(ctx(request), volume_id)
    return await handler(request, vol, args if args is not None else {})


async def _extend(request: Request, vol: Volume, args: Any) -> Response:
    enforce(request, "volume:extend", {"project_id": vol.project_id})
    req = parse(args, schemas.Extend)
    await service(request).extend(ctx(request), vol.id, req.new_size)
    return Response(status_code=202)


async def _set_bootable(request: Request, vol: Volume, args: Any) -> Response:
    enforce(request, "volume:update", {"project_id": vol.project_id})
    req = parse(args, schemas.SetBootable)
    await service(request).set_bootable(ctx(request), vol.id, req.bootable)
    return Response(status_code=200)


async def _upload_image(request: Request, vol: Volume, args: Any) -> Response:
    enforce(request, "volume_extension:volume_actions:upload_image",
            {"project_id": vol.project_id})
    req = parse(args, schemas.UploadImage)
    if req.visibility == "public" or req.protected:
        enforce(request, "volume_extension:volume_actions:upload_public")
    result = await service(request).upload_to_image(ctx(request), vol.id, req)
    from fastapi.responses import JSONResponse

    return JSONResponse({"os-volume_upload_image": result}, status_code=202)


async def _reset_status(request: Request, vol: Volume, args: Any) -> Response:
    enforce(request, "volume_extension:volume_admin_actions:reset_status")
    req = parse(args, schemas.ResetStatus)
    await service(request).reset_status(ctx(request), vol.id, req)
    return Response(status_code=202)


async def _force_delete(request: Request, vol: Volume, args: Any) -> Response:
    enforce(request, "volume_extension:volume_admin_actions:force_delete")
    await service(request).delete_volume(ctx(request), vol.id, cascade=True, force=True)
    return Response(status_code=202)


async def _revert(request: Request, vol: Volume, args: Any) -> Response:
    if version(request) < (3, 40):
        raise exc.NotFound("There is no such action: revert")
    enforce(request, "volume:revert_to_snapshot", {"project_id": vol.project_id})
    req = parse(args, schemas.Revert)
    await service(request).revert(ctx(request), vol.id, req.snapshot_id)
    return Response(status_code=202)


ACTIONS = {
    "os-extend": _extend,
    "os-set_bootable": _set_bootable,
    "os-volume_upload_image": _upload_image,
    "os-reset_status": _reset_status,
    "os-force_delete": _force_delete,
    "revert": _revert,
}
