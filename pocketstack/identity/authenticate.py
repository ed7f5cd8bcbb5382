"""POST /v3/auth/tokens: who is asking (password, token or application
credential), which scope they ask for, and the token that answers.

A failed password counts towards the lockout (cfg.identity.lockout_*); bcrypt
runs in a thread. Every refusal is a 401 with Keystone's message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.identity import models as m
from pocketstack.identity.passwords import check_secret
from pocketstack.identity.scope import active_user
from pocketstack.identity.service import Identity
from pocketstack.identity.tokens import Payload, TokenInfo, new_audit_id

NEEDS_AUTH = "The request you have made requires authentication."
METHODS = ("password", "token", "application_credential")


def field(obj: Any, key: str, kind: type | tuple[type, ...], where: str,
          required: bool = True) -> Any:
    """obj[key], checked to be of `kind`; a 400 in Keystone's words if not."""
    if not isinstance(obj, dict):
        raise exc.BadRequest(f"Invalid input for field '{where}': not an object.")
    if key not in obj:
        if required:
            raise exc.BadRequest(
                f"Invalid input for field '{where}': '{key}' is a required property")
        return None
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise exc.BadRequest(f"Invalid input for field '{where}.{key}': wrong type.")
    return value


@dataclass
class Who:
    user_id: str
    expires_at: float | None = None  # inherited from a token or an app credential
    audit_ids: tuple[str, ...] = ()
    app_cred: m.AppCredential | None = None
    scope: tuple[str, str] | None = None  # forced (application credentials)


async def authenticate(ident: Identity, body: Any) -> TokenInfo:
    auth = field(body, "auth", dict, "auth")
    identity = field(auth, "identity", dict, "auth")
    methods = field(identity, "methods", list, "identity")
    if not methods or any(not isinstance(x, str) for x in methods):
        raise exc.BadRequest("Invalid input for field 'identity.methods'.")
    unknown = [x for x in methods if x not in METHODS]
    if unknown:
        raise exc.Unauthorized(f"Attempted to authenticate with an unsupported method: "
                               f"{unknown[0]}")
    who: Who | None = None
    for method in dict.fromkeys(methods):
        data = field(identity, method, dict, "identity")
        found = await _METHOD[method](ident, data)
        if who is not None and found.user_id != who.user_id:
            raise exc.Unauthorized("User IDs do not match between authentication methods.")
        who = found if who is None or found.expires_at else who
    assert who is not None
    requested = auth.get("scope")
    if who.app_cred is not None and requested not in (None, "unscoped"):
        raise exc.Unauthorized("Application credentials cannot request a scope.")
    async with ident.db.read() as s:
        scope = who.scope or await _scope(s, requested, who.user_id)
        now = time.time()
        expires = now + ident.cfg.identity.token_expiration
        if who.expires_at is not None:
            expires = min(expires, who.expires_at)
        payload = Payload(
            user_id=who.user_id, methods=tuple(dict.fromkeys(methods)), scope=scope,
            issued_at=now, expires_at=expires, audit_ids=(new_audit_id(),) + who.audit_ids[:1],
            app_cred_id=who.app_cred.id if who.app_cred else None)
        return await ident.issue(s, payload)


# -- methods ------------------------------------------------------------------

async def _find_user(s: AsyncSession, ref: Any, where: str) -> m.User | None:
    user_id = field(ref, "id", str, where, required=False)
    if user_id is not None:
        return await s.get(m.User, user_id)
    name = field(ref, "name", str, where)
    domain = field(ref, "domain", dict, where)
    domain_id = await _domain_id(s, domain, f"{where}.domain")
    q = select(m.User).where(m.User.name == name, m.User.domain_id == domain_id)
    return (await s.execute(q)).scalars().first()


async def _domain_id(s: AsyncSession, ref: Any, where: str) -> str:
    domain_id = field(ref, "id", str, where, required=False)
    if domain_id is not None:
        return domain_id
    name = field(ref, "name", str, where)
    found = (await s.execute(select(m.Domain.id).where(m.Domain.name == name))).scalar()
    if found is None:
        raise exc.Unauthorized(f"Could not find domain: {name}.")
    return found


async def _password(ident: Identity, data: dict[str, Any]) -> Who:
    ref = field(data, "user", dict, "password")
    password = field(ref, "password", str, "password.user")
    async with ident.db.read() as s:
        user = await _find_user(s, ref, "password.user")
        if user is None:
            raise exc.Unauthorized(NEEDS_AUTH)
        await active_user(s, user.id)
    await check_password(ident, user, password)
    return Who(user.id)


