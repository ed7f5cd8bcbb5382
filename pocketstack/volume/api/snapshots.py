"""/v3/{project_id}/snapshots: create, list, show, update, delete, metadata,
and the admin actions os-reset_status and os-force_delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from pocketstack.core import exceptions as exc
from pocketstack.core.paging import next_link, parse_limit
from pocketstack.volume import schemas
from pocketstack.volume.api.common import (
    all_projects,
    base,
    body,
    ctx,
    enforce,
    parse,
    service,
    sort_keys,
    unwrap,
    version,
)
from pocketstack.volume.models import Snapshot

router = APIRouter()

SORT_KEYS = {"id", "name", "status", "size", "created_at", "updated_at"}
FILTERS = ("name", "status", "volume_id", "project_id")


def detail(request: Request, snap: Snapshot) -> dict[str, Any]:
    return schemas.snapshot_detail(snap, base(request), tuple(version(request)))


@router.post("/v3/snapshots", status_code=202)
async def create(request: Request) -> dict[str, Any]:
    enforce(request, "volume:create_snapshot")
    req = unwrap(await body(request), "snapshot", schemas.SnapshotCreate)
    snap = await service(request).create_snapshot(ctx(request), req)
    return {"snapshot": detail(request, snap)}


async def _list(request: Request, full: bool) -> dict[str, Any]:
    enforce(request, "volume:get_all_snapshots")
    q = request.query_params
    limit = parse_limit(q.get("limit"))
    snaps = await service(request).list_snapshots(
        ctx(request), filters={k: q[k] for k in FILTERS if k in q},
        all_projects=all_projects(request), limit=limit, marker=q.get("marker"),
        sort=sort_keys(request, SORT_KEYS))
    items = [detail(request, s) if full else schemas.snapshot_summary(s) for s in snaps]
    result: dict[str, Any] = {"snapshots": items}
    link = next_link(request, items, limit)
    if link:
        result["snapshots_links"] = [{"href": link, "rel": "next"}]
    return result


@router.get("/v3/snapshots")
async def index(request: Request) -> dict[str, Any]:
    return await _list(request, full=False)


@router.get("/v3/snapshots/detail")
async def index_detail(request: Request) -> dict[str, Any]:
    return await _list(request, full=True)


async def _owned(request: Request, snapshot_id: str, action: str) -> Snapshot:
    snap = await service(request).get_snapshot(ctx(request), snapshot_id)
    enforce(request, action, {"project_id": snap.project_id})
    return snap


@router.get("/v3/snapshots/{snapshot_id}")
async def show(request: Request, snapshot_id: str) -> dict[str, Any]:
    return {"snapshot": detail(request, await _owned(request, snapshot_id, "volume:get_snapshot"))}


@router.put("/v3/snapshots/{snapshot_id}")
async def update(request: Request, snapshot_id: str) -> dict[str, Any]:
    await _owned(request, snapshot_id, "volume:update_snapshot")
    req = unwrap(await body(request), "snapshot", schemas.SnapshotUpdate)
    snap = await service(request).update_snapshot(ctx(request), snapshot_id, req)
    return {"snapshot": detail(request, snap)}


@router.delete("/v3/snapshots/{snapshot_id}", status_code=202)
async def delete(request: Request, snapshot_id: str) -> Response:
    await _owned(request, snapshot_id, "volume:delete_snapshot")
    await service(request).delete_snapshot(ctx(request), snapshot_id)
    return Response(status_code=202)


@router.get("/v3/snapshots/{snapshot_id}/metadata")
async def metadata(request: Request, snapshot_id: str) -> dict[str, Any]:
    snap = await _owned(request, snapshot_id, "volume:get_snapshot")
    return {"metadata": dict(snap.meta or {})}


@router.post("/v3/snapshots/{snapshot_id}/metadata")
async def add_metadata(request: Request, snapshot_id: str) -> dict[str, Any]:
    await _owned(request, snapshot_id, "volume:update_snapshot")
    req = parse(await body(request), schemas.MetadataBody)
    svc = service(request)
    async with svc.db.write() as s:
        snap = await s.get(Snapshot, snapshot_id)
        snap.meta = {**(snap.meta or {}), **req.metadata}
        return {"metadata": dict(snap.meta)}


@router.post("/v3/snapshots/{snapshot_id}/action")
async def action(request: Request, snapshot_id: str) -> Response:
    data = await body(request)
    if len(data) != 1:
        raise exc.BadRequest("There is either no action or more than one action in the "
                             "request body.")
    name, args = next(iter(data.items()))
    await _owned(request, snapshot_id, "volume:get_snapshot")
    svc = service(request)
    if name == "os-reset_status":
        enforce(request, "volume_extension:snapshot_admin_actions:reset_status")
        status = (args or {}).get("status") if isinstance(args, dict) else None
        if not isinstance(status, str):
            raise exc.BadRequest("Invalid input received: Must specify 'status'.")
        await svc.reset_snapshot_status(ctx(request), snapshot_id, status)
    elif name == "os-force_delete":
        enforce(request, "volume_extension:snapshot_admin_actions:force_delete")
        await svc.delete_snapshot(ctx(request), snapshot_id, force=True)
    else:
        raise exc.BadRequest(f"There is no such action: {name}")
    return Response(status_code=202)
