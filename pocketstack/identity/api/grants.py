"""Role grants: /v3/{projects,domains}/{target}/{users,groups}/{actor}/roles[/{role}]
and /v3/system/{users,groups}/{actor}/roles[/{role}]."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.identity import models as m
from pocketstack.identity.api.common import base, collection, enforce, ident, new_router
from pocketstack.identity.schemas.roles import role_view

router = new_router()

ACTORS = {"users": ("user", m.User), "groups": ("group", m.Group)}
TARGETS = {"projects": ("project", m.Project), "domains": ("domain", m.Domain)}


async def _check_refs(request: Request, s: AsyncSession, actors: str, actor_id: str,
                      targets: str | None, target_id: str, role_id: str | None) -> None:
    svc = ident(request)
    kind, model = ACTORS[actors]
    await svc.get(s, model, actor_id, kind)
    if targets is not None:
        kind, model = TARGETS[targets]
        await svc.get(s, model, target_id, kind)
    if role_id is not None:
        await svc.get(s, m.Role, role_id, "role")


def _key(actors: str, actor_id: str, targets: str | None, target_id: str,
         role_id: str) -> tuple[str, str, str, str, str]:
    target_type = TARGETS[targets][0] if targets else "system"
    return (ACTORS[actors][0], actor_id, target_type, target_id, role_id)


async def list_grants(request: Request, actors: str, actor_id: str, targets: str | None,
                      target_id: str) -> dict[str, Any]:
    enforce(request, "identity:list_grants")
    actor_type, _ = ACTORS[actors]
    target_type = TARGETS[targets][0] if targets else "system"
    async with ident(request).db.read() as s:
        await _check_refs(request, s, actors, actor_id, targets, target_id, None)
        q = select(m.Role).join(m.Assignment, m.Assignment.role_id == m.Role.id).where(
            m.Assignment.actor_type == actor_type, m.Assignment.actor_id == actor_id,
            m.Assignment.target_type == target_type, m.Assignment.target_id == target_id)
        rows = (await s.execute(q.order_by(m.Role.name))).scalars().all()
    return collection(request, "roles", [role_view(r, base(request)) for r in rows])


async def grant(request: Request, actors: str, actor_id: str, targets: str | None,
                target_id: str, role_id: str) -> Response:
    enforce(request, "identity:create_grant")
    async with ident(request).write() as s:
        await _check_refs(request, s, actors, actor_id, targets, target_id, role_id)
        key = _key(actors, actor_id, targets, target_id, role_id)
        if await s.get(m.Assignment, key) is None:
            s.add(m.Assignment(actor_type=key[0], actor_id=key[1], target_type=key[2],
                               target_id=key[3], role_id=key[4]))
    return Response(status_code=204)


def _not_found(actor_id: str, target_id: str, role_id: str) -> exc.NotFound:
    return exc.NotFound(f"Could not find role assignment with role: {role_id}, user or "
                        f"group: {actor_id}, project, domain, or system: {target_id}.")


async def check(request: Request, actors: str, actor_id: str, targets: str | None,
                target_id: str, role_id: str) -> Response:
    enforce(request, "identity:check_grant")
    async with ident(request).db.read() as s:
        await _check_refs(request, s, actors, actor_id, targets, target_id, role_id)
        if await s.get(m.Assignment, _key(actors, actor_id, targets, target_id, role_id)) is None:
            raise _not_found(actor_id, target_id, role_id)
    return Response(status_code=204)


async def revoke(request: Request, actors: str, actor_id: str, targets: str | None,
                 target_id: str, role_id: str) -> Response:
    enforce(request, "identity:revoke_grant")
    async with ident(request).write() as s:
        await _check_refs(request, s, actors, actor_id, targets, target_id, role_id)
        key = _key(actors, actor_id, targets, target_id, role_id)
        if await s.get(m.Assignment, key) is None:
            raise _not_found(actor_id, target_id, role_id)
        await s.execute(delete(m.Assignment).where(
            m.Assignment.actor_type == key[0], m.Assignment.actor_id == key[1],
            m.Assignment.target_type == key[2], m.Assignment.target_id == key[3],
            m.Assignment.role_id == key[4]))
    return Response(status_code=204)


def _target(targets: str | None, target_id: str) -> str:
    return target_id if targets else "all"


def _register(targets: str | None, actors: str) -> None:
    prefix = f"/v3/{targets}/{{target_id}}" if targets else "/v3/system"
    path = f"{prefix}/{actors}/{{actor_id}}/roles"

    async def list_(request: Request, actor_id: str, target_id: str = "all") -> dict:
        t = _target(targets, target_id)
        return await list_grants(request, actors, actor_id, targets, t)

    async def put(request: Request, actor_id: str, role_id: str,
                  target_id: str = "all") -> Response:
        t = _target(targets, target_id)
        return await grant(request, actors, actor_id, targets, t, role_id)

    async def head(request: Request, actor_id: str, role_id: str,
                   target_id: str = "all") -> Response:
        t = _target(targets, target_id)
        return await check(request, actors, actor_id, targets, t, role_id)

    async def delete_(request: Request, actor_id: str, role_id: str,
                      target_id: str = "all") -> Response:
        t = _target(targets, target_id)
        return await revoke(request, actors, actor_id, targets, t, role_id)

    router.add_api_route(path, list_, methods=["GET"])
    router.add_api_route(path + "/{role_id}", put, methods=["PUT"], status_code=204)
    router.add_api_route(path + "/{role_id}", head, methods=["GET", "HEAD"], status_code=204)
    router.add_api_route(path + "/{role_id}", delete_, methods=["DELETE"], status_code=204)


for _targets in ("projects", "domains", None):
    for _actors in ("users", "groups"):
        _register(_targets, _actors)