async def check_password(ident: Identity, user: m.User, password: str) -> None:
    """401 unless `password` is the user's; counts failures towards the lockout."""
    cfg = ident.cfg.identity
    user_id, hashed = user.id, user.password_hash
    failures, last = user.failed_auth_count, user.last_failed_auth_at or 0.0
    now = time.time()
    lock_over = now - last >= cfg.lockout_duration
    attempts = cfg.lockout_failure_attempts
    if attempts and failures >= attempts and not lock_over:
        raise exc.Unauthorized(f"The account is locked for user: {user_id}.")
    if await check_secret(password, hashed):
        if failures:
            await _set_failures(ident, user_id, 0, None)
        return
    if attempts:
        await _set_failures(ident, user_id, 1 if lock_over else failures + 1, now)
    raise exc.Unauthorized(NEEDS_AUTH)


async def _set_failures(ident: Identity, user_id: str, count: int, at: float | None) -> None:
    async with ident.write(invalidate=False) as s:
        user = await s.get(m.User, user_id)
        if user is not None:
            user.failed_auth_count, user.last_failed_auth_at = count, at


async def _token(ident: Identity, data: dict[str, Any]) -> Who:
    token = field(data, "id", str, "token")
    try:
        old = await ident.validate(token)
    except exc.NotFound:
        raise exc.Unauthorized(f"Could not find token: {token}") from None
    if old.app_cred is not None:
        raise exc.Forbidden("An application credential token cannot be rescoped.")
    p = old.payload
    return Who(p.user_id, expires_at=p.expires_at, audit_ids=p.audit_ids)


async def _app_cred(ident: Identity, data: dict[str, Any]) -> Who:
    secret = field(data, "secret", str, "application_credential")
    async with ident.db.read() as s:
        cred_id = field(data, "id", str, "application_credential", required=False)
        if cred_id is not None:
            cred = await s.get(m.AppCredential, cred_id)
        else:
            name = field(data, "name", str, "application_credential")
            user = await _find_user(s, field(data, "user", dict, "application_credential"),
                                    "application_credential.user")
            cred = None if user is None else (await s.execute(select(m.AppCredential).where(
                m.AppCredential.user_id == user.id, m.AppCredential.name == name))).scalar()
        if cred is None:
            raise exc.Unauthorized(NEEDS_AUTH)
        await active_user(s, cred.user_id)
    if cred.expires_at is not None and cred.expires_at <= time.time():
        raise exc.Unauthorized("The application credential has expired.")
    if not await check_secret(secret, cred.secret_hash):
        raise exc.Unauthorized(NEEDS_AUTH)
    return Who(cred.user_id, expires_at=cred.expires_at, app_cred=cred,
               scope=("project", cred.project_id))


_METHOD = {"password": _password, "token": _token, "application_credential": _app_cred}


# -- scope --------------------------------------------------------------------

async def _scope(s: AsyncSession, requested: Any, user_id: str) -> tuple[str, str] | None:
    if requested is None:
        return await _default_project(s, user_id)
    if requested == "unscoped":
        return None
    if not isinstance(requested, dict):
        raise exc.BadRequest("Invalid input for field 'scope'.")
    kinds = [k for k in ("project", "domain", "system") if k in requested]
    if len(kinds) != 1:
        raise exc.BadRequest("Specify one of project, domain or system in the scope.")
    kind = kinds[0]
    ref = field(requested, kind, dict, "scope")
    if kind == "system":
        if ref.get("all") is not True:
            raise exc.BadRequest("Invalid input for field 'scope.system': all must be true.")
        return ("system", "all")
    if kind == "domain":
        return ("domain", await _domain_id(s, ref, "scope.domain"))
    project_id = field(ref, "id", str, "scope.project", required=False)
    if project_id is None:
        name = field(ref, "name", str, "scope.project")
        domain_id = await _domain_id(s, field(ref, "domain", dict, "scope.project"),
                                     "scope.project.domain")
        project_id = (await s.execute(select(m.Project.id).where(
            m.Project.name == name, m.Project.domain_id == domain_id))).scalar()
        if project_id is None:
            raise exc.Unauthorized(f"Could not find project: {name}.")
    return ("project", project_id)


async def _default_project(s: AsyncSession, user_id: str) -> tuple[str, str] | None:
    user = await s.get(m.User, user_id)
    project_id = user.default_project_id if user else None
    if not project_id:
        return None
    project = await s.get(m.Project, project_id)
    if project is None or not project.enabled:
        return None
    groups = select(m.GroupMember.group_id).where(m.GroupMember.user_id == user_id)
    has = (await s.execute(select(m.Assignment.role_id).where(
        m.Assignment.target_type == "project", m.Assignment.target_id == project_id,
        (m.Assignment.actor_id == user_id) | m.Assignment.actor_id.in_(groups)).limit(1))).first()
    return ("project", project_id) if has else None
