"""What every Neutron resource shares: visibility, list/show with Neutron's
query options, ownership checks, tags and quota checks. Each resource
(networks.py, ports.py, ...) is a `Resource` adding its own create, update
and delete."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams

from pocketstack.core.context import RequestContext
from pocketstack.network import errors, query
from pocketstack.network.models import Quota, Tag, utcnow

if TYPE_CHECKING:
    from pocketstack.network.service import NetworkService


def new_id() -> str:
    return str(uuid.uuid4())


class Resource:
    resource: str  # "network": the policy, quota and error name
    collection: str  # "security-groups": the URL
    model: Any
    listing: query.Listing

    def __init__(self, svc: NetworkService):
        self.svc = svc
        self.db = svc.db

    @property
    def plural(self) -> str:
        """The list body's key: "security_groups"."""
        return self.collection.replace("-", "_")

    # -- what the caller may see ------------------------------------------------

    def visible(self, ctx: RequestContext) -> Any | None:
        """A WHERE clause limiting rows to the caller's, or None for all."""
        return None if ctx.is_admin else self.model.project_id == ctx.project_id

    def view(self, row: Any, tags: list[str], ctx: RequestContext) -> dict[str, Any]:
        raise NotImplementedError

    async def views(self, session: AsyncSession, ctx: RequestContext,
                    rows: Sequence[Any]) -> list[dict[str, Any]]:
        tags = await tags_of(session, [r.id for r in rows])
        return [self.view(r, tags[r.id], ctx) for r in rows]

    def base_query(self, ctx: RequestContext):  # noqa: ANN201
        q = select(self.model)
        clause = self.visible(ctx)
        return q if clause is None else q.where(clause)

    async def list(self, ctx: RequestContext, params: QueryParams,
                   url: str) -> dict[str, Any]:
        self.svc.authorize(ctx, "read", {})
        async with self.db.read() as s:
            rows, limit, reverse = await query.fetch(s, self.listing, self.base_query(ctx),
                                                     params)
            items = await self.views(s, ctx, rows)
        out = {self.plural: [query.only_fields(i, params) for i in items]}
        return out | query.links(url, self.plural, params, items, limit, reverse)

    async def show(self, ctx: RequestContext, id_: str, params: QueryParams) -> dict:
        self.svc.authorize(ctx, "read", {})
        async with self.db.read() as s:
            row = await self.get(s, ctx, id_)
            item = (await self.views(s, ctx, [row]))[0]
        return {self.resource: query.only_fields(item, params)}

    async def get(self, session: AsyncSession, ctx: RequestContext, id_: str,
                  for_update: bool = False) -> Any:
        """The row if the caller may see it, else the resource's NotFound."""
        q = self.base_query(ctx).where(self.model.id == id_)
        row = (await session.execute(q)).scalar()
        if row is None:
            raise errors.not_found(self.resource, id_)
        return row

    async def owned(self, session: AsyncSession, ctx: RequestContext, id_: str,
                    action: str) -> Any:
        """The row if the caller may change it: 404 when unseen, 403 when only seen."""
        row = await self.get(session, ctx, id_)
        self.svc.authorize(ctx, f"{action}_{self.resource}", {"project_id": row.project_id})
        return row

    async def one_view(self, session: AsyncSession, ctx: RequestContext, row: Any) -> dict:
        await session.flush()
        await session.refresh(row)
        return {self.resource: (await self.views(session, ctx, [row]))[0]}

    # -- shared steps of create / update ----------------------------------------

    def owner_of(self, ctx: RequestContext, body: Any) -> str:
        project = body.owner(ctx.project_id) or ""
        if body.project_id and body.tenant_id and body.project_id != body.tenant_id:
            raise errors.bad_request("'project_id' and 'tenant_id' do not match")
        self.svc.authorize(ctx, f"create_{self.resource}", {"project_id": project})
        return project

    def check_attrs(self, ctx: RequestContext, action: str, given: dict, names: dict,
                    target: dict) -> None:
        """Admin-only (or otherwise guarded) attributes: names maps field -> rule suffix."""
        for field, suffix in names.items():
            if field in given and given[field] is not None:
                self.svc.authorize(ctx, f"{action}_{self.resource}:{suffix}", target)

    async def check_quota(self, session: AsyncSession, project_id: str, adding: int = 1,
                          resource: str | None = None) -> None:
        await self.svc.quotas.check(session, project_id, resource or self.resource, adding,
                                    self.model)

    @staticmethod
    def touch(row: Any) -> None:
        row.updated_at = utcnow()
        row.revision_number = (row.revision_number or 0) + 1


async def tags_of(session: AsyncSession, ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    if ids:
        for rid, tag in await session.execute(
                select(Tag.resource_id, Tag.tag).where(Tag.resource_id.in_(list(ids)))):
            found[rid].append(tag)
    return found


async def set_tags(session: AsyncSession, resource_id: str, tags: Sequence[str]) -> None:
    await session.execute(delete(Tag).where(Tag.resource_id == resource_id))
    if tags:
        await session.execute(insert(Tag), [{"resource_id": resource_id, "tag": t}
                                            for t in dict.fromkeys(tags)])


async def quota_limit(session: AsyncSession, defaults: dict[str, int], project_id: str,
                      resource: str) -> int:
    limit = await session.scalar(select(Quota.limit).where(
        Quota.project_id == project_id, Quota.resource == resource))
    return defaults.get(resource, -1) if limit is None else limit


async def count_owned(session: AsyncSession, model: Any, project_id: str,
                      up_to: int | None = None) -> int:
    """How many rows the project owns (counting no further than `up_to`)."""
    rows = select(model.id).where(model.project_id == project_id)
    if up_to is not None:
        rows = rows.limit(up_to)
    return await session.scalar(select(func.count()).select_from(rows.subquery())) or 0


def any_of(*clauses: Any) -> Any:
    return or_(*clauses)
