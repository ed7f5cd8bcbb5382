"""The service catalog as tokens carry it, and keeping the pocketstack
services' own entries in step with the current base URL on every start."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.identity import models as m

INTERFACES = ("public", "internal", "admin")


async def build_catalog(s: AsyncSession) -> list[dict[str, Any]]:
    services = (await s.execute(select(m.Service).where(m.Service.enabled.is_(True))
                                .order_by(m.Service.type, m.Service.id))).scalars().all()
    endpoints = (await s.execute(select(m.Endpoint).where(m.Endpoint.enabled.is_(True))
                                 .order_by(m.Endpoint.interface))).scalars().all()
    by_service: dict[str, list[dict[str, Any]]] = {}
    for e in endpoints:
        by_service.setdefault(e.service_id, []).append({
            "id": e.id, "interface": e.interface, "region": e.region_id,
            "region_id": e.region_id, "url": e.url,
        })
    return [{"endpoints": by_service.get(svc.id, []), "id": svc.id, "type": svc.type,
             "name": svc.name or ""} for svc in services]


async def sync_service(s: AsyncSession, service_type: str, name: str, url: str,
                       region: str) -> bool:
    """Make one catalog service and its three endpoints point at `url`.
    Returns whether anything changed."""
    svc = (await s.execute(select(m.Service).where(
        m.Service.type == service_type, m.Service.name == name))).scalars().first()
    changed = False
    if svc is None:
        svc = m.Service(id=m.new_id(), type=service_type, name=name, enabled=True,
                        description=f"pocketstack {service_type}")
        s.add(svc)
        changed = True
    found = {e.interface: e for e in (await s.execute(
        select(m.Endpoint).where(m.Endpoint.service_id == svc.id))).scalars()}
    for interface in INTERFACES:
        e = found.get(interface)
        if e is None:
            s.add(m.Endpoint(id=m.new_id(), service_id=svc.id, interface=interface,
                             region_id=region, url=url, enabled=True))
            changed = True
        elif e.url != url or e.region_id != region:
            e.url, e.region_id = url, region
            changed = True
    return changed
