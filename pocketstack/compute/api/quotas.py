"""/os-quota-sets (show, detail, defaults, update, revert) and /limits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from pocketstack.compute.api.deps import Ctx, Mv, api, body_of, enforce
from pocketstack.compute.api.microversions import at_least
from pocketstack.compute.quotas import DEFAULTS, LEGACY
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.microversion import Version

router = APIRouter(prefix="/v2.1")
JSON = Annotated[Any, Body()]
NETWORK_LEGACY = {"fixed_ips": -1, "floating_ips": -1, "security_groups": -1,
                  "security_group_rules": -1, "networks": -1}


def _shown(values: dict[str, Any], mv: Version) -> dict[str, Any]:
    keep = set(DEFAULTS) | (set() if at_least(mv, "2.57") else set(LEGACY))
    out = {k: v for k, v in values.items() if k in keep}
    if not at_least(mv, "2.36"):
        out.update({k: values.get(k, v) for k, v in NETWORK_LEGACY.items()})
    return out


def _target(request: Request, ctx: RequestContext, project_id: str, action: str) -> None:
    enforce(request, ctx, action, {"project_id": project_id})


@router.get("/os-quota-sets/{project_id}")
async def show(project_id: str, request: Request, ctx: RequestContext = Ctx,
               mv: Version = Mv) -> dict:
    _target(request, ctx, project_id, "os_compute_api:os-quota-sets:show")
    limits = await api(request).quotas.get(project_id)
    return {"quota_set": {"id": project_id, **_shown(limits, mv)}}


@router.get("/os-quota-sets/{project_id}/detail")
async def detail(project_id: str, request: Request, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> dict:
    _target(request, ctx, project_id, "os_compute_api:os-quota-sets:show")
    user = request.query_params.get("user_id") or ctx.user_id
    found = await api(request).quotas.detail(project_id, user)
    shown = _shown({k: v for k, v in found.items()}, mv)
    return {"quota_set": {"id": project_id, **{
        k: (v if isinstance(v, dict) else {"limit": v, "in_use": 0, "reserved": 0})
        for k, v in shown.items()}}}


@router.get("/os-quota-sets/{project_id}/defaults")
async def defaults(project_id: str, request: Request, ctx: RequestContext = Ctx,
                   mv: Version = Mv) -> dict:
    enforce(request, ctx, "os_compute_api:os-quota-sets:defaults")
    return {"quota_set": {"id": project_id, **_shown({**DEFAULTS, **LEGACY}, mv)}}


@router.put("/os-quota-sets/{project_id}")
async def update(project_id: str, request: Request, body: JSON, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> dict:
    _target(request, ctx, project_id, "os_compute_api:os-quota-sets:update")
    raw = dict(body_of(body, "quota_set"))
    raw.pop("force", None)
    allowed = set(_shown({**DEFAULTS, **LEGACY}, mv))
    values = {}
    for key, value in raw.items():
        if key not in allowed:
            raise exc.BadRequest(f"Additional properties are not allowed ('{key}' was "
                                 "unexpected)")
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise exc.BadRequest(f"Invalid input for field/attribute {key}.") from None
        if n < -1:
            raise exc.BadRequest(f"Invalid input for field/attribute {key}: must be -1 or "
                                 "more.")
        values[key] = n
    limits = await api(request).quotas.set(project_id, values)
    return {"quota_set": _shown(limits, mv)}


@router.delete("/os-quota-sets/{project_id}", status_code=202)
async def revert(project_id: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    _target(request, ctx, project_id, "os_compute_api:os-quota-sets:delete")
    await api(request).quotas.reset(project_id)
    return Response(status_code=202)


@router.get("/limits")
async def limits(request: Request, ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    enforce(request, ctx, "os_compute_api:limits")
    project = request.query_params.get("tenant_id") if ctx.is_admin else None
    project = project or ctx.project_id
    svc = api(request)
    lim, used = await svc.quotas.get(project), await svc.quotas.usage(project, ctx.user_id)
    absolute = {
        "maxServerMeta": lim["metadata_items"], "maxTotalInstances": lim["instances"],
        "maxTotalCores": lim["cores"], "maxTotalRAMSize": lim["ram"],
        "maxTotalKeypairs": lim["key_pairs"], "maxServerGroups": lim["server_groups"],
        "maxServerGroupMembers": lim["server_group_members"],
        "totalInstancesUsed": used["instances"], "totalCoresUsed": used["cores"],
        "totalRAMUsed": used["ram"], "totalServerGroupsUsed": used["server_groups"],
    }
    if not at_least(mv, "2.57"):
        absolute.update(maxPersonality=lim["injected_files"],
                        maxPersonalitySize=lim["injected_file_content_bytes"])
    if not at_least(mv, "2.39"):
        absolute["maxImageMeta"] = lim["metadata_items"]
    if not at_least(mv, "2.36"):
        absolute.update(maxSecurityGroups=-1, maxSecurityGroupRules=-1,
                        maxTotalFloatingIps=-1, totalFloatingIpsUsed=0,
                        totalSecurityGroupsUsed=0)
    return {"limits": {"rate": [], "absolute": absolute}}
