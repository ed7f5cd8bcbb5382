"""The identity service's hub: the database, the token codec, and the caches
whose freshness matters (validated tokens, the catalog, the roles).

Every write goes through `write()`, which clears the caches after it commits
and tells the rest of the process (`runtime.emit("token_revoked")`), so no
revoked token, removed role or disabled project survives in a cache.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.config import Config
from pocketstack.core import exceptions as exc
from pocketstack.core.db import Database
from pocketstack.identity import models as m
from pocketstack.identity.tokens import Payload, TokenCodec, TokenInfo, ValidationCache

T = TypeVar("T")
log = logging.getLogger(__name__)


def token_not_found(token: str) -> exc.NotFound:
    return exc.NotFound(f"Could not find token: {token}")


class Identity:
    def __init__(self, cfg: Config, db: Database, codec: TokenCodec,
                 on_revoke: Callable[[], None] = lambda: None):
        self.cfg, self.db, self.codec = cfg, db, codec
        self.cache = ValidationCache(cfg.identity.cache_ttl)
        self.on_revoke = on_revoke
        self._catalog: list[dict[str, Any]] | None = None
        self._roles: tuple[dict[str, str], dict[str, set[str]]] | None = None
        codec.on_reload.append(self.cache.clear)

    # -- caches ---------------------------------------------------------------

    def invalidate(self) -> None:
        self.cache.clear()
        self._catalog = None
        self._roles = None
        self.on_revoke()

    @asynccontextmanager
    async def write(self, invalidate: bool = True) -> AsyncIterator[AsyncSession]:
        try:
            async with self.db.write() as s:
                yield s
                if invalidate:
                    await s.execute(update(m.Epoch).where(m.Epoch.id == 1)
                                    .values(value=m.Epoch.value + 1))
        except IntegrityError as e:
            raise exc.Conflict(f"Conflict occurred attempting to store: {e.orig}") from None
        finally:
            if invalidate:
                self.invalidate()

    async def watch(self, interval: float = 1.0) -> None:
        """Forever: drop the caches when another process sharing the database
        changed identity (the epoch row moved). Runs where the database is shared."""
        seen = None
        while True:
            try:
                async with self.db.read() as s:
                    value = (await s.execute(select(m.Epoch.value).where(m.Epoch.id == 1))
                             ).scalar()
                if seen is not None and value != seen:
                    self.invalidate()
                seen = value
            except Exception:  # noqa: BLE001 - keep watching through a database hiccup
                log.warning("identity: reading the epoch failed", exc_info=True)
            await asyncio.sleep(interval)

    async def catalog(self, s: AsyncSession) -> list[dict[str, Any]]:
        if self._catalog is None:
            from pocketstack.identity.catalog import build_catalog

            self._catalog = await build_catalog(s)
        return self._catalog

    async def roles_index(self, s: AsyncSession) -> tuple[dict[str, str], dict[str, set[str]]]:
        """(role id -> name, role id -> the role ids it implies, transitively)."""
        if self._roles is None:
            names = dict((await s.execute(select(m.Role.id, m.Role.name))).all())
            direct: dict[str, set[str]] = {}
            for prior, implied in (await s.execute(
                    select(m.ImpliedRole.prior_role_id, m.ImpliedRole.implied_role_id))).all():
                direct.setdefault(prior, set()).add(implied)
            self._roles = names, {r: _closure(r, direct) for r in names}
        return self._roles

    async def expand_roles(self, s: AsyncSession, role_ids: set[str]) -> list[dict[str, str]]:
        names, implies = await self.roles_index(s)
        every: set[str] = set()
        for r in role_ids:
            every |= implies.get(r, {r})
        return sorted(({"id": r, "name": names[r]} for r in every if r in names),
                      key=lambda r: r["name"])

    # -- lookups --------------------------------------------------------------

    async def get(self, s: AsyncSession, model: type[T], id: str, kind: str) -> T:
        row = await s.get(model, id)
        if row is None:
            raise exc.NotFound(f"Could not find {kind}: {id}.")
        return row

    async def direct_role_ids(self, s: AsyncSession, user_id: str, target_type: str,
                              target_id: str) -> set[str]:
        """The roles a user has on a target, directly or through a group."""
        groups = select(m.GroupMember.group_id).where(m.GroupMember.user_id == user_id)
        q = select(m.Assignment.role_id).where(
            m.Assignment.target_type == target_type, m.Assignment.target_id == target_id,
            or_(and_(m.Assignment.actor_type == "user", m.Assignment.actor_id == user_id),
                and_(m.Assignment.actor_type == "group", m.Assignment.actor_id.in_(groups))))
        return set((await s.execute(q)).scalars())

    # -- tokens ---------------------------------------------------------------

    async def validate(self, token: str) -> TokenInfo:
        """The token's info, from the cache or built afresh; NotFound if invalid."""
        info = self.cache.get(token)
        if info is not None:
            return info
        payload = self.codec.decode(token)
        if payload is None:
            raise token_not_found(token)
        generation = self.cache.generation
        async with self.db.read() as s:
            info = await self.build_info(s, token, payload)
        self.cache.put(info, generation)
        return info

    async def issue(self, s: AsyncSession, payload: Payload) -> TokenInfo:
        token = self.codec.encode(payload)
        return await self.build_info(s, token, payload, fresh=True)

    async def build_info(self, s: AsyncSession, token: str, p: Payload,
                         fresh: bool = False) -> TokenInfo:
        from pocketstack.identity.scope import resolve_token

        if p.expires_at <= time.time():
            raise token_not_found(token)
        if fresh:
            return await resolve_token(self, s, token, p)
        if await self._revoked(s, p):
            raise token_not_found(token)
        try:
            return await resolve_token(self, s, token, p)
        except exc.Unauthorized:
            raise token_not_found(token) from None

    async def _revoked(self, s: AsyncSession, p: Payload) -> bool:
        q = select(m.Revocation.id).where(or_(
            m.Revocation.audit_id.in_(p.audit_ids),
            and_(m.Revocation.user_id == p.user_id, m.Revocation.issued_before >= p.issued_at),
        )).limit(1)
        return (await s.execute(q)).first() is not None

    async def revoke(self, s: AsyncSession, *, audit_id: str | None = None,
                     user_id: str | None = None) -> None:
        now = time.time()
        # An event older than a token's lifetime can match no token still valid.
        await s.execute(delete(m.Revocation).where(
            m.Revocation.revoked_at < now - self.cfg.identity.token_expiration))
        s.add(m.Revocation(audit_id=audit_id, user_id=user_id, issued_before=now, revoked_at=now))


def _closure(role: str, direct: dict[str, set[str]]) -> set[str]:
    seen, todo = {role}, [role]
    while todo:
        for nxt in direct.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
