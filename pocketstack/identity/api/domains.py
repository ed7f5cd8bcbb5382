"""Domains (/v3/domains)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import select

from pocketstack.core import exceptions as exc
from pocketstack.identity import models as m
from pocketstack.identity.api.common import base, collection, enforce, ident, new_router, where
from pocketstack.identity.removal import delete_domain as remove_domain
from pocketstack.identity.schemas.common import changes
from pocketstack.identity.schemas.domains import DomainBody, DomainUpdateBody, domain_view

router = new_router()


def _duplicate(name: str) -> exc.Conflict:
    return exc.Conflict(f"Conflict occurred attempting to store domain - "
                        f"Duplicate entry found with name {name}.")


@router.get("/v3/domains")
async def list_domains(request: Request) -> dict[str, Any]:
    enforce(request, "identity:list_domains")
    q = select(m.Domain).where(*where(request, m.Domain, "name", "enabled")).order_by(
        m.Domain.name)
    async with ident(request).db.read() as s:
        rows = (await s.execute(q)).scalars().all()
    return collection(request, "domains", [domain_view(d, base(request)) for d in rows])


@router.get("/v3/domains/{domain_id}")
async def get_domain(request: Request, domain_id: str) -> dict[str, Any]:
    enforce(request, "identity:get_domain", domain_id=domain_id)
    async with ident(request).db.read() as s:
        row = await ident(request).get(s, m.Domain, domain_id, "domain")
    return {"domain": domain_view(row, base(request))}


@router.post("/v3/domains", status_code=201)
async def create_domain(request: Request, body: DomainBody) -> dict[str, Any]:
    enforce(request, "identity:create_domain")
    d = body.domain
    async with ident(request).write() as s:
        if (await s.execute(select(m.Domain.id).where(m.Domain.name == d.name))).first():
            raise _duplicate(d.name)
        row = m.Domain(id=d.explicit_domain_id or m.new_id(), name=d.name,
                       description=d.description, enabled=d.enabled, tags=d.tags)
        s.add(row)
    return {"domain": domain_view(row, base(request))}


@router.patch("/v3/domains/{domain_id}")
async def update_domain(request: Request, domain_id: str,
                        body: DomainUpdateBody) -> dict[str, Any]:
    enforce(request, "identity:update_domain")
    update = changes(body.domain)
    update.pop("options", None)
    svc = ident(request)
    async with svc.write() as s:
        row = await svc.get(s, m.Domain, domain_id, "domain")
        if "name" in update and update["name"] != row.name and (await s.execute(
                select(m.Domain.id).where(m.Domain.name == update["name"]))).first():
            raise _duplicate(update["name"])
        for key, value in update.items():
            setattr(row, key, value)
    return {"domain": domain_view(row, base(request))}


@router.delete("/v3/domains/{domain_id}", status_code=204)
async def delete_domain(request: Request, domain_id: str) -> None:
    enforce(request, "identity:delete_domain")
    svc = ident(request)
    async with svc.write() as s:
        row = await svc.get(s, m.Domain, domain_id, "domain")
        if row.enabled:
            raise exc.Forbidden("Cannot delete a domain that is enabled, please disable it "
                                "first.")
        await remove_domain(s, domain_id)
