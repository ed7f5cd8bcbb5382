"""/allocations/{consumer_uuid}, POST /allocations (1.13+) and
/resource_providers/{uuid}/allocations. A PUT or POST here is a claim."""

from __future__ import annotations

import pydantic
from starlette.requests import Request
from starlette.responses import Response

from pocketstack.core import exceptions as exc
from pocketstack.placement import http, schemas
from pocketstack.placement.objects import allocation, resource_provider
from pocketstack.placement.objects.allocation import ConsumerAllocations


def consumer_uuid(req: Request) -> str:
    try:
        return schemas.canonical_uuid(req.path_params["consumer_uuid"])
    except ValueError:
        raise exc.BadRequest("Malformed consumer_uuid.") from None


async def show_allocations(req: Request) -> Response:
    svc = http.authorize(req, "placement:allocations:list")
    async with svc.db.read() as s:
        view = await allocation.of_consumer(s, req.path_params["consumer_uuid"])
    out: dict = {"allocations": view.allocations}
    if view.generation is not None:
        if http.want(req, "1.12"):
            out.update(project_id=view.project_id, user_id=view.user_id)
        if http.want(req, "1.28"):
            out["consumer_generation"] = view.generation
        if http.want(req, "1.38"):
            out["consumer_type"] = view.consumer_type or "unknown"
    return http.respond(out)


def from_body(req: Request, consumer: str, data: schemas.AllocationsUpdate) -> ConsumerAllocations:
    """One consumer's allocations from a 1.12+ body, with the version's required fields."""
    fields = data.model_fields_set
    if http.want(req, "1.8") and (data.project_id is None or data.user_id is None):
        raise exc.BadRequest("JSON does not validate: 'project_id' and 'user_id' are "
                             "required properties")
    check = http.want(req, "1.28")
    if check and "consumer_generation" not in fields:
        raise exc.BadRequest("JSON does not validate: 'consumer_generation' is a required "
                             "property")
    if http.want(req, "1.38") and data.consumer_type is None:
        raise exc.BadRequest("JSON does not validate: 'consumer_type' is a required property")
    if not check and not data.allocations:
        raise exc.BadRequest("JSON does not validate: {} does not have enough properties")
    return ConsumerAllocations(
        consumer_uuid=consumer,
        allocations={rp: dict(a.resources) for rp, a in data.allocations.items()},
        project_id=data.project_id, user_id=data.user_id,
        consumer_generation=data.consumer_generation, check_generation=check,
        consumer_type=data.consumer_type)


async def legacy_body(req: Request, consumer: str) -> ConsumerAllocations:
    data = await http.body(req, schemas.LegacyAllocationsUpdate)
    if http.want(req, "1.8") and (data.project_id is None or data.user_id is None):
        raise exc.BadRequest("JSON does not validate: 'project_id' and 'user_id' are "
                             "required properties")
    amounts: dict[str, dict[str, int]] = {}
    for a in data.allocations:
        try:
            rp = schemas.canonical_uuid(a.resource_provider.uuid)
        except ValueError as err:
            raise exc.BadRequest(f"JSON does not validate: {err}") from None
        amounts.setdefault(rp, {}).update(a.resources)
    return ConsumerAllocations(consumer, amounts, data.project_id, data.user_id)


async def put_allocations(req: Request) -> Response:
    svc = http.authorize(req, "placement:allocations:update")
    consumer = consumer_uuid(req)
    if http.want(req, "1.12"):
        item = from_body(req, consumer, await http.body(req, schemas.AllocationsUpdate))
    else:
        item = await legacy_body(req, consumer)
    async with svc.write() as s:
        await allocation.replace(s, [item])
    return http.respond(None, 204)


async def post_allocations(req: Request) -> Response:
    http.require(req, "1.13")
    svc = http.authorize(req, "placement:allocations:manage")
    raw = await http.json_body(req)
    if not isinstance(raw, dict) or not raw:
        raise exc.BadRequest("JSON does not validate: a non-empty object of consumers is "
                             "required")
    items = []
    for consumer, body in raw.items():
        try:
            uuid = schemas.canonical_uuid(consumer)
            data = schemas.AllocationsUpdate.model_validate(body)
        except ValueError as err:  # pydantic.ValidationError is a ValueError
            detail = http.describe(err) if isinstance(err, pydantic.ValidationError) else err
            raise exc.BadRequest(f"JSON does not validate: {detail}") from None
        items.append(from_body(req, uuid, data))
    async with svc.write() as s:
        await allocation.replace(s, items)
    return http.respond(None, 204)


async def delete_allocations(req: Request) -> Response:
    svc = http.authorize(req, "placement:allocations:delete")
    async with svc.write() as s:
        await allocation.remove(s, req.path_params["consumer_uuid"])
    return http.respond(None, 204)


async def list_provider_allocations(req: Request) -> Response:
    svc = http.authorize(req, "placement:resource_providers:allocations:list")
    async with svc.db.read() as s:
        rp = await resource_provider.get(s, req.path_params["uuid"])
        by_consumer = await allocation.of_provider(s, rp.id)
    return http.respond({
        "allocations": {c: {"resources": r} for c, r in by_consumer.items()},
        "resource_provider_generation": rp.generation,
    })
