"""/resource_providers/{uuid}/usages and /usages (1.9+)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pocketstack.core import exceptions as exc
from pocketstack.placement import errors, http
from pocketstack.placement.objects import resource_provider, usage


async def provider_usages(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:usages")
    async with svc.db.read() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        used = await usage.of_provider(s, rp.id)
    return http.respond({"resource_provider_generation": rp.generation, "usages": used})


async def project_usages(req: Request) -> Response:
    http.require(req, "1.9")
    svc = http.authorize(req, "placement:usages")
    project_id = http.query(req, "project_id")
    if not project_id:
        raise exc.BadRequest("Invalid query string parameters: 'project_id' is a required "
                             "property", code=errors.QUERYPARAM_MISSING_VALUE)
    user_id = http.query(req, "user_id")
    consumer_type = http.query(req, "consumer_type") if http.want(req, "1.38") else None
    async with svc.db.read() as s:
        by_type = await usage.of_project(s, project_id, user_id, consumer_type)
    if http.want(req, "1.38"):
        return http.respond({"usages": {(t or "unknown"): u for t, u in by_type.items()}})
    total: dict[str, int] = {}
    for used in by_type.values():
        for rc, n in used.items():
            if rc != "consumer_count":
                total[rc] = total.get(rc, 0) + n
    return http.respond({"usages": total})
