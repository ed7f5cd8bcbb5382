"""Roles (/v3/roles) and implied roles (/v3/roles/{prior}/implies, /v3/role_inferences)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.identity import models as m
from pocketstack.identity.api.common import base, collection, enforce, ident, new_router, url, where
from pocketstack.identity.removal import delete_role as remove_role
from pocketstack.identity.schemas.common import changes
from pocketstack.identity.schemas.roles import RoleBody, RoleUpdateBody, role_ref, role_view

router = new_router()


async def _unique(s: AsyncSession, name: str, domain_id: str | None) -> None:
    q = select(m.Role.id).where(m.Role.name == name, m.Role.domain_id.is_(None)
                                if domain_id is None else m.Role.domain_id == domain_id)
    if (await s.execute(q)).first() is not None:
        raise exc.Conflict(f"Conflict occurred attempting to store role - Duplicate entry "
                           f"found with name {name}.")


@router.get("/v3/roles")
async def list_roles(request: Request) -> dict[str, Any]:
    enforce(request, "identity:list_roles")
    clauses = where(request, m.Role, "name")
    domain_id = request.query_params.get("domain_id")
    clauses.append(m.Role.domain_id == domain_id if domain_id else m.Role.domain_id.is_(None))
    async with ident(request).db.read() as s:
        rows = (await s.execute(select(m.Role).where(*clauses).order_by(m.Role.name))
                ).scalars().all()
    return collection(request, "roles", [role_view(r, base(request)) for r in rows])


@router.get("/v3/roles/{role_id}")
async def get_role(request: Request, role_id: str) -> dict[str, Any]:
    enforce(request, "identity:get_role")
    async with ident(request).db.read() as s:
        row = await ident(request).get(s, m.Role, role_id, "role")
    return {"role": role_view(row, base(request))}


@router.post("/v3/roles", status_code=201)
async def create_role(request: Request, body: RoleBody) -> dict[str, Any]:
    enforce(request, "identity:create_role")
    r = body.role
    svc = ident(request)
    async with svc.write() as s:
        if r.domain_id is not None:
            await svc.get(s, m.Domain, r.domain_id, "domain")
        await _unique(s, r.name, r.domain_id)
        row = m.Role(id=m.new_id(), name=r.name, domain_id=r.domain_id,
                     description=r.description)
        s.add(row)
    return {"role": role_view(row, base(request))}


@router.patch("/v3/roles/{role_id}")
async def update_role(request: Request, role_id: str, body: RoleUpdateBody) -> dict[str, Any]:
    enforce(request, "identity:update_role")
    update = changes(body.role)
    update.pop("options", None)
    svc = ident(request)
    async with svc.write() as s:
        row = await svc.get(s, m.Role, role_id, "role")
        if "name" in update and update["name"] != row.name:
            await _unique(s, update["name"], row.domain_id)
        for key, value in update.items():
            setattr(row, key, value)
    return {"role": role_view(row, base(request))}


@router.delete("/v3/roles/{role_id}", status_code=204)
async def delete_role(request: Request, role_id: str) -> None:
    enforce(request, "identity:delete_role")
    svc = ident(request)
    async with svc.write() as s:
        await svc.get(s, m.Role, role_id, "role")
        await remove_role(s, role_id)


# -- implied roles --------------------------------------------------------------

async def _pair(request: Request, s: AsyncSession, prior_id: str,
                implied_id: str) -> tuple[m.Role, m.Role]:
    svc = ident(request)
    return (await svc.get(s, m.Role, prior_id, "role"),
            await svc.get(s, m.Role, implied_id, "role"))


def _inference(request: Request, prior: m.Role, implied: m.Role) -> dict[str, Any]:
    b = base(request)
    return {"role_inference": {"prior_role": role_ref(prior, b), "implies": role_ref(implied, b)},
            "links": {"self": url(request, f"/v3/roles/{prior.id}/implies/{implied.id}")}}


async def _implied_by(s: AsyncSession, prior_id: str) -> list[m.Role]:
    q = select(m.Role).join(m.ImpliedRole, m.ImpliedRole.implied_role_id == m.Role.id).where(
        m.ImpliedRole.prior_role_id == prior_id).order_by(m.Role.name)
    return list((await s.execute(q)).scalars().all())


@router.put("/v3/roles/{prior_id}/implies/{implied_id}", status_code=201)
async def create_implied(request: Request, prior_id: str, implied_id: str) -> dict[str, Any]:
    enforce(request, "identity:create_implied_role")
    svc = ident(request)
    async with svc.write() as s:
        prior, implied = await _pair(request, s, prior_id, implied_id)
        _, implies = await svc.roles_index(s)
        if prior_id in implies.get(implied_id, {implied_id}):
            raise exc.Forbidden(f"Implying {implied.name} from {prior.name} would make a loop.")
        if await s.get(m.ImpliedRole, (prior_id, implied_id)) is None:
            s.add(m.ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))
    return _inference(request, prior, implied)


@router.get("/v3/roles/{prior_id}/implies/{implied_id}")
async def get_implied(request: Request, prior_id: str, implied_id: str) -> dict[str, Any]:
    enforce(request, "identity:get_implied_role")
    async with ident(request).db.read() as s:
        prior, implied = await _pair(request, s, prior_id, implied_id)
        if await s.get(m.ImpliedRole, (prior_id, implied_id)) is None:
            raise exc.NotFound(f"{prior_id} does not imply {implied_id}.")
    return _inference(request, prior, implied)


@router.head("/v3/roles/{prior_id}/implies/{implied_id}", status_code=204)
async def check_implied(request: Request, prior_id: str, implied_id: str) -> Response:
    enforce(request, "identity:get_implied_role")
    await get_implied(request, prior_id, implied_id)
    return Response(status_code=204)


@router.delete("/v3/roles/{prior_id}/implies/{implied_id}", status_code=204)
async def delete_implied(request: Request, prior_id: str, implied_id: str) -> None:
    enforce(request, "identity:delete_implied_role")
    async with ident(request).write() as s:
        await _pair(request, s, prior_id, implied_id)
        if await s.get(m.ImpliedRole, (prior_id, implied_id)) is None:
            raise exc.NotFound(f"{prior_id} does not imply {implied_id}.")
        await s.execute(delete(m.ImpliedRole).where(m.ImpliedRole.prior_role_id == prior_id,
                                                    m.ImpliedRole.implied_role_id == implied_id))


@router.get("/v3/roles/{prior_id}/implies")
async def list_implied(request: Request, prior_id: str) -> dict[str, Any]:
    enforce(request, "identity:list_implied_roles")
    svc = ident(request)
    async with svc.db.read() as s:
        prior = await svc.get(s, m.Role, prior_id, "role")
        implied = await _implied_by(s, prior_id)
    b = base(request)
    return {"role_inference": {"prior_role": role_ref(prior, b),
                               "implies": [role_ref(r, b) for r in implied]},
            "links": {"self": str(request.url)}}


@router.get("/v3/role_inferences")
async def list_inferences(request: Request) -> dict[str, Any]:
    enforce(request, "identity:list_role_inference_rules")
    async with ident(request).db.read() as s:
        priors = (await s.execute(select(m.Role).where(m.Role.id.in_(
            select(m.ImpliedRole.prior_role_id))).order_by(m.Role.name))).scalars().all()
        rules = [(p, await _implied_by(s, p.id)) for p in priors]
    b = base(request)
    return {"role_inferences": [{"prior_role": role_ref(p, b),
                                 "implies": [role_ref(r, b) for r in implied]}
                                for p, implied in rules],
            "links": {"self": str(request.url), "previous": None, "next": None}}
