"""Users (/v3/users), their projects and groups, and the self-service password change."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.identity import models as m
from pocketstack.identity.api.common import base, collection, enforce, ident, new_router, where
from pocketstack.identity.authenticate import check_password
from pocketstack.identity.passwords import hash_secret
from pocketstack.identity.removal import delete_user as remove_user
from pocketstack.identity.schemas.domains import project_view
from pocketstack.identity.schemas.users import (
    PasswordChangeBody,
    UserBody,
    UserUpdateBody,
    extras,
    group_view,
    user_view,
)

router = new_router()


async def _unique(s: AsyncSession, name: str, domain_id: str) -> None:
    found = (await s.execute(select(m.User.id).where(
        m.User.name == name, m.User.domain_id == domain_id))).first()
    if found is not None:
        raise exc.Conflict(f"Conflict occurred attempting to store user - Duplicate entry "
                           f"found with name {name} at domain ID {domain_id}.")


async def _hash(request: Request, password: str | None) -> str | None:
    if password is None:
        return None
    return await hash_secret(password, ident(request).cfg.identity.bcrypt_rounds)


@router.get("/v3/users")
async def list_users(request: Request) -> dict[str, Any]:
    enforce(request, "identity:list_users")
    q = select(m.User).where(*where(request, m.User, "name", "domain_id", "enabled")).order_by(
        m.User.name)
    async with ident(request).db.read() as s:
        rows = (await s.execute(q)).scalars().all()
    return collection(request, "users", [user_view(u, base(request)) for u in rows])


@router.get("/v3/users/{user_id}")
async def get_user(request: Request, user_id: str) -> dict[str, Any]:
    enforce(request, "identity:get_user", user_id=user_id)
    async with ident(request).db.read() as s:
        row = await ident(request).get(s, m.User, user_id, "user")
    return {"user": user_view(row, base(request))}


@router.post("/v3/users", status_code=201)
async def create_user(request: Request, body: UserBody) -> dict[str, Any]:
    ctx = enforce(request, "identity:create_user")
    u = body.user
    domain_id = u.domain_id or ctx.domain_id or ctx.project_domain_id or "default"
    hashed = await _hash(request, u.password)
    svc = ident(request)
    async with svc.write() as s:
        await svc.get(s, m.Domain, domain_id, "domain")
        if u.default_project_id is not None:
            await svc.get(s, m.Project, u.default_project_id, "project")
        await _unique(s, u.name, domain_id)
        row = m.User(id=m.new_id(), name=u.name, domain_id=domain_id, enabled=u.enabled,
                     password_hash=hashed, default_project_id=u.default_project_id,
                     extra=extras(u), failed_auth_count=0, created_at=time.time())
        s.add(row)
    return {"user": user_view(row, base(request))}


@router.patch("/v3/users/{user_id}")
async def update_user(request: Request, user_id: str, body: UserUpdateBody) -> dict[str, Any]:
    enforce(request, "identity:update_user", user_id=user_id)
    update = body.user.model_dump(exclude_unset=True)
    if "domain_id" in update:
        raise exc.BadRequest("Cannot change the domain of a user.")
    update.pop("options", None)
    password = update.pop("password", None)
    hashed = await _hash(request, password)
    svc = ident(request)
    async with svc.write() as s:
        row = await svc.get(s, m.User, user_id, "user")
        if "name" in update and update["name"] != row.name:
            await _unique(s, update["name"], row.domain_id)
        if update.get("default_project_id"):
            await svc.get(s, m.Project, update["default_project_id"], "project")
        known = ("name", "enabled", "default_project_id")
        for key in known:
            if key in update:
                setattr(row, key, update.pop(key))
        if update:
            row.extra = {**(row.extra or {}), **update}
        if hashed is not None:
            row.password_hash, row.failed_auth_count = hashed, 0
        if hashed is not None or row.enabled is False:
            await svc.revoke(s, user_id=user_id)
    return {"user": user_view(row, base(request))}


@router.delete("/v3/users/{user_id}", status_code=204)
async def delete_user(request: Request, user_id: str) -> None:
    enforce(request, "identity:delete_user", user_id=user_id)
    svc = ident(request)
    async with svc.write() as s:
        await svc.get(s, m.User, user_id, "user")
        await remove_user(s, user_id)


@router.post("/v3/users/{user_id}/password", status_code=204)
async def change_password(request: Request, user_id: str, body: PasswordChangeBody) -> None:
    """Self-service: needs the original password, not a token (as Keystone)."""
    svc = ident(request)
    async with svc.db.read() as s:
        row = await s.get(m.User, user_id)
    if row is None or not row.enabled:
        raise exc.Unauthorized("The request you have made requires authentication.")
    await check_password(svc, row, body.user.original_password)
    new_hash = await _hash(request, body.user.password)
    async with svc.write() as s:
        row = await svc.get(s, m.User, user_id, "user")
        row.password_hash, row.failed_auth_count = new_hash, 0
        await svc.revoke(s, user_id=user_id)


@router.get("/v3/users/{user_id}/projects")
async def list_user_projects(request: Request, user_id: str) -> dict[str, Any]:
    enforce(request, "identity:list_user_projects", user_id=user_id)
    svc = ident(request)
    async with svc.db.read() as s:
        await svc.get(s, m.User, user_id, "user")
        groups = select(m.GroupMember.group_id).where(m.GroupMember.user_id == user_id)
        ids = select(m.Assignment.target_id).where(
            m.Assignment.target_type == "project",
            ((m.Assignment.actor_type == "user") & (m.Assignment.actor_id == user_id))
            | ((m.Assignment.actor_type == "group") & m.Assignment.actor_id.in_(groups)))
        q = select(m.Project).where(m.Project.id.in_(ids),
                                    *where(request, m.Project, "name", "domain_id", "enabled"))
        rows = (await s.execute(q.order_by(m.Project.name))).scalars().all()
    return collection(request, "projects", [project_view(p, base(request)) for p in rows])


@router.get("/v3/users/{user_id}/groups")
async def list_user_groups(request: Request, user_id: str) -> dict[str, Any]:
    enforce(request, "identity:list_groups_for_user", user_id=user_id)
    svc = ident(request)
    async with svc.db.read() as s:
        await svc.get(s, m.User, user_id, "user")
        q = select(m.Group).join(m.GroupMember, m.GroupMember.group_id == m.Group.id).where(
            m.GroupMember.user_id == user_id).order_by(m.Group.name)
        rows = (await s.execute(q)).scalars().all()
    return collection(request, "groups", [group_view(g, base(request)) for g in rows])
