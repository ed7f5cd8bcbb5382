"""/traits, /traits/{name} and /resource_providers/{uuid}/traits (1.6+)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pocketstack.core import exceptions as exc
from pocketstack.placement import http, query, schemas
from pocketstack.placement.objects import resource_provider, trait


async def list_traits(req: Request) -> Response:
    http.require(req, "1.6")
    svc = http.authorize(req, "placement:traits:list")
    names, prefix = None, None
    text = http.query(req, "name")
    if text is not None:
        if text.startswith("in:"):
            names = text[3:].split(",")
        elif text.startswith("startswith:"):
            prefix = text[len("startswith:"):]
        else:
            raise query.bad(f"Badly formatted name parameter. Expected name query string "
                            f"parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. "
                            f"Got: \"{text}\"")
    associated = http.query(req, "associated")
    if associated is not None and associated not in ("true", "false"):
        raise query.bad(f"The query parameter \"associated\" only accepts \"true\" or "
                        f"\"false\". Got: {associated}")
    async with svc.db.read() as s:
        found = await trait.list_names(
            s, names, prefix, None if associated is None else associated == "true")
    return http.respond({"traits": found})


async def show_trait(req: Request) -> Response:
    http.require(req, "1.6")
    svc = http.authorize(req, "placement:traits:show")
    name = req.path_params["name"]
    async with svc.db.read() as s:
        if not await trait.exists(s, name):
            raise exc.NotFound(f"No such trait(s): {name}.")
    return http.respond(None, 204)


async def put_trait(req: Request) -> Response:
    http.require(req, "1.6")
    svc = http.authorize(req, "placement:traits:update")
    name = req.path_params["name"]
    async with svc.write() as s:
        created = await trait.create(s, name)
        svc.vocabulary.traits.forget()
    return http.respond(None, 201 if created else 204,
                        http.location(req, f"/traits/{name}"))


async def delete_trait(req: Request) -> Response:
    http.require(req, "1.6")
    svc = http.authorize(req, "placement:traits:delete")
    async with svc.write() as s:
        await trait.delete_trait(s, req.path_params["name"])
        svc.vocabulary.traits.forget()
    return http.respond(None, 204)


async def list_provider_traits(req: Request) -> Response:
    http.require(req, "1.6")
    svc = http.authorize(req, "placement:resource_providers:traits:list")
    async with svc.db.read() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        names = await trait.of_provider(s, rp.id)
    return http.respond({"traits": names, "resource_provider_generation": rp.generation})


async def update_provider_traits(req: Request) -> Response:
    http.require(req, "1.6")
    svc = http.authorize(req, "placement:resource_providers:traits:update")
    data = await http.body(req, schemas.TraitsUpdate)
    async with svc.write() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        await trait.set_for_provider(s, rp, data.traits, data.resource_provider_generation)
        names = await trait.of_provider(s, rp.id)
    return http.respond({"traits": names, "resource_provider_generation": rp.generation})


async def delete_provider_traits(req: Request) -> Response:
    http.require(req, "1.6")
    svc = http.authorize(req, "placement:resource_providers:traits:delete")
    async with svc.write() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        await trait.set_for_provider(s, rp, [], rp.generation)
    return http.respond(None, 204)
