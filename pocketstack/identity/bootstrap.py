"""The defaults of a new cloud, made on first start, and the catalog entries
of pocketstack's own services, brought up to date on every start.

First start: domain Default (id `default`); projects admin, demo, service;
users admin, demo and the service user `pocketstack` with random passwords
(kept in a 0600 file in the state directory); roles admin > member > reader
and service; admin is admin on the admin project and the system, demo is
member of demo, pocketstack is admin and service on service; region RegionOne.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core.context import RequestContext
from pocketstack.identity import models as m
from pocketstack.identity.catalog import sync_service
from pocketstack.identity.passwords import hash_secret
from pocketstack.identity.service import Identity
from pocketstack.identity.tokens import Payload, new_audit_id
from pocketstack.services import api_root

if TYPE_CHECKING:
    from pocketstack.config import Config
    from pocketstack.runtime import BootstrapInfo
    from pocketstack.services import ServiceSpec

SERVICE_USER = "pocketstack"
USERS = ("admin", "demo", SERVICE_USER)
ROLES = ("admin", "member", "reader", "service")


def load_passwords(path: Path) -> dict[str, str]:
    if path.exists():
        return json.loads(path.read_text())
    passwords = {u: secrets.token_urlsafe(18) for u in USERS}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(passwords, f, indent=1)
    return passwords


async def ensure_defaults(ident: Identity, passwords: dict[str, str],
                          specs: list[ServiceSpec]) -> tuple[BootstrapInfo, bool]:
    cfg = ident.cfg
    async with ident.db.read() as s:
        first = await s.get(m.Domain, "default") is None
    if first:
        hashes = await asyncio.gather(*(hash_secret(passwords[u], cfg.identity.bcrypt_rounds)
                                        for u in USERS))
        async with ident.write() as s:
            await _create_defaults(s, dict(zip(USERS, hashes, strict=True)), cfg.region)
    async with ident.db.read() as s:
        stale = await _catalog_stale(s, specs, cfg)
    if stale:
        async with ident.write() as s:
            for spec, service_type, url in _entries(specs, cfg):
                await sync_service(s, service_type, spec.catalog_name, url, cfg.region)
    return await _info(ident), first


def _entries(specs: list[ServiceSpec], cfg: Config):  # noqa: ANN202
    for spec in (s for s in specs if s.in_catalog):
        url = api_root(cfg, spec) + spec.endpoint_suffix
        for service_type in (spec.service_type, *spec.aliases):
            yield spec, service_type, url


async def _catalog_stale(s: AsyncSession, specs: list[ServiceSpec], cfg: Config) -> bool:
    rows = (await s.execute(select(m.Service.type, m.Service.name, m.Endpoint.interface,
                                   m.Endpoint.url, m.Endpoint.region_id)
                            .join(m.Endpoint, m.Endpoint.service_id == m.Service.id))).all()
    have = set(rows)
    return any((t, spec.catalog_name, i, url, cfg.region) not in have
               for spec, t, url in _entries(specs, cfg) for i in ("public", "internal",
                                                                   "admin"))


async def _create_defaults(s: AsyncSession, hashes: dict[str, str], region: str) -> None:
    now = time.time()
    s.add(m.Domain(id="default", name="Default", description="The default domain",
                   enabled=True, tags=[]))
    s.add(m.Region(id=region, description="", parent_region_id=None))
    await s.flush()
    projects = {p: m.Project(id=m.new_id(), name=p, domain_id="default", enabled=True,
                             description=f"Bootstrap project {p}", tags=[])
                for p in ("admin", "demo", "service")}
    roles = {r: m.Role(id=m.new_id(), name=r) for r in ROLES}
    s.add_all([*projects.values(), *roles.values()])
    await s.flush()
    home = {"admin": "admin", "demo": "demo", SERVICE_USER: "service"}
    users = {u: m.User(id=m.new_id(), name=u, domain_id="default", enabled=True,
                       password_hash=hashes[u], default_project_id=projects[home[u]].id,
                       extra={}, failed_auth_count=0, created_at=now) for u in USERS}
    s.add_all(users.values())
    s.add_all([m.ImpliedRole(prior_role_id=roles["admin"].id, implied_role_id=roles["member"].id),
               m.ImpliedRole(prior_role_id=roles["member"].id,
                             implied_role_id=roles["reader"].id)])
    await s.flush()

    def grant(user: str, target_type: str, target_id: str, role: str) -> m.Assignment:
        return m.Assignment(actor_type="user", actor_id=users[user].id, target_type=target_type,
                            target_id=target_id, role_id=roles[role].id)

    s.add_all([
        grant("admin", "project", projects["admin"].id, "admin"),
        grant("admin", "system", "all", "admin"),
        grant("demo", "project", projects["demo"].id, "member"),
        grant(SERVICE_USER, "project", projects["service"].id, "admin"),
        grant(SERVICE_USER, "project", projects["service"].id, "service"),
    ])


async def _info(ident: Identity) -> BootstrapInfo:
    from pocketstack.runtime import BootstrapInfo

    async with ident.db.read() as s:
        projects = dict((await s.execute(select(m.Project.name, m.Project.id).where(
            m.Project.domain_id == "default",
            m.Project.name.in_(("admin", "demo", "service"))))).all())
        users = dict((await s.execute(select(m.User.name, m.User.id).where(
            m.User.domain_id == "default", m.User.name.in_(USERS)))).all())
        now = time.time()
        token = await ident.issue(s, Payload(
            user_id=users["admin"], methods=("password",),
            scope=("project", projects["admin"]), issued_at=now,
            expires_at=now + ident.cfg.identity.token_expiration, audit_ids=(new_audit_id(),)))
    ctx: RequestContext = token.context().model_copy()
    return BootstrapInfo(
        admin_ctx=ctx, admin_project_id=projects["admin"], demo_project_id=projects["demo"],
        service_project_id=projects["service"], admin_user_id=users["admin"],
        demo_user_id=users["demo"])
