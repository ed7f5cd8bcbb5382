"""/servers: create (steps 3, 6-8), list, detail, show, update, delete."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import ValidationError
from sqlalchemy import select

from pocketstack.compute.api import schemas, views
from pocketstack.compute.api.deps import Ctx, Mv, api, links, parse_bool
from pocketstack.compute.api.microversions import at_least
from pocketstack.compute.models import BlockDeviceMapping, Instance
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.microversion import Version
from pocketstack.core.paging import next_link, page, parse_limit
from pocketstack.core.web import describe_validation

router = APIRouter(prefix="/v2.1/servers")
JSON = Annotated[Any, Body()]
STATUS_TO_VM = {v: k for k, v in views.STATUS.items()}
SORT_KEYS = {"created_at", "display_name", "updated_at", "launched_at", "vm_state",
             "task_state", "power_state", "host", "uuid", "availability_zone", "key_name",
             "project_id", "user_id", "hostname", "display_description"}
SORT_COLUMNS = {"display_name": "name", "uuid": "id", "display_description": "description"}


def parse(model: type, body: Any) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as err:
        raise exc.BadRequest(describe_validation(err.errors())) from None


async def with_extras(request: Request, ctx: RequestContext, mv: Version,
                      instances: list[Instance]) -> list[dict[str, Any]]:
    store = api(request).store
    ids = [i.id for i in instances]
    faults = await store.faults(ids)
    async with api(request).db.read() as s:
        rows = await s.scalars(select(BlockDeviceMapping).where(
            BlockDeviceMapping.instance_id.in_(ids)))
        bdms: dict[str, list[BlockDeviceMapping]] = {}
        for b in rows:
            bdms.setdefault(b.instance_id, []).append(b)
    return [views.server(request, i, ctx, mv, faults.get(i.id), bdms.get(i.id, []))
            for i in instances]


@router.post("")
async def create(request: Request, body: JSON, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> Response:
    req = parse(schemas.CreateRequest, body)
    if req.legacy_hints and not req.scheduler_hints:
        req.scheduler_hints = req.legacy_hints
    svc = api(request)
    instances, reservation = await svc.create(ctx, req, lambda v: at_least(mv, v))
    if req.server.return_reservation_id:
        return svc.json({"reservation_id": reservation}, 202)
    first = instances[0]
    out: dict[str, Any] = {"id": first.id, "links": links(request, "servers", first.id),
                           "OS-DCF:diskConfig": "MANUAL",
                           "security_groups": [{"name": n} for n in
                                               first.security_groups or ["default"]]}
    # Nova (enable_instance_password, on by default) answers the password it was
    # given, or one it made up; the guest never sees it unless a driver injects it.
    out["adminPass"] = req.server.adminPass or secrets.token_urlsafe(9)
    return svc.json({"server": out}, 202)


async def _list(request: Request, ctx: RequestContext, mv: Version) -> list[Instance]:
    q = request.query_params
    svc = api(request)
    svc.policy.enforce(ctx, "os_compute_api:servers:index")
    query = select(Instance)
    all_tenants = q.get("all_tenants") is not None and parse_bool(
        q.get("all_tenants") or "true", "all_tenants")
    if all_tenants:
        svc.policy.enforce(ctx, "os_compute_api:servers:index:get_all_tenants")
    project = q.get("project_id") or q.get("tenant_id")
    if all_tenants:
        if project:
            query = query.where(Instance.project_id == project)
    elif ctx.is_admin and project:
        query = query.where(Instance.project_id == project)
    else:
        query = query.where(Instance.project_id == ctx.project_id)
    query = _filters(query, q, ctx)
    sort_key = q.get("sort_key", "created_at")
    sort_dir = q.get("sort_dir", "desc")
    if sort_key not in SORT_KEYS or sort_dir not in ("asc", "desc"):
        raise exc.BadRequest(f"Invalid sort_key {sort_key!r} or sort_dir {sort_dir!r}.")
    async with svc.db.read() as s:
        found = await page(s, query, Instance, limit=parse_limit(q.get("limit")),
                           marker=q.get("marker"),
                           sort=[(SORT_COLUMNS.get(sort_key, sort_key), sort_dir)])
    ip = q.get("ip")
    if ip:
        pattern = _regex(ip, "ip")
        found = [i for i in found if any(pattern.search(a["addr"]) for net in
                                         views.addresses(i).values() for a in net)]
    return found


def _regex(value: str, name: str) -> re.Pattern[str]:
    try:
        return re.compile(value)
    except re.error:
        raise exc.BadRequest(f"Invalid {name} filter: {value!r} is not a regular "
                             "expression.") from None


def _time(value: str, name: str) -> datetime:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise exc.BadRequest(f"Invalid filter field: {name}.") from None
    return t.replace(tzinfo=None) if t.tzinfo is None else datetime.utcfromtimestamp(
        t.timestamp())


def _filters(query: Any, q: Any, ctx: RequestContext) -> Any:
    deleted = q.get("deleted") is not None and ctx.is_admin and parse_bool(
        q.get("deleted"), "deleted")
    if q.get("changes-since"):
        query = query.where(Instance.updated_at >= _time(q["changes-since"], "changes-since"))
    elif not deleted:
        query = query.where(Instance.deleted.is_(False))
    if deleted:
        query = query.where(Instance.deleted.is_(True))
    if q.get("changes-before"):
        query = query.where(Instance.updated_at <= _time(q["changes-before"],
                                                         "changes-before"))
    if q.get("status"):
        wanted = [STATUS_TO_VM.get(st.upper()) for st in q.getlist("status")]
        if None in wanted:
            return query.where(False)
        query = query.where(Instance.vm_state.in_(wanted))
    if q.get("name"):
        _regex(q["name"], "name")
        query = query.where(Instance.name.regexp_match(q["name"]))
    for param, column in (("image", Instance.image_ref), ("flavor", Instance.flavor_id),
                          ("reservation_id", Instance.reservation_id),
                          ("key_name", Instance.key_name),
                          ("availability_zone", Instance.availability_zone),
                          ("user_id", Instance.user_id)):
        if q.get(param):
            value = q[param].rstrip("/").rsplit("/", 1)[-1] if param in ("image", "flavor") \
                else q[param]
            query = query.where(column == value)
    if q.get("host") and ctx.is_admin:
        query = query.where(Instance.host == q["host"])
    if q.get("node") and ctx.is_admin:
        query = query.where(Instance.node == q["node"])
    if q.get("locked") is not None:
        query = query.where(Instance.locked.is_(parse_bool(q["locked"], "locked")))
    return query


@router.get("")
async def index(request: Request, ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    found = await _list(request, ctx, mv)
    body: dict[str, Any] = {"servers": [{"id": i.id, "name": i.name,
                                         "links": links(request, "servers", i.id)}
                                        for i in found]}
    nxt = next_link(request, found, parse_limit(request.query_params.get("limit")),
                    id_of=lambda i: i.id)
    if nxt:
        body["servers_links"] = [{"rel": "next", "href": nxt}]
    return body


@router.get("/detail")
async def detail(request: Request, ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    found = await _list(request, ctx, mv)
    body: dict[str, Any] = {"servers": await with_extras(request, ctx, mv, found)}
    nxt = next_link(request, found, parse_limit(request.query_params.get("limit")),
                    id_of=lambda i: i.id)
    if nxt:
        body["servers_links"] = [{"rel": "next", "href": nxt}]
    return body


@router.get("/{server_id}")
async def show(server_id: str, request: Request, ctx: RequestContext = Ctx,
               mv: Version = Mv) -> dict:
    inst = await api(request).get(ctx, server_id, "os_compute_api:servers:show")
    return {"server": (await with_extras(request, ctx, mv, [inst]))[0]}


@router.put("/{server_id}")
async def update(server_id: str, request: Request, body: JSON, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> dict:
    req = parse(schemas.UpdateRequest, body).server
    svc = api(request)
    inst = await svc.get(ctx, server_id, "os_compute_api:servers:update")
    values: dict[str, Any] = {}
    if req.name is not None:
        values["name"] = req.name
    if "description" in req.model_fields_set:
        if not at_least(mv, "2.19"):
            raise exc.BadRequest("description is supported from microversion 2.19.")
        values["description"] = req.description
    if req.hostname is not None:
        values["hostname"] = req.hostname
    for field, column in (("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6")):
        if field in req.model_fields_set:
            values[column] = getattr(req, field)
    if values:
        await svc.store.update(inst.id, values)
    inst = await svc.store.instance(inst.id)
    return {"server": (await with_extras(request, ctx, mv, [inst]))[0]}


@router.delete("/{server_id}", status_code=204)
async def delete(server_id: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    svc = api(request)
    inst = await svc.get(ctx, server_id, "os_compute_api:servers:delete")
    if inst.locked and not ctx.is_admin:
        raise exc.Conflict(f"Instance {server_id} is locked")
    await svc.delete(ctx, inst)
    return Response(status_code=204)


