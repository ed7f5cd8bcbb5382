"""/os-server-groups: create, list, show, delete (policies before 2.64, policy and
rules from 2.64)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from sqlalchemy import func, select

from pocketstack.compute.api.deps import Ctx, Mv, api, body_of, parse_bool, parse_int
from pocketstack.compute.api.microversions import at_least
from pocketstack.compute.models import Instance, ServerGroup
from pocketstack.compute.quotas import limits
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.microversion import Version

router = APIRouter(prefix="/v2.1/os-server-groups")
JSON = Annotated[Any, Body()]
POLICIES = ("affinity", "anti-affinity")
SOFT = ("soft-affinity", "soft-anti-affinity")


async def _live(request: Request, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    async with api(request).db.read() as s:
        return set(await s.scalars(select(Instance.id).where(
            Instance.id.in_(ids), Instance.deleted.is_(False))))


async def view(request: Request, g: ServerGroup, mv: Version) -> dict[str, Any]:
    live = await _live(request, list(g.members))
    body: dict[str, Any] = {"id": g.id, "name": g.name,
                            "members": [m for m in g.members if m in live]}
    if at_least(mv, "2.64"):
        body.update(policy=g.policy, rules=dict(g.rules or {}))
    else:
        body.update(policies=[g.policy], metadata={})
    if at_least(mv, "2.13"):
        body.update(project_id=g.project_id, user_id=g.user_id)
    return body


def _parse(raw: dict[str, Any], mv: Version) -> tuple[str, str, dict[str, Any]]:
    name = raw.get("name")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 255:
        raise exc.BadRequest("Invalid input for field/attribute name.")
    allowed = POLICIES + (SOFT if at_least(mv, "2.15") else ())
    if at_least(mv, "2.64"):
        if set(raw) - {"name", "policy", "rules"}:
            raise exc.BadRequest("Additional properties are not allowed.")
        policy, rules = raw.get("policy"), raw.get("rules", {})
    else:
        if set(raw) - {"name", "policies"}:
            raise exc.BadRequest("Additional properties are not allowed.")
        policies = raw.get("policies")
        if not isinstance(policies, list) or len(policies) != 1:
            raise exc.BadRequest("Invalid input for field/attribute policies.")
        policy, rules = policies[0], {}
    if policy not in allowed:
        raise exc.BadRequest(f"Invalid input for field/attribute policy. Value: {policy}. "
                             f"'{policy}' is not one of {list(allowed)}")
    if not isinstance(rules, dict) or set(rules) - {"max_server_per_host"}:
        raise exc.BadRequest("Invalid input for field/attribute rules.")
    if rules and policy != "anti-affinity":
        raise exc.BadRequest("Only anti-affinity policy supports rules.")
    per_host = rules.get("max_server_per_host")
    if per_host is not None and (not isinstance(per_host, int) or per_host < 1):
        raise exc.BadRequest("Invalid input for field/attribute max_server_per_host.")
    return name, policy, rules


@router.post("")
async def create(request: Request, body: JSON, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> dict:
    svc = api(request)
    svc.policy.enforce(ctx, "os_compute_api:os-server-groups:create")
    name, policy, rules = _parse(body_of(body, "server_group"), mv)
    group = ServerGroup(id=str(uuid.uuid4()), name=name, project_id=ctx.project_id,
                        user_id=ctx.user_id, policy=policy, rules=rules, members=[])
    async with svc.db.write() as s:
        limit = (await limits(s, ctx.project_id))["server_groups"]
        used = await s.scalar(select(func.count()).select_from(ServerGroup).where(
            ServerGroup.project_id == ctx.project_id))
        if 0 <= limit <= used:
            raise exc.Forbidden("Quota exceeded, too many server groups.")
        s.add(group)
    return {"server_group": await view(request, group, mv)}


@router.get("")
async def index(request: Request, ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    svc = api(request)
    svc.policy.enforce(ctx, "os_compute_api:os-server-groups:index")
    q = request.query_params
    query = select(ServerGroup).order_by(ServerGroup.created_at, ServerGroup.id)
    if q.get("all_projects") is not None and parse_bool(q["all_projects"] or "true",
                                                        "all_projects"):
        svc.policy.enforce(ctx, "os_compute_api:os-server-groups:index:all_projects")
    else:
        query = query.where(ServerGroup.project_id == ctx.project_id)
    offset, limit = parse_int(q.get("offset"), "offset"), q.get("limit")
    if offset < 0 or (limit is not None and parse_int(limit, "limit") < 0):
        raise exc.BadRequest("offset and limit must be 0 or more.")
    query = query.offset(offset)
    if limit is not None:
        query = query.limit(parse_int(limit, "limit"))
    async with svc.db.read() as s:
        groups = list(await s.scalars(query))
    return {"server_groups": [await view(request, g, mv) for g in groups]}


async def _get(request: Request, ctx: RequestContext, group_id: str, action: str) -> Any:
    svc = api(request)
    async with svc.db.read() as s:
        group = await s.get(ServerGroup, group_id)
    if group is None or (group.project_id != ctx.project_id and not ctx.is_admin):
        raise exc.NotFound(f"Instance group {group_id} could not be found.")
    svc.policy.enforce(ctx, action, {"project_id": group.project_id})
    return group


@router.get("/{group_id}")
async def show(group_id: str, request: Request, ctx: RequestContext = Ctx,
               mv: Version = Mv) -> dict:
    group = await _get(request, ctx, group_id, "os_compute_api:os-server-groups:show")
    return {"server_group": await view(request, group, mv)}


@router.delete("/{group_id}", status_code=204)
async def delete(group_id: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    group = await _get(request, ctx, group_id, "os_compute_api:os-server-groups:delete")
    async with api(request).db.write() as s:
        await s.delete(await s.get(ServerGroup, group.id))
    return Response(status_code=204)
