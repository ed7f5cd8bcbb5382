"""/v3/{project_id}/messages (3.3+): why an asynchronous operation failed;
and /os-availability-zone."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from pocketstack.core import exceptions as exc
from pocketstack.volume import schemas
from pocketstack.volume.api.common import base, ctx, enforce, service, version
from pocketstack.volume.models import Message

router = APIRouter()


def _need(request: Request) -> None:
    if version(request) < (3, 3):
        raise exc.NotFound("The resource could not be found.")


async def _get(request: Request, message_id: str) -> Message:
    async with service(request).db.read() as s:
        m = await s.get(Message, message_id)
    if m is None or (m.project_id != ctx(request).project_id and not ctx(request).is_admin):
        raise exc.NotFound(f"Message {message_id} could not be found.")
    return m


@router.get("/v3/messages")
async def index(request: Request) -> dict[str, Any]:
    _need(request)
    enforce(request, "message:get_all")
    q = select(Message).order_by(Message.created_at.desc(), Message.id)
    if not ctx(request).is_admin:
        q = q.where(Message.project_id == ctx(request).project_id)
    for key in ("resource_uuid", "resource_type", "event_id", "message_level"):
        if key in request.query_params:
            q = q.where(getattr(Message, key) == request.query_params[key])
    async with service(request).db.read() as s:
        rows = list((await s.execute(q)).scalars())
    return {"messages": [schemas.message(m, base(request)) for m in rows]}


@router.get("/v3/messages/{message_id}")
async def show(request: Request, message_id: str) -> dict[str, Any]:
    _need(request)
    return {"message": schemas.message(await _get(request, message_id), base(request))}


@router.delete("/v3/messages/{message_id}", status_code=204)
async def delete(request: Request, message_id: str) -> Response:
    _need(request)
    m = await _get(request, message_id)
    enforce(request, "message:delete", {"project_id": m.project_id})
    async with service(request).db.write() as s:
        row = await s.get(Message, m.id)
        if row is not None:
            await s.delete(row)
    return Response(status_code=204)


@router.get("/v3/os-availability-zone")
async def zones(request: Request) -> dict[str, Any]:
    names = sorted(request.app.state.zones())
    return {"availabilityZoneInfo": [{"zoneName": z, "zoneState": {"available": True}}
                                     for z in names]}
