"""Application credentials (/v3/users/{user_id}/application_credentials)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from fastapi import Request
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.identity import models as m
from pocketstack.identity.api.common import (
    base,
    caller_token,
    collection,
    enforce,
    ident,
    new_router,
)
from pocketstack.identity.passwords import hash_secret
from pocketstack.identity.schemas.app_creds import AppCredBody, app_cred_view, parse_time

router = new_router()
PATH = "/v3/users/{user_id}/application_credentials"


async def _roles(s: AsyncSession, request: Request, cred: m.AppCredential) -> list[dict]:
    names, _ = await ident(request).roles_index(s)
    return [{"id": r, "name": names[r]} for r in cred.role_ids if r in names]


def _chosen_roles(request: Request, wanted: list | None) -> list[str]:
    """The roles asked for, each one the caller's token has; by default all of them."""
    have = caller_token(request).roles
    if not wanted:
        return [r["id"] for r in have]
    chosen = []
    for ref in wanted:
        match = [r["id"] for r in have if ref.id in (None, r["id"]) and ref.name in
                 (None, r["name"])]
        if not match or (ref.id is None and ref.name is None):
            raise exc.Forbidden(f"The caller does not have the role {ref.id or ref.name} "
                                "on the project.")
        chosen.append(match[0])
    return list(dict.fromkeys(chosen))


@router.post(PATH, status_code=201)
async def create(request: Request, user_id: str, body: AppCredBody) -> dict[str, Any]:
    ctx = enforce(request, "identity:create_application_credential", user_id=user_id)
    token = caller_token(request)
    if token.app_cred is not None and token.app_cred["restricted"]:
        raise exc.Forbidden("A restricted application credential cannot create "
                            "application credentials.")
    if ctx.project_id is None:
        raise exc.Forbidden("Application credentials need a project-scoped token.")
    c = body.application_credential
    expires = parse_time(c.expires_at) if c.expires_at else None
    if expires is not None and expires <= time.time():
        raise exc.BadRequest("Invalid input for field 'expires_at': it is in the past.")
    role_ids = _chosen_roles(request, c.roles)
    secret = c.secret or secrets.token_urlsafe(64)
    hashed = await hash_secret(secret, ident(request).cfg.identity.bcrypt_rounds)
    svc = ident(request)
    async with svc.write() as s:
        if (await s.execute(select(m.AppCredential.id).where(
                m.AppCredential.user_id == user_id, m.AppCredential.name == c.name))).first():
            raise exc.Conflict("Conflict occurred attempting to store application_credential"
                               f" - Duplicate entry found with name {c.name}.")
        row = m.AppCredential(id=m.new_id(), name=c.name, user_id=user_id,
                              project_id=ctx.project_id, secret_hash=hashed,
                              description=c.description, expires_at=expires,
                              unrestricted=c.unrestricted, role_ids=role_ids)
        s.add(row)
        roles = await _roles(s, request, row)
    view = app_cred_view(row, roles, base(request))
    view["secret"] = secret
    return {"application_credential": view}


@router.get(PATH)
async def list_(request: Request, user_id: str) -> dict[str, Any]:
    enforce(request, "identity:list_application_credentials", user_id=user_id)
    svc = ident(request)
    q = select(m.AppCredential).where(m.AppCredential.user_id == user_id)
    if "name" in request.query_params:
        q = q.where(m.AppCredential.name == request.query_params["name"])
    async with svc.db.read() as s:
        await svc.get(s, m.User, user_id, "user")
        rows = (await s.execute(q.order_by(m.AppCredential.name))).scalars().all()
        views = [app_cred_view(c, await _roles(s, request, c), base(request)) for c in rows]
    return collection(request, "application_credentials", views)


async def _get(s: AsyncSession, user_id: str, cred_id: str) -> m.AppCredential:
    row = await s.get(m.AppCredential, cred_id)
    if row is None or row.user_id != user_id:
        raise exc.NotFound(f"Could not find Application Credential: {cred_id}.")
    return row


@router.get(PATH + "/{cred_id}")
async def get(request: Request, user_id: str, cred_id: str) -> dict[str, Any]:
    enforce(request, "identity:get_application_credential", user_id=user_id)
    async with ident(request).db.read() as s:
        row = await _get(s, user_id, cred_id)
        roles = await _roles(s, request, row)
    return {"application_credential": app_cred_view(row, roles, base(request))}


@router.delete(PATH + "/{cred_id}", status_code=204)
async def delete_(request: Request, user_id: str, cred_id: str) -> None:
    enforce(request, "identity:delete_application_credential", user_id=user_id)
    async with ident(request).write() as s:
        await _get(s, user_id, cred_id)
        await s.execute(delete(m.AppCredential).where(m.AppCredential.id == cred_id))
