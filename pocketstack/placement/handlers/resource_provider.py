"""/resource_providers and /resource_providers/{uuid}."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pocketstack.placement import http, query, schemas
from pocketstack.placement.objects import resource_provider
from pocketstack.placement.objects.resource_provider import ProviderView


def render(req: Request, v: ProviderView) -> dict:
    href = f"{http.base(req)}/resource_providers/{v.uuid}"
    links = [{"rel": "self", "href": href},
             {"rel": "inventories", "href": f"{href}/inventories"},
             {"rel": "usages", "href": f"{href}/usages"}]
    if http.want(req, "1.1"):
        links.append({"rel": "aggregates", "href": f"{href}/aggregates"})
    if http.want(req, "1.6"):
        links.append({"rel": "traits", "href": f"{href}/traits"})
    if http.want(req, "1.11"):
        links.append({"rel": "allocations", "href": f"{href}/allocations"})
    out = {"uuid": v.uuid, "name": v.name, "generation": v.generation, "links": links}
    if http.want(req, "1.14"):
        out["parent_provider_uuid"] = v.parent_provider_uuid
        out["root_provider_uuid"] = v.root_provider_uuid
    return out


async def list_providers(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:list")
    async with svc.db.read() as s:
        f = await query.provider_filter(s, req, svc.vocabulary, for_candidates=False)
        f.name = http.query(req, "name")
        uuid = http.query(req, "uuid")
        if uuid is not None:
            try:
                f.uuid = schemas.canonical_uuid(uuid)
            except ValueError:
                raise query.bad(f"Invalid query string parameters: '{uuid}' is not a "
                                "'uuid'") from None
        views = await resource_provider.list_providers(s, f)
    return http.respond({"resource_providers": [render(req, v) for v in views]})


async def create_provider(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:create")
    data = await http.body(req, schemas.ResourceProviderCreate)
    if data.parent_provider_uuid is not None:
        http.require_field(req, "1.14", "parent_provider_uuid")
    async with svc.write() as s:
        v = await resource_provider.create(s, data.name, data.uuid, data.parent_provider_uuid)
    location = http.location(req, f"/resource_providers/{v.uuid}")
    if not http.want(req, "1.20"):
        return http.respond(None, 201, location)
    return http.respond(render(req, v), 200, location)


async def show_provider(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:show")
    async with svc.db.read() as s:
        v = await resource_provider.view(s, req.path_params["uuid"])
    return http.respond(render(req, v))


async def update_provider(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:update")
    data = await http.body(req, schemas.ResourceProviderUpdate)
    parent_given = "parent_provider_uuid" in data.model_fields_set
    if parent_given:
        http.require_field(req, "1.14", "parent_provider_uuid")
    uuid = req.path_params["uuid"]
    async with svc.write() as s:
        rp = await resource_provider.get(s, uuid)
        await resource_provider.update_provider(s, rp, data.name, data.parent_provider_uuid,
                                                parent_given)
    async with svc.db.read() as s:
        v = await resource_provider.view(s, uuid)
    return http.respond(render(req, v))


async def delete_provider(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:delete")
    async with svc.write() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        await resource_provider.delete_provider(s, rp)
    return http.respond(None, 204)
