"""/servers/{id}/action (reboot, os-stop, os-start, os-getConsoleOutput, createImage),
addresses, metadata, and os-instance-actions with their events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from sqlalchemy import select

from pocketstack.compute.api.deps import Ctx, Mv, api
from pocketstack.compute.api.microversions import at_least
from pocketstack.compute.api.snapshots import create_image
from pocketstack.compute.api.views import addresses, iso
from pocketstack.compute.models import InstanceAction, InstanceActionEvent
from pocketstack.compute.quotas import limits
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.microversion import Version

router = APIRouter(prefix="/v2.1/servers/{server_id}")
JSON = Annotated[Any, Body()]
ACTIVE, STOPPED = ("active",), ("stopped",)


async def _reboot(request: Request, ctx: RequestContext, inst: Any, arg: Any) -> Response:
    kind = (arg or {}).get("type") if isinstance(arg, dict) else None
    if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
        raise exc.BadRequest("Invalid input for field/attribute type: must be SOFT or HARD.")
    hard = kind.upper() == "HARD"
    await api(request).on_host(
        ctx, inst, "reboot", "rebooting_hard" if hard else "rebooting",
        lambda c: c.reboot_instance(ctx, inst.id, hard), ("active", "stopped", "error")
        if hard else ACTIVE)
    return Response(status_code=202)


async def _stop(request: Request, ctx: RequestContext, inst: Any, arg: Any) -> Response:
    await api(request).on_host(ctx, inst, "stop", "powering-off",
                               lambda c: c.stop_instance(ctx, inst.id), ("active", "error"))
    return Response(status_code=202)


async def _start(request: Request, ctx: RequestContext, inst: Any, arg: Any) -> Response:
    await api(request).on_host(ctx, inst, "start", "powering-on",
                               lambda c: c.start_instance(ctx, inst.id), STOPPED)
    return Response(status_code=202)


async def _console(request: Request, ctx: RequestContext, inst: Any, arg: Any) -> dict:
    api(request).policy.enforce(ctx, "os_compute_api:os-console-output",
                                {"project_id": inst.project_id})
    length = (arg or {}).get("length") if isinstance(arg, dict) else None
    if length is not None:
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise exc.BadRequest("Invalid input for field/attribute length.") from None
        if length < -1:
            raise exc.BadRequest("Invalid input for field/attribute length.")
    if inst.vm_state not in ("active", "stopped", "paused") or not inst.host:
        raise exc.Conflict(f"Instance {inst.id} is not ready (vm_state {inst.vm_state}).")
    output = await api(request).compute.prepare(server=inst.host).get_console_output(
        ctx, inst.id)
    if length is not None and length >= 0:
        output = "".join(output.splitlines(keepends=True)[-length:]) if length else ""
    return {"output": output}


ACTIONS = {"reboot": _reboot, "os-stop": _stop, "os-start": _start,
           "os-getConsoleOutput": _console, "createImage": create_image}


@router.post("/action")
async def action(server_id: str, request: Request, body: JSON,
                 ctx: RequestContext = Ctx) -> Any:
    if not isinstance(body, dict) or len(body) != 1:
        raise exc.BadRequest("Malformed request body: one action expected.")
    name, arg = next(iter(body.items()))
    handler = ACTIONS.get(name)
    if handler is None:
        raise exc.BadRequest(f"There is no such action: {name}")
    inst = await api(request).get(ctx, server_id, "os_compute_api:servers:action")
    if inst.locked and not ctx.is_admin:
        raise exc.Conflict(f"Instance {server_id} is locked")
    return await handler(request, ctx, inst, arg)


# -- addresses ---------------------------------------------------------------------------


@router.get("/ips")
async def ips(server_id: str, request: Request, ctx: RequestContext = Ctx) -> dict:
    inst = await api(request).get(ctx, server_id, "os_compute_api:ips:index")
    return {"addresses": addresses(inst)}


@router.get("/ips/{network}")
async def ips_of(server_id: str, network: str, request: Request,
                 ctx: RequestContext = Ctx) -> dict:
    inst = await api(request).get(ctx, server_id, "os_compute_api:ips:index")
    found = addresses(inst)
    if network not in found:
        raise exc.NotFound("Instance is not a member of specified network")
    return {network: found[network]}


# -- metadata ----------------------------------------------------------------------------


def _metadata(body: Any, key: str) -> dict[str, str]:
    meta = body.get(key) if isinstance(body, dict) else None
    if not isinstance(meta, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 255 and len(v) <= 255
            for k, v in meta.items()):
        raise exc.BadRequest(f"Invalid input for field/attribute {key}: a map of strings "
                             "(keys 1-255, values 0-255 characters) expected.")
    return meta


async def _save_metadata(request: Request, ctx: RequestContext, inst: Any,
                         meta: dict[str, str]) -> dict[str, str]:
    svc = api(request)
    async with svc.db.read() as s:
        limit = (await limits(s, inst.project_id))["metadata_items"]
    if 0 <= limit < len(meta):
        raise exc.Forbidden("Quota exceeded for metadata_items: Requested "
                            f"{len(meta)}, but the limit is {limit}")
    await svc.store.update(inst.id, {"metadata_": meta})
    return meta


@router.get("/metadata")
async def metadata_index(server_id: str, request: Request, ctx: RequestContext = Ctx) -> dict:
    inst = await api(request).get(ctx, server_id, "os_compute_api:server-metadata:index")
    return {"metadata": dict(inst.metadata_ or {})}


@router.post("/metadata")
async def metadata_merge(server_id: str, request: Request, body: JSON,
                         ctx: RequestContext = Ctx) -> dict:
    meta = _metadata(body, "metadata")
    inst = await api(request).get(ctx, server_id, "os_compute_api:server-metadata:update")
    return {"metadata": await _save_metadata(request, ctx, inst,
                                             {**(inst.metadata_ or {}), **meta})}


@router.put("/metadata")
async def metadata_replace(server_id: str, request: Request, body: JSON,
                           ctx: RequestContext = Ctx) -> dict:
    meta = _metadata(body, "metadata")
    inst = await api(request).get(ctx, server_id, "os_compute_api:server-metadata:update")
    return {"metadata": await _save_metadata(request, ctx, inst, meta)}


@router.get("/metadata/{key}")
async def metadata_show(server_id: str, key: str, request: Request,
                        ctx: RequestContext = Ctx) -> dict:
    inst = await api(request).get(ctx, server_id, "os_compute_api:server-metadata:index")
    if key not in (inst.metadata_ or {}):
        raise exc.NotFound("Metadata item was not found")
    return {"meta": {key: inst.metadata_[key]}}


@router.put("/metadata/{key}")
async def metadata_set(server_id: str, key: str, request: Request, body: JSON,
                       ctx: RequestContext = Ctx) -> dict:
    meta = _metadata(body, "meta")
    if list(meta) != [key]:
        raise exc.BadRequest("Request body and URI mismatch")
    inst = await api(request).get(ctx, server_id, "os_compute_api:server-metadata:update")
    await _save_metadata(request, ctx, inst, {**(inst.metadata_ or {}), **meta})
    return {"meta": meta}


@router.delete("/metadata/{key}", status_code=204)
async def metadata_delete(server_id: str, key: str, request: Request,
                          ctx: RequestContext = Ctx) -> Response:
    inst = await api(request).get(ctx, server_id, "os_compute_api:server-metadata:update")
    meta = dict(inst.metadata_ or {})
    if key not in meta:
        raise exc.NotFound("Metadata item was not found")
    del meta[key]
    await api(request).store.update(inst.id, {"metadata_": meta})
    return Response(status_code=204)


# -- os-instance-actions -------------------------------------------------------------------


def _action_view(a: InstanceAction, mv: Version) -> dict[str, Any]:
    body = {"action": a.action, "instance_uuid": a.instance_id, "message": a.message,
            "project_id": a.project_id, "request_id": a.request_id,
            "start_time": iso(a.start_time), "user_id": a.user_id}
    if at_least(mv, "2.58"):
        body["updated_at"] = iso(a.updated_at)
    return body


async def _instance_any_state(request: Request, ctx: RequestContext, server_id: str) -> Any:
    svc = api(request)
    try:
        inst = await svc.store.instance(server_id, deleted_ok=True)
    except exc.NotFound:
        raise exc.NotFound(f"Instance {server_id} could not be found.") from None
    if inst.project_id != ctx.project_id and not ctx.is_admin:
        raise exc.NotFound(f"Instance {server_id} could not be found.")
    svc.policy.enforce(ctx, "os_compute_api:os-instance-actions:list",
                       {"project_id": inst.project_id})
    return inst


@router.get("/os-instance-actions")
async def actions_index(server_id: str, request: Request, ctx: RequestContext = Ctx,
                        mv: Version = Mv) -> dict:
    inst = await _instance_any_state(request, ctx, server_id)
    async with api(request).db.read() as s:
        rows = await s.scalars(select(InstanceAction).where(
            InstanceAction.instance_id == inst.id).order_by(InstanceAction.id.desc()))
        return {"instanceActions": [_action_view(a, mv) for a in rows]}


@router.get("/os-instance-actions/{request_id}")
async def actions_show(server_id: str, request_id: str, request: Request,
                       ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    inst = await _instance_any_state(request, ctx, server_id)
    svc = api(request)
    async with svc.db.read() as s:
        action = await s.scalar(select(InstanceAction).where(
            InstanceAction.instance_id == inst.id, InstanceAction.request_id == request_id))
        if action is None:
            raise exc.NotFound(f"Action for request_id {request_id} on instance {inst.id} "
                               "not found")
        events = list(await s.scalars(select(InstanceActionEvent).where(
            InstanceActionEvent.action_id == action.id).order_by(InstanceActionEvent.id)))
    body = _action_view(action, mv)
    show_details = svc.policy.allowed(ctx, "os_compute_api:os-instance-actions:events",
                                      {"project_id": inst.project_id})
    body["events"] = [_event_view(e, show_details, mv) for e in events]
    return {"instanceAction": body}


def _event_view(e: InstanceActionEvent, details: bool, mv: Version) -> dict[str, Any]:
    body: dict[str, Any] = {"event": e.event, "start_time": iso(e.start_time),
                            "finish_time": iso(e.finish_time), "result": e.result}
    if details:
        body["traceback"] = e.traceback
        if at_least(mv, "2.62"):
            body["host"] = e.host
    if at_least(mv, "2.62"):
        body["hostId"] = ""
    return body
