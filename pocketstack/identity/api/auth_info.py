"""What the caller's token gives access to: /v3/auth/projects, /v3/auth/domains,
/v3/auth/system (the catalog is in tokens.py)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import select

from pocketstack.identity import models as m
from pocketstack.identity.api.common import base, caller, collection, enforce, ident, new_router
from pocketstack.identity.schemas.domains import domain_view, project_view

router = new_router()


def _targets(user_id: str, target_type: str):  # noqa: ANN202
    groups = select(m.GroupMember.group_id).where(m.GroupMember.user_id == user_id)
    return select(m.Assignment.target_id).where(
        m.Assignment.target_type == target_type,
        ((m.Assignment.actor_type == "user") & (m.Assignment.actor_id == user_id))
        | ((m.Assignment.actor_type == "group") & m.Assignment.actor_id.in_(groups)))


@router.get("/v3/auth/projects")
async def auth_projects(request: Request) -> dict[str, Any]:
    enforce(request, "identity:get_auth_projects")
    q = select(m.Project).join(m.Domain, m.Domain.id == m.Project.domain_id).where(
        m.Project.id.in_(_targets(caller(request).user_id, "project")),
        m.Project.enabled.is_(True), m.Domain.enabled.is_(True)).order_by(m.Project.name)
    async with ident(request).db.read() as s:
        rows = (await s.execute(q)).scalars().all()
    return collection(request, "projects", [project_view(p, base(request)) for p in rows])


@router.get("/v3/auth/domains")
async def auth_domains(request: Request) -> dict[str, Any]:
    enforce(request, "identity:get_auth_domains")
    q = select(m.Domain).where(m.Domain.id.in_(_targets(caller(request).user_id, "domain")),
                               m.Domain.enabled.is_(True)).order_by(m.Domain.name)
    async with ident(request).db.read() as s:
        rows = (await s.execute(q)).scalars().all()
    return collection(request, "domains", [domain_view(d, base(request)) for d in rows])


@router.get("/v3/auth/system")
async def auth_system(request: Request) -> dict[str, Any]:
    enforce(request, "identity:get_auth_system")
    async with ident(request).db.read() as s:
        found = (await s.execute(_targets(caller(request).user_id, "system").limit(1))).first()
    return {"system": [{"all": True}] if found else [],
            "links": {"self": str(request.url), "previous": None, "next": None}}
