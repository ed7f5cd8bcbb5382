"""/resource_classes and /resource_classes/{name}."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pocketstack.core import exceptions as exc
from pocketstack.placement import http, schemas, standard
from pocketstack.placement.objects import resource_class


def render(req: Request, name: str) -> dict:
    return {"name": name,
            "links": [{"rel": "self", "href": f"{http.base(req)}/resource_classes/{name}"}]}


async def list_classes(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_classes:list")
    async with svc.db.read() as s:
        names = await resource_class.list_names(s)
    return http.respond({"resource_classes": [render(req, n) for n in names]})


async def create_class(req: Request) -> Response:
    http.require(req, "1.2")
    svc = http.authorize(req, "placement:resource_classes:create")
    data = await http.body(req, schemas.ResourceClassCreate)
    async with svc.write() as s:
        if await resource_class.exists(s, data.name):
            raise exc.Conflict(f"Conflicting resource class already exists: {data.name}")
        await resource_class.create(s, data.name)
        svc.vocabulary.classes.forget()
    return http.respond(None, 201, http.location(req, f"/resource_classes/{data.name}"))


async def show_class(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_classes:show")
    name = req.path_params["name"]
    async with svc.db.read() as s:
        if not await resource_class.exists(s, name):
            raise exc.NotFound(f"No such resource class {name}.")
    return http.respond(render(req, name))


async def put_class(req: Request) -> Response:
    """1.7+: create the custom class if missing (201), or say it exists (204)."""
    http.require(req, "1.7")
    svc = http.authorize(req, "placement:resource_classes:update")
    name = req.path_params["name"]
    if not standard.is_custom(name):
        raise exc.BadRequest(f"JSON does not validate: '{name}' does not match "
                             "'^CUSTOM\\_[A-Z0-9_]+$'")
    async with svc.write() as s:
        if await resource_class.exists(s, name):
            return http.respond(None, 204)
        await resource_class.create(s, name)
        svc.vocabulary.classes.forget()
    return http.respond(None, 201, http.location(req, f"/resource_classes/{name}"))


async def delete_class(req: Request) -> Response:
    http.require(req, "1.2")
    svc = http.authorize(req, "placement:resource_classes:delete")
    async with svc.write() as s:
        await resource_class.delete(s, req.path_params["name"])
        svc.vocabulary.classes.forget()
    return http.respond(None, 204)
