"""What a token payload means now: its user, its scope and the roles the user
holds there (implied roles expanded), its application credential. Used when
a token is issued and every time one is validated (outside the cache), so a
disabled user, a deleted project or a removed role ends the token at once.
Raises Unauthorized with Keystone's message when the token gives no access.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.identity import models as m
from pocketstack.identity.tokens import Payload, TokenInfo

if TYPE_CHECKING:
    from pocketstack.identity.service import Identity


def _ref(row: Any) -> dict[str, str]:
    return {"id": row.id, "name": row.name}


async def enabled_domain(s: AsyncSession, domain_id: str) -> m.Domain:
    domain = await s.get(m.Domain, domain_id)
    if domain is None or not domain.enabled:
        raise exc.Unauthorized(f"Domain {domain_id} is disabled or does not exist.")
    return domain


async def active_user(s: AsyncSession, user_id: str) -> tuple[m.User, m.Domain]:
    user = await s.get(m.User, user_id)
    if user is None:
        raise exc.Unauthorized("The request you have made requires authentication.")
    domain = await enabled_domain(s, user.domain_id)
    if not user.enabled:
        raise exc.Unauthorized(f"User {user_id} is disabled.")
    return user, domain


async def resolve_token(ident: Identity, s: AsyncSession, token: str, p: Payload) -> TokenInfo:
    user, user_domain = await active_user(s, p.user_id)
    info = TokenInfo(token=token, payload=p, user={
        "id": user.id, "name": user.name, "domain": _ref(user_domain),
        "password_expires_at": None,
    })
    if p.scope is None:
        return info
    kind, target = p.scope
    if kind == "project":
        project = await s.get(m.Project, target)
        if project is None or not project.enabled:
            raise exc.Unauthorized(f"Project {target} is disabled or does not exist.")
        domain = await enabled_domain(s, project.domain_id)
        info.project = {"id": project.id, "name": project.name, "domain": _ref(domain)}
    elif kind == "domain":
        info.domain = _ref(await enabled_domain(s, target))
    else:
        info.system = True
    roles = await ident.expand_roles(s, await ident.direct_role_ids(s, user.id, kind, target))
    if p.app_cred_id is not None:
        allowed = await ident.expand_roles(s, await _app_cred(s, info, p.app_cred_id, user.id))
        roles = [r for r in roles if r in allowed]
    info.roles = roles
    if not info.roles:
        where = {"project": "project", "domain": "domain", "system": "the system"}[kind]
        raise exc.Unauthorized(f"User {user.id} has no access to {where} {target}".replace(
            "the system all", "the system"))
    info.catalog = await ident.catalog(s)
    return info


async def _app_cred(s: AsyncSession, info: TokenInfo, cred_id: str, user_id: str) -> set[str]:
    cred = await s.get(m.AppCredential, cred_id)
    if cred is None or cred.user_id != user_id or (
            cred.expires_at is not None and cred.expires_at <= time.time()):
        raise exc.Unauthorized("The application credential is no longer valid.")
    info.app_cred = {"id": cred.id, "name": cred.name, "restricted": not cred.unrestricted}
    return set(cred.role_ids)
