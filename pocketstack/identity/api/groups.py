"""Groups (/v3/groups) and their members."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.identity import models as m
from pocketstack.identity.api.common import base, collection, enforce, ident, new_router, where
from pocketstack.identity.removal import delete_group as remove_group
from pocketstack.identity.schemas.common import changes
from pocketstack.identity.schemas.users import (
    GroupBody,
    GroupUpdateBody,
    group_view,
    user_view,
)

router = new_router()


async def _unique(s: AsyncSession, name: str, domain_id: str) -> None:
    found = (await s.execute(select(m.Group.id).where(
        m.Group.name == name, m.Group.domain_id == domain_id))).first()
    if found is not None:
        raise exc.Conflict(f"Conflict occurred attempting to store group - Duplicate entry "
                           f"found with name {name} at domain ID {domain_id}.")


@router.get("/v3/groups")
async def list_groups(request: Request) -> dict[str, Any]:
    enforce(request, "identity:list_groups")
    q = select(m.Group).where(*where(request, m.Group, "name", "domain_id")).order_by(
        m.Group.name)
    async with ident(request).db.read() as s:
        rows = (await s.execute(q)).scalars().all()
    return collection(request, "groups", [group_view(g, base(request)) for g in rows])


@router.get("/v3/groups/{group_id}")
async def get_group(request: Request, group_id: str) -> dict[str, Any]:
    enforce(request, "identity:get_group")
    async with ident(request).db.read() as s:
        row = await ident(request).get(s, m.Group, group_id, "group")
    return {"group": group_view(row, base(request))}


@router.post("/v3/groups", status_code=201)
async def create_group(request: Request, body: GroupBody) -> dict[str, Any]:
    ctx = enforce(request, "identity:create_group")
    g = body.group
    domain_id = g.domain_id or ctx.domain_id or ctx.project_domain_id or "default"
    svc = ident(request)
    async with svc.write() as s:
        await svc.get(s, m.Domain, domain_id, "domain")
        await _unique(s, g.name, domain_id)
        row = m.Group(id=m.new_id(), name=g.name, domain_id=domain_id,
                      description=g.description)
        s.add(row)
    return {"group": group_view(row, base(request))}


@router.patch("/v3/groups/{group_id}")
async def update_group(request: Request, group_id: str, body: GroupUpdateBody) -> dict:
    enforce(request, "identity:update_group")
    update = changes(body.group)
    svc = ident(request)
    async with svc.write() as s:
        row = await svc.get(s, m.Group, group_id, "group")
        if "name" in update and update["name"] != row.name:
            await _unique(s, update["name"], row.domain_id)
        for key, value in update.items():
            setattr(row, key, value)
    return {"group": group_view(row, base(request))}


@router.delete("/v3/groups/{group_id}", status_code=204)
async def delete_group(request: Request, group_id: str) -> None:
    enforce(request, "identity:delete_group")
    svc = ident(request)
    async with svc.write() as s:
        await svc.get(s, m.Group, group_id, "group")
        await remove_group(s, group_id)


@router.get("/v3/groups/{group_id}/users")
async def list_group_users(request: Request, group_id: str) -> dict[str, Any]:
    enforce(request, "identity:list_users_in_group")
    svc = ident(request)
    async with svc.db.read() as s:
        await svc.get(s, m.Group, group_id, "group")
        q = select(m.User).join(m.GroupMember, m.GroupMember.user_id == m.User.id).where(
            m.GroupMember.group_id == group_id).order_by(m.User.name)
        rows = (await s.execute(q)).scalars().all()
    return collection(request, "users", [user_view(u, base(request)) for u in rows])


async def _membership(s: AsyncSession, request: Request, group_id: str,
                      user_id: str) -> m.GroupMember | None:
    svc = ident(request)
    await svc.get(s, m.Group, group_id, "group")
    await svc.get(s, m.User, user_id, "user")
    return await s.get(m.GroupMember, (group_id, user_id))


@router.put("/v3/groups/{group_id}/users/{user_id}", status_code=204)
async def add_user(request: Request, group_id: str, user_id: str) -> Response:
    enforce(request, "identity:add_user_to_group")
    async with ident(request).write() as s:
        if await _membership(s, request, group_id, user_id) is None:
            s.add(m.GroupMember(group_id=group_id, user_id=user_id))
    return Response(status_code=204)


@router.get("/v3/groups/{group_id}/users/{user_id}", status_code=204)
@router.head("/v3/groups/{group_id}/users/{user_id}", status_code=204)
async def check_user(request: Request, group_id: str, user_id: str) -> Response:
    enforce(request, "identity:check_user_in_group")
    async with ident(request).db.read() as s:
        if await _membership(s, request, group_id, user_id) is None:
            raise exc.NotFound(f"User {user_id} is not a member of group {group_id}.")
    return Response(status_code=204)


@router.delete("/v3/groups/{group_id}/users/{user_id}", status_code=204)
async def remove_user(request: Request, group_id: str, user_id: str) -> Response:
    enforce(request, "identity:remove_user_from_group")
    async with ident(request).write() as s:
        if await _membership(s, request, group_id, user_id) is None:
            raise exc.NotFound(f"User {user_id} is not a member of group {group_id}.")
        await s.execute(delete(m.GroupMember).where(m.GroupMember.group_id == group_id,
                                                    m.GroupMember.user_id == user_id))
    return Response(status_code=204)
