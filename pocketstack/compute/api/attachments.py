"""/servers/{id}/os-volume_attachments and /servers/{id}/os-interface: attach and
detach volumes and ports on a running server (done by its compute agent)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from pocketstack.compute.api.deps import Ctx, Mv, api, body_of
from pocketstack.compute.api.microversions import at_least
from pocketstack.compute.conductor.messages import Vif
from pocketstack.compute.models import BlockDeviceMapping
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.microversion import Version

router = APIRouter(prefix="/v2.1/servers/{server_id}")
JSON = Annotated[Any, Body()]
RUNNING = ("active", "stopped", "paused", "suspended")


def attachment_view(b: BlockDeviceMapping | dict, server_id: str, mv: Version) -> dict:
    get = b.get if isinstance(b, dict) else lambda k: getattr(b, k)
    body: dict[str, Any] = {"device": get("device_name"), "serverId": server_id,
                            "volumeId": get("volume_id")}
    if not at_least(mv, "2.89"):
        body["id"] = get("volume_id")
    if at_least(mv, "2.70"):
        body["tag"] = get("tag")
    if at_least(mv, "2.79"):
        body["delete_on_termination"] = get("delete_on_termination")
    if at_least(mv, "2.89"):
        body.update(attachment_id=get("attachment_id"), bdm_uuid=get("id"))
    return body


@router.get("/os-volume_attachments")
async def volumes(server_id: str, request: Request, ctx: RequestContext = Ctx,
                  mv: Version = Mv) -> dict:
    svc = api(request)
    inst = await svc.get(ctx, server_id, "os_compute_api:os-volumes-attachments:index")
    return {"volumeAttachments": [attachment_view(b, inst.id, mv)
                                  for b in await svc.store.bdms(inst.id) if b.volume_id]}


@router.get("/os-volume_attachments/{volume_id}")
async def volume(server_id: str, volume_id: str, request: Request, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> dict:
    svc = api(request)
    inst = await svc.get(ctx, server_id, "os_compute_api:os-volumes-attachments:index")
    for b in await svc.store.bdms(inst.id):
        if b.volume_id == volume_id:
            return {"volumeAttachment": attachment_view(b, inst.id, mv)}
    raise exc.NotFound(f"Volume {volume_id} is not attached to instance {inst.id}.")


@router.post("/os-volume_attachments")
async def attach_volume(server_id: str, request: Request, body: JSON,
                        ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    raw = body_of(body, "volumeAttachment")
    allowed = {"volumeId", "device"} | ({"tag"} if at_least(mv, "2.49") else set()) | (
        {"delete_on_termination"} if at_least(mv, "2.79") else set())
    if not isinstance(raw.get("volumeId"), str) or set(raw) - allowed:
        raise exc.BadRequest("Invalid input for field/attribute volumeAttachment.")
    dot = raw.get("delete_on_termination", False)
    if not isinstance(dot, bool):
        raise exc.BadRequest("Invalid input for field/attribute delete_on_termination.")
    svc = api(request)
    inst = await svc.get(ctx, server_id, "os_compute_api:os-volumes-attachments:create")
    volume_id = raw["volumeId"]
    bdms = await svc.store.bdms(inst.id)
    if any(b.volume_id == volume_id for b in bdms):
        raise exc.BadRequest(f"Invalid volume: volume {volume_id} is already attached.")
    vol = await svc.volumes.get_volume(ctx, volume_id)
    if vol.get("status") != "available":
        raise exc.BadRequest(f"Invalid volume: volume {volume_id} status must be available, "
                             f"but it is {vol.get('status')}")
    used = {b.device_name for b in bdms}
    device = raw.get("device") or next(f"/dev/vd{c}" for c in "bcdefghijklmnopqrstuvwxyz"
                                       if f"/dev/vd{c}" not in used)
    done = await svc.on_host(
        ctx, inst, "attach_volume", None,
        lambda c: c.attach_volume(ctx, inst.id, volume_id, device, str(uuid.uuid4()), dot,
                                  raw.get("tag")), RUNNING)
    return {"volumeAttachment": attachment_view(done, inst.id, mv)}


@router.delete("/os-volume_attachments/{volume_id}", status_code=202)
async def detach_volume(server_id: str, volume_id: str, request: Request,
                        ctx: RequestContext = Ctx) -> Response:
    svc = api(request)
    inst = await svc.get(ctx, server_id, "os_compute_api:os-volumes-attachments:delete")
    bdm = next((b for b in await svc.store.bdms(inst.id) if b.volume_id == volume_id), None)
    if bdm is None:
        raise exc.NotFound(f"Volume {volume_id} is not attached to instance {inst.id}.")
    if bdm.boot_index == 0:
        raise exc.BadRequest("Cannot detach a root device volume")
    await svc.on_host(ctx, inst, "detach_volume", None,
                      lambda c: c.detach_volume(ctx, inst.id, volume_id), RUNNING)
    return Response(status_code=202)


# -- interfaces ----------------------------------------------------------------------------


def interface_view(v: Vif, mv: Version) -> dict[str, Any]:
    body = {"port_state": "ACTIVE", "port_id": v.port_id, "net_id": v.network_id,
            "mac_addr": v.mac, "fixed_ips": [{"subnet_id": ip.get("subnet_id"),
                                              "ip_address": ip["address"]} for ip in v.ips]}
    if at_least(mv, "2.70"):
        body["tag"] = None
    return body


@router.get("/os-interface")
async def interfaces(server_id: str, request: Request, ctx: RequestContext = Ctx,
                     mv: Version = Mv) -> dict:
    inst = await api(request).get(ctx, server_id, "os_compute_api:os-attach-interfaces:list")
    return {"interfaceAttachments": [interface_view(Vif.model_validate(v), mv)
                                     for v in inst.network_info or []]}


@router.get("/os-interface/{port_id}")
async def interface(server_id: str, port_id: str, request: Request,
                    ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    inst = await api(request).get(ctx, server_id, "os_compute_api:os-attach-interfaces:list")
    for v in inst.network_info or []:
        if v["port_id"] == port_id:
            return {"interfaceAttachment": interface_view(Vif.model_validate(v), mv)}
    raise exc.NotFound(f"Port {port_id} is not attached")


@router.post("/os-interface")
async def attach_interface(server_id: str, request: Request, body: JSON,
                           ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    raw = body_of(body, "interfaceAttachment")
    if set(raw) - {"net_id", "port_id", "fixed_ips", "tag"}:
        raise exc.BadRequest("Invalid input for field/attribute interfaceAttachment.")
    net_id, port_id = raw.get("net_id"), raw.get("port_id")
    if bool(net_id) == bool(port_id):
        raise exc.BadRequest("Must input network_id or port_id (one of them).")
    ips = raw.get("fixed_ips") or []
    if not isinstance(ips, list) or len(ips) > 1 or (ips and not isinstance(ips[0], dict)):
        raise exc.BadRequest("Invalid input for field/attribute fixed_ips.")
    svc = api(request)
    inst = await svc.get(ctx, server_id, "os_compute_api:os-attach-interfaces:create")
    if port_id:
        await svc._port(ctx, port_id)
    elif net_id:
        try:
            await svc.network.get_network(ctx, net_id)
        except exc.NotFound:
            raise exc.NotFound(f"Network {net_id} could not be found.") from None
    fixed_ip = ips[0].get("ip_address") if ips else None
    vif = await svc.on_host(ctx, inst, "attach_interface", None,
                            lambda c: c.attach_interface(ctx, inst.id, net_id, port_id,
                                                         fixed_ip), RUNNING)
    return {"interfaceAttachment": interface_view(Vif.model_validate(vif), mv)}


@router.delete("/os-interface/{port_id}", status_code=202)
async def detach_interface(server_id: str, port_id: str, request: Request,
                           ctx: RequestContext = Ctx) -> Response:
    svc = api(request)
    inst = await svc.get(ctx, server_id, "os_compute_api:os-attach-interfaces:delete")
    if not any(v["port_id"] == port_id for v in inst.network_info or []):
        raise exc.NotFound(f"Port {port_id} is not attached")
    await svc.on_host(ctx, inst, "detach_interface", None,
                      lambda c: c.detach_interface(ctx, inst.id, port_id), RUNNING)
    return Response(status_code=202)
