"""What operators see of the hosts: os-services and os-hypervisors (from the
agents' heartbeats and reports), and availability zones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from pocketstack.compute.api.deps import Ctx, Mv, api, enforce
from pocketstack.compute.api.microversions import at_least
from pocketstack.compute.api.views import iso
from pocketstack.compute.models import ComputeNode, Service
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.microversion import Version

router = APIRouter(prefix="/v2.1")
JSON = Annotated[Any, Body()]


def is_up(request: Request, service: Service) -> bool:
    return api(request).store.records.is_up(service)


def service_view(request: Request, s: Service, mv: Version,
                 zones: dict[str, str]) -> dict[str, Any]:
    zone = "internal" if s.binary != "nova-compute" else zones.get(
        s.host, api(request).settings.default_availability_zone)
    body = {"id": s.uuid if at_least(mv, "2.53") else s.id, "binary": s.binary,
            "host": s.host, "zone": zone,
            "status": "disabled" if s.disabled else "enabled",
            "state": "up" if is_up(request, s) else "down",
            "disabled_reason": s.disabled_reason, "updated_at": iso(s.last_seen_up)}
    if at_least(mv, "2.11"):
        body["forced_down"] = s.forced_down
    return body


@router.get("/os-services")
async def services(request: Request, ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    enforce(request, ctx, "os_compute_api:os-services")
    q = request.query_params
    found = await api(request).store.records.list(host=q.get("host"), binary=q.get("binary"))
    zones = await _zone_of_hosts(request)
    return {"services": [service_view(request, s, mv, zones) for s in found]}


async def _zone_of_hosts(request: Request) -> dict[str, str]:
    aggs = await api(request).store.aggregates()
    return {h: a.availability_zone for a in aggs if a.availability_zone for h in a.hosts}


@router.put("/os-services/{service_id}")
async def update_service(service_id: str, request: Request, body: JSON,
                         ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    enforce(request, ctx, "os_compute_api:os-services")
    if not at_least(mv, "2.53"):
        raise exc.NotFound("The resource could not be found.")
    if not isinstance(body, dict) or not body or set(body) - {"status", "disabled_reason",
                                                               "forced_down"}:
        raise exc.BadRequest("Invalid input: expected status, disabled_reason, forced_down.")
    if body.get("status") not in (None, "enabled", "disabled"):
        raise exc.BadRequest("Invalid input for field/attribute status.")
    if "forced_down" in body and not isinstance(body["forced_down"], bool):
        raise exc.BadRequest("Invalid input for field/attribute forced_down.")
    svc = api(request)
    changes: dict[str, Any] = {}
    if "status" in body:
        changes["disabled"] = body["status"] == "disabled"
        changes["disabled_reason"] = body.get("disabled_reason") if changes["disabled"] \
            else None
    if "forced_down" in body:
        changes["forced_down"] = body["forced_down"]
    row = await svc.store.records.update(service_id, **changes)
    await svc.scheduler.reload(ctx)
    return {"service": service_view(request, row, mv, await _zone_of_hosts(request))}


@router.delete("/os-services/{service_id}", status_code=204)
async def delete_service(service_id: str, request: Request,
                         ctx: RequestContext = Ctx) -> Response:
    enforce(request, ctx, "os_compute_api:os-services")
    await api(request).store.records.delete(service_id)
    return Response(status_code=204)


# -- hypervisors ----------------------------------------------------------------------------


async def _nodes(request: Request) -> list[tuple[ComputeNode, Service | None, dict]]:
    svc = api(request)
    services = {s.host: s for s in await svc.store.records.list(binary="nova-compute")}
    usage: dict[str, dict[str, int]] = {}
    for _iid, host, flavor, _spec in await svc.store.live_on_hosts():
        u = usage.setdefault(host, {"vcpus": 0, "ram": 0, "disk": 0, "vms": 0})
        u["vcpus"] += flavor["vcpus"]
        u["ram"] += flavor["ram"]
        u["disk"] += flavor["disk"]
        u["vms"] += 1
    return [(n, services.get(n.host), usage.get(n.host, {})) for n in await svc.store.nodes()]


def hypervisor_view(request: Request, node: ComputeNode, service: Service | None,
                    used: dict, mv: Version, detail: bool) -> dict[str, Any]:
    up = service is not None and is_up(request, service)
    body: dict[str, Any] = {
        "id": node.id if at_least(mv, "2.53") else int(node.id.replace("-", ""), 16) % (1 << 31),
        "hypervisor_hostname": node.hypervisor_hostname, "state": "up" if up else "down",
        "status": "disabled" if service and service.disabled else "enabled"}
    if not detail:
        return body
    body.update({"host_ip": node.host_ip, "hypervisor_type": node.hypervisor_type,
                 "hypervisor_version": node.hypervisor_version,
                 "service": {"host": node.host, "id": service.id if service else None,
                             "disabled_reason": service.disabled_reason if service else None}})
    if at_least(mv, "2.88"):
        body["uptime"] = None
        return body
    body.update({
        "vcpus": node.vcpus, "memory_mb": node.memory_mb, "local_gb": node.local_gb,
        "vcpus_used": used.get("vcpus", 0), "memory_mb_used": used.get("ram", 0),
        "local_gb_used": used.get("disk", 0), "running_vms": used.get("vms", 0),
        "free_ram_mb": node.memory_mb - used.get("ram", 0),
        "free_disk_gb": node.local_gb - used.get("disk", 0), "current_workload": 0,
        "disk_available_least": node.local_gb - used.get("disk", 0),
        "cpu_info": f'{{"arch": "{node.cpu_arch}"}}'})
    return body


async def _hypervisors(request: Request, ctx: RequestContext, mv: Version,
                       detail: bool) -> dict:
    enforce(request, ctx, "os_compute_api:os-hypervisors")
    pattern = request.query_params.get("hypervisor_hostname_pattern")
    found = [hypervisor_view(request, n, s, u, mv, detail)
             for n, s, u in await _nodes(request)
             if pattern is None or pattern in n.hypervisor_hostname]
    return {"hypervisors": found}


@router.get("/os-hypervisors")
async def hypervisors(request: Request, ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    return await _hypervisors(request, ctx, mv, False)


@router.get("/os-hypervisors/detail")
async def hypervisors_detail(request: Request, ctx: RequestContext = Ctx,
                             mv: Version = Mv) -> dict:
    return await _hypervisors(request, ctx, mv, True)


@router.get("/os-hypervisors/statistics")
async def hypervisor_statistics(request: Request, ctx: RequestContext = Ctx,
                                mv: Version = Mv) -> dict:
    enforce(request, ctx, "os_compute_api:os-hypervisors")
    if at_least(mv, "2.88"):
        raise exc.NotFound("The resource could not be found.")
    stats = {"count": 0, "vcpus": 0, "memory_mb": 0, "local_gb": 0, "vcpus_used": 0,
             "memory_mb_used": 0, "local_gb_used": 0, "running_vms": 0}
    for node, _s, used in await _nodes(request):
        stats["count"] += 1
        stats["vcpus"] += node.vcpus
        stats["memory_mb"] += node.memory_mb
        stats["local_gb"] += node.local_gb
        stats["vcpus_used"] += used.get("vcpus", 0)
        stats["memory_mb_used"] += used.get("ram", 0)
        stats["local_gb_used"] += used.get("disk", 0)
        stats["running_vms"] += used.get("vms", 0)
    return {"hypervisor_statistics": stats}


@router.get("/os-hypervisors/{hypervisor_id}")
async def hypervisor(hypervisor_id: str, request: Request, ctx: RequestContext = Ctx,
                     mv: Version = Mv) -> dict:
    found = (await _hypervisors(request, ctx, mv, True))["hypervisors"]
    for h in found:
        if str(h["id"]) == hypervisor_id:
            return {"hypervisor": h}
    raise exc.NotFound(f"Hypervisor with ID '{hypervisor_id}' could not be found.")


# -- availability zones ------------------------------------------------------------------------


async def _zones(request: Request) -> dict[str, list[Service]]:
    svc = api(request)
    zone_of = await _zone_of_hosts(request)
    zones: dict[str, list[Service]] = {}
    for s in await svc.store.records.list():
        if s.binary == "nova-compute":
            zone = zone_of.get(s.host, svc.settings.default_availability_zone)
        else:
            zone = "internal"
        zones.setdefault(zone, []).append(s)
    return zones


@router.get("/os-availability-zone")
async def zones(request: Request, ctx: RequestContext = Ctx) -> dict:
    enforce(request, ctx, "os_compute_api:os-availability-zone:list")
    return {"availabilityZoneInfo": [
        {"zoneName": z, "zoneState": {"available": any(is_up(request, s) for s in ss)},
         "hosts": None}
        for z, ss in (await _zones(request)).items() if z != "internal"]}


@router.get("/os-availability-zone/detail")
async def zones_detail(request: Request, ctx: RequestContext = Ctx) -> dict:
    enforce(request, ctx, "os_compute_api:os-availability-zone:detail")
    info = []
    for zone, services in (await _zones(request)).items():
        hosts: dict[str, dict[str, Any]] = {}
        for s in services:
            hosts.setdefault(s.host, {})[s.binary] = {
                "available": is_up(request, s), "active": not s.disabled,
                "updated_at": iso(s.last_seen_up)}
        info.append({"zoneName": zone, "hosts": hosts, "zoneState": {
            "available": any(is_up(request, s) for s in services)}})
    return {"availabilityZoneInfo": info}



