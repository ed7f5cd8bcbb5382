"""/v3/{project_id}/os-quota-sets and /limits: per-project volume quotas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from pocketstack.core import exceptions as exc
from pocketstack.volume import quota, store
from pocketstack.volume.api.common import body, ctx, enforce, service, truthy
from pocketstack.volume.models import VolumeType

router = APIRouter()


async def _type_names(s) -> list[str]:  # noqa: ANN001
    return list((await s.execute(select(VolumeType.name).order_by(VolumeType.name))).scalars())


async def quota_set(request: Request, project_id: str, *, usage: bool) -> dict[str, Any]:
    svc = service(request)
    async with svc.db.read() as s:
        values = quota.defaults(svc.cfg, await _type_names(s)) | await store.limits(s, project_id)
        used = await store.usage(s, project_id) if usage else {}
    if usage:
        return {k: {"limit": v, "in_use": used.get(k, 0), "reserved": 0, "allocated": 0}
                for k, v in values.items()}
    return values


@router.get("/v3/os-quota-sets/{project_id}")
async def show(request: Request, project_id: str) -> dict[str, Any]:
    enforce(request, "volume_extension:quotas:show", {"project_id": project_id})
    values = await quota_set(request, project_id,
                             usage=truthy(request.query_params.get("usage")))
    return {"quota_set": {"id": project_id, **values}}


@router.get("/v3/os-quota-sets/{project_id}/defaults")
async def defaults(request: Request, project_id: str) -> dict[str, Any]:
    enforce(request, "volume_extension:quotas:show", {"project_id": project_id})
    svc = service(request)
    async with svc.db.read() as s:
        values = quota.defaults(svc.cfg, await _type_names(s))
    return {"quota_set": {"id": project_id, **values}}


@router.put("/v3/os-quota-sets/{project_id}")
async def update(request: Request, project_id: str) -> dict[str, Any]:
    enforce(request, "volume_extension:quotas:update")
    data = await body(request)
    if "quota_set" not in data or not isinstance(data["quota_set"], dict):
        raise exc.BadRequest("Missing required element 'quota_set' in request body.")
    svc = service(request)
    async with svc.db.write() as s:
        known = set(quota.defaults(svc.cfg, await _type_names(s)))
        changes = {k: v for k, v in data["quota_set"].items() if k not in ("id", "tenant_id")}
        bad = sorted(k for k in changes if k not in known)
        if bad:
            raise exc.BadRequest(f"Bad key(s) in quota set: {','.join(bad)}")
        for key, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, int | str) or \
                    not str(value).lstrip("-").isdigit() or int(value) < -1:
                raise exc.BadRequest(f"Invalid input received: Quota {key} must be an integer "
                                     f"greater than or equal to -1.")
            await store.set_limit(s, project_id, key, int(value))
    values = await quota_set(request, project_id, usage=False)
    return {"quota_set": values}


@router.delete("/v3/os-quota-sets/{project_id}")
async def revert(request: Request, project_id: str) -> Response:
    enforce(request, "volume_extension:quotas:delete")
    async with service(request).db.write() as s:
        await store.clear_limits(s, project_id)
    return Response(status_code=200)


@router.get("/v3/limits")
async def limits(request: Request) -> dict[str, Any]:
    c = ctx(request)
    project_id = request.query_params.get("project_id") if c.is_admin else None
    values = await quota_set(request, project_id or c.project_id, usage=True)

    def limit(key: str) -> int:
        return values.get(key, {}).get("limit", -1)

    def used(key: str) -> int:
        return values.get(key, {}).get("in_use", 0)

    return {"limits": {"rate": [], "absolute": {
        "maxTotalVolumes": limit("volumes"), "maxTotalSnapshots": limit("snapshots"),
        "maxTotalVolumeGigabytes": limit("gigabytes"), "maxTotalBackups": limit("backups"),
        "maxTotalBackupGigabytes": limit("backup_gigabytes"),
        "totalVolumesUsed": used("volumes"), "totalSnapshotsUsed": used("snapshots"),
        "totalGigabytesUsed": used("gigabytes"), "totalBackupsUsed": 0,
        "totalBackupGigabytesUsed": 0,
    }}}
