"""POST /reshaper (1.30+): move inventory and its allocations atomically."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pocketstack.placement import http, schemas
from pocketstack.placement.handlers.allocation import from_body
from pocketstack.placement.handlers.inventory import record
from pocketstack.placement.objects import reshaper


async def reshape(req: Request) -> Response:
    http.require(req, "1.30")
    svc = http.authorize(req, "placement:reshaper:reshape")
    data = await http.body(req, schemas.Reshape)
    inventories = {
        uuid: (body.resource_provider_generation,
               {rc: record(req, rc, inv) for rc, inv in body.inventories.items()})
        for uuid, body in data.inventories.items()}
    items = [from_body(req, consumer, body) for consumer, body in data.allocations.items()]
    async with svc.write() as s:
        await reshaper.reshape(s, inventories, items)
    return http.respond(None, 204)
