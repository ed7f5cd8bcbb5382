"""/v3/{project_id}/attachments (3.27+): how a compute host attaches a volume.
Create (reserves the volume), update with the host's connector (returns the
connection info), complete (os-complete, 3.44: the volume is in-use), delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from pocketstack.core import exceptions as exc
from pocketstack.volume import schemas
from pocketstack.volume.api.common import (
    all_projects,
    body,
    ctx,
    enforce,
    service,
    unwrap,
    version,
)
from pocketstack.volume.models import Attachment

router = APIRouter()


def _need(request: Request, minimum: tuple[int, int]) -> None:
    if version(request) < minimum:
        raise exc.NotFound("The resource could not be found.")


async def _owned(request: Request, attachment_id: str, action: str) -> Attachment:
    att = await service(request).get_attachment(ctx(request), attachment_id)
    enforce(request, action, {"project_id": att.project_id})
    return att


@router.post("/v3/attachments")
async def create(request: Request) -> dict[str, Any]:
    _need(request, (3, 27))
    enforce(request, "volume:attachment_create")
    req = unwrap(await body(request), "attachment", schemas.AttachmentCreate)
    att = await service(request).create_attachment(ctx(request), req)
    return {"attachment": schemas.attachment_detail(att)}


async def _list(request: Request, detail: bool) -> dict[str, Any]:
    _need(request, (3, 27))
    enforce(request, "volume:attachment_get_all")
    q = request.query_params
    filters = {}
    if "volume_id" in q:
        filters["volume_id"] = q["volume_id"]
    if "instance_id" in q:
        filters["instance_uuid"] = q["instance_id"]
    if "status" in q:
        filters["attach_status"] = q["status"]
    atts = await service(request).list_attachments(
        ctx(request), all_projects=all_projects(request), filters=filters)
    render = schemas.attachment_detail if detail else schemas.attachment_summary
    return {"attachments": [render(a) for a in atts]}


@router.get("/v3/attachments")
async def index(request: Request) -> dict[str, Any]:
    return await _list(request, detail=False)


@router.get("/v3/attachments/detail")
async def index_detail(request: Request) -> dict[str, Any]:
    return await _list(request, detail=True)


@router.get("/v3/attachments/{attachment_id}")
async def show(request: Request, attachment_id: str) -> dict[str, Any]:
    _need(request, (3, 27))
    att = await _owned(request, attachment_id, "volume:attachment_get")
    return {"attachment": schemas.attachment_detail(att)}


@router.put("/v3/attachments/{attachment_id}")
async def update(request: Request, attachment_id: str) -> dict[str, Any]:
    _need(request, (3, 27))
    await _owned(request, attachment_id, "volume:attachment_update")
    req = unwrap(await body(request), "attachment", schemas.AttachmentUpdate)
    att = await service(request).update_attachment(ctx(request), attachment_id, req.connector)
    return {"attachment": schemas.attachment_detail(att)}


@router.delete("/v3/attachments/{attachment_id}")
async def delete(request: Request, attachment_id: str) -> JSONResponse:
    _need(request, (3, 27))
    att = await _owned(request, attachment_id, "volume:attachment_delete")
    svc = service(request)
    await svc.delete_attachment(ctx(request), attachment_id)
    left = await svc.list_attachments(ctx(request), all_projects=True,
                                      filters={"volume_id": att.volume_id})
    return JSONResponse({"attachments": [schemas.attachment_summary(a) for a in left]})


@router.post("/v3/attachments/{attachment_id}/action")
async def action(request: Request, attachment_id: str) -> Response:
    _need(request, (3, 44))
    data = await body(request)
    if list(data) != ["os-complete"]:
        raise exc.BadRequest("There is no such action.")
    await _owned(request, attachment_id, "volume:attachment_complete")
    await service(request).complete_attachment(ctx(request), attachment_id)
    return Response(status_code=204)
