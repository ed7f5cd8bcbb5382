"""/resource_providers/{uuid}/aggregates (1.1+; with generations from 1.19)."""

from __future__ import annotations

import pydantic
from starlette.requests import Request
from starlette.responses import Response

from pocketstack.core import exceptions as exc
from pocketstack.placement import http, schemas
from pocketstack.placement.objects import aggregate, resource_provider


def render(req: Request, uuids: list[str], generation: int) -> dict:
    out: dict = {"aggregates": uuids}
    if http.want(req, "1.19"):
        out["resource_provider_generation"] = generation
    return out


async def list_aggregates(req: Request) -> Response:
    http.require(req, "1.1")
    svc = http.authorize(req, "placement:resource_providers:aggregates:list")
    async with svc.db.read() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        uuids = await aggregate.of_provider(s, rp.id)
    return http.respond(render(req, uuids, rp.generation))


async def update_aggregates(req: Request) -> Response:
    http.require(req, "1.1")
    svc = http.authorize(req, "placement:resource_providers:aggregates:update")
    if http.want(req, "1.19"):
        data = await http.body(req, schemas.AggregatesUpdate)
        uuids, generation = data.aggregates, data.resource_provider_generation
    else:
        raw = await http.json_body(req)
        try:
            uuids = schemas.AggregatesUpdate(aggregates=raw, resource_provider_generation=0)
        except pydantic.ValidationError as err:
            raise exc.BadRequest(f"JSON does not validate: {http.describe(err)}") from None
        uuids, generation = uuids.aggregates, None
    async with svc.write() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        await aggregate.set_for_provider(s, rp, uuids, generation)
        current = await aggregate.of_provider(s, rp.id)
    return http.respond(render(req, current, rp.generation))
