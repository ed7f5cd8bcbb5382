"""/v3/{project_id}/types: volume types, their extra specs and project access;
`__DEFAULT__` is the default type, also at /types/default."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import delete as sql_delete
from sqlalchemy import exists, func, or_, select

from pocketstack.core import exceptions as exc
from pocketstack.volume import schemas, store
from pocketstack.volume.api.common import body, ctx, enforce, parse, service, unwrap
from pocketstack.volume.models import Snapshot, Volume, VolumeType, VolumeTypeAccess

router = APIRouter()


def view(request: Request, t: VolumeType) -> dict[str, Any]:
    return schemas.volume_type(t, admin=ctx(request).is_admin)


async def _get(request: Request, type_id: str) -> VolumeType:
    svc = service(request)
    async with svc.db.read() as s:
        found = await s.get(VolumeType, type_id)
        if found is not None and not found.is_public and not ctx(request).is_admin:
            if await s.get(VolumeTypeAccess, (found.id, ctx(request).project_id)) is None:
                found = None
    if found is None:
        raise exc.NotFound(f"Volume type {type_id} could not be found.")
    return found


@router.get("/v3/types")
async def index(request: Request) -> dict[str, Any]:
    enforce(request, "volume_extension:type_get_all")
    c = ctx(request)
    wanted = (request.query_params.get("is_public") or "true").lower()
    q = select(VolumeType).order_by(VolumeType.created_at, VolumeType.id)
    if c.is_admin:
        if wanted in ("true", "false"):
            q = q.where(VolumeType.is_public == (wanted == "true"))
    else:
        granted = exists().where(VolumeTypeAccess.volume_type_id == VolumeType.id,
                                 VolumeTypeAccess.project_id == c.project_id)
        q = q.where(or_(VolumeType.is_public.is_(True), granted))
    async with service(request).db.read() as s:
        types = list((await s.execute(q)).scalars())
    return {"volume_types": [view(request, t) for t in types]}


@router.get("/v3/types/default")
async def default(request: Request) -> dict[str, Any]:
    enforce(request, "volume_extension:type_get")
    svc = service(request)
    async with svc.db.read() as s:
        t = await store.type_by_id_or_name(s, svc.cfg.default_volume_type)
    return {"volume_type": view(request, t)}


@router.get("/v3/types/{type_id}")
async def show(request: Request, type_id: str) -> dict[str, Any]:
    enforce(request, "volume_extension:type_get")
    return {"volume_type": view(request, await _get(request, type_id))}


@router.post("/v3/types")
async def create(request: Request) -> dict[str, Any]:
    enforce(request, "volume_extension:types_manage")
    req = unwrap(await body(request), "volume_type", schemas.TypeCreate)
    name = req.name.strip()
    if not name:
        raise exc.BadRequest("Invalid input received: Volume type name can not be empty.")
    async with service(request).db.write() as s:
        taken = await s.scalar(select(func.count()).where(VolumeType.name == name))
        if taken:
            raise exc.Conflict(f"Volume Type {name} already exists.")
        t = VolumeType(name=name, description=req.description, is_public=req.is_public,
                       extra_specs=dict(req.extra_specs))
        s.add(t)
    return {"volume_type": view(request, t)}


@router.put("/v3/types/{type_id}")
async def update(request: Request, type_id: str) -> dict[str, Any]:
    enforce(request, "volume_extension:types_manage")
    req = unwrap(await body(request), "volume_type", schemas.TypeUpdate)
    if req.name is None and req.description is None and req.is_public is None:
        raise exc.BadRequest("Invalid input received: Specify volume type name, description, "
                             "is_public or a combination thereof.")
    async with service(request).db.write() as s:
        t = await s.get(VolumeType, type_id)
        if t is None:
            raise exc.NotFound(f"Volume type {type_id} could not be found.")
        if req.name is not None and req.name != t.name:
            if t.name == store.DEFAULT_TYPE:
                raise exc.BadRequest("Invalid input received: The default volume type can "
                                     "not be renamed.")
            if await s.scalar(select(func.count()).where(VolumeType.name == req.name)):
                raise exc.Conflict(f"Volume Type {req.name} already exists.")
            t.name = req.name
        if req.description is not None:
            t.description = req.description
        if req.is_public is not None:
            t.is_public = req.is_public
    return {"volume_type": view(request, t)}


@router.delete("/v3/types/{type_id}", status_code=202)
async def delete(request: Request, type_id: str) -> Response:
    enforce(request, "volume_extension:types_manage")
    svc = service(request)
    async with svc.db.write() as s:
        t = await s.get(VolumeType, type_id)
        if t is None:
            raise exc.NotFound(f"Volume type {type_id} could not be found.")
        if t.name in (store.DEFAULT_TYPE, svc.cfg.default_volume_type):
            raise exc.BadRequest("Invalid volume type: Default volume type can not be deleted.")
        used = await s.scalar(select(func.count()).where(Volume.volume_type_id == t.id))
        used = used or await s.scalar(select(func.count())
                                      .where(Snapshot.volume_type_id == t.id))
        if used:
            raise exc.BadRequest("Target volume type is still in use.")
        await s.delete(t)
    return Response(status_code=202)


# -- extra specs ----------------------------------------------------------------

@router.get("/v3/types/{type_id}/extra_specs")
async def specs(request: Request, type_id: str) -> dict[str, Any]:
    enforce(request, "volume_extension:types_extra_specs:index")
    return {"extra_specs": dict((await _get(request, type_id)).extra_specs or {})}


async def _set_specs(request: Request, type_id: str, values: dict[str, str]) -> None:
    async with service(request).db.write() as s:
        t = await s.get(VolumeType, type_id)
        if t is None:
            raise exc.NotFound(f"Volume type {type_id} could not be found.")
        t.extra_specs = {**(t.extra_specs or {}), **values}


@router.post("/v3/types/{type_id}/extra_specs")
async def add_specs(request: Request, type_id: str) -> dict[str, Any]:
    enforce(request, "volume_extension:types_extra_specs:create")
    req = parse(await body(request), schemas.ExtraSpecs)
    await _set_specs(request, type_id, req.extra_specs)
    return {"extra_specs": req.extra_specs}


@router.get("/v3/types/{type_id}/extra_specs/{key}")
async def spec(request: Request, type_id: str, key: str) -> dict[str, Any]:
    enforce(request, "volume_extension:types_extra_specs:show")
    t = await _get(request, type_id)
    if key not in (t.extra_specs or {}):
        raise exc.NotFound(f"Volume Type {type_id} has no extra specs with key {key}.")
    return {key: t.extra_specs[key]}


@router.put("/v3/types/{type_id}/extra_specs/{key}")
async def set_spec(request: Request, type_id: str, key: str) -> dict[str, Any]:
    enforce(request, "volume_extension:types_extra_specs:update")
    data = await body(request)
    if list(data) != [key] or not isinstance(data[key], str):
        raise exc.BadRequest("Request body and URI mismatch")
    await _set_specs(request, type_id, data)
    return data


@router.delete("/v3/types/{type_id}/extra_specs/{key}", status_code=202)
async def delete_spec(request: Request, type_id: str, key: str) -> Response:
    enforce(request, "volume_extension:types_extra_specs:delete")
    async with service(request).db.write() as s:
        t = await s.get(VolumeType, type_id)
        if t is None or key not in (t.extra_specs or {}):
            raise exc.NotFound(f"Volume Type {type_id} has no extra specs with key {key}.")
        t.extra_specs = {k: v for k, v in t.extra_specs.items() if k != key}
    return Response(status_code=202)


# -- project access -----------------------------------------------------------

@router.get("/v3/types/{type_id}/os-volume-type-access")
async def access(request: Request, type_id: str) -> dict[str, Any]:
    enforce(request, "volume_extension:volume_type_access:get_all_for_type")
    t = await _get(request, type_id)
    if t.is_public:
        raise exc.NotFound("Access list not available for public volume types.")
    async with service(request).db.read() as s:
        rows = await s.execute(select(VolumeTypeAccess)
                               .where(VolumeTypeAccess.volume_type_id == t.id))
        return {"volume_type_access": [{"volume_type_id": a.volume_type_id,
                                        "project_id": a.project_id} for a in rows.scalars()]}


@router.post("/v3/types/{type_id}/action", status_code=202)
async def type_action(request: Request, type_id: str) -> Response:
    data = await body(request)
    name = next(iter(data), None)
    if len(data) != 1 or name not in ("addProjectAccess", "removeProjectAccess"):
        raise exc.BadRequest("There is no such action.")
    enforce(request, f"volume_extension:volume_type_access:{name}")
    project = (data[name] or {}).get("project") if isinstance(data[name], dict) else None
    if not isinstance(project, str) or not project:
        raise exc.BadRequest("Access list requires a project.")
    t = await _get(request, type_id)
    if t.is_public:
        raise exc.BadRequest("Invalid volume type: Type access modification is not "
                             "applicable to public volume type.")
    async with service(request).db.write() as s:
        found = await s.get(VolumeTypeAccess, (t.id, project))
        if name == "addProjectAccess":
            if found is not None:
                raise exc.Conflict(f"Volume type access for {t.id} / {project} combination "
                                   f"already exists.")
            s.add(VolumeTypeAccess(volume_type_id=t.id, project_id=project))
        else:
            if found is None:
                raise exc.NotFound(f"Volume type access not found for {t.id} / {project} "
                                   f"combination.")
            await s.execute(sql_delete(VolumeTypeAccess).where(
                VolumeTypeAccess.volume_type_id == t.id, VolumeTypeAccess.project_id == project))
    return Response(status_code=202)
