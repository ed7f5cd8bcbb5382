"""Queries on the image tables: who sees which images, list filters, keyset
paging, and the sums the quotas need. Private to the image service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.image.models import Image, ImageMember, ImageProperty, ImageTag

# Sort keys a client may use, as expressions without NULLs (keyset paging
# compares them) and the Python value for the same thing.
_SORTABLE: dict[str, tuple[Any, Any]] = {
    "name": (func.coalesce(Image.name, ""), lambda i: i.name or ""),
    "status": (Image.status, lambda i: i.status),
    "container_format": (func.coalesce(Image.container_format, ""),
                         lambda i: i.container_format or ""),
    "disk_format": (func.coalesce(Image.disk_format, ""), lambda i: i.disk_format or ""),
    "size": (func.coalesce(Image.size, -1), lambda i: -1 if i.size is None else i.size),
    "virtual_size": (func.coalesce(Image.virtual_size, -1),
                     lambda i: -1 if i.virtual_size is None else i.virtual_size),
    "id": (Image.id, lambda i: i.id),
    "created_at": (Image.created_at, lambda i: i.created_at),
    "updated_at": (Image.updated_at, lambda i: i.updated_at),
    "visibility": (Image.visibility, lambda i: i.visibility),
    "owner": (func.coalesce(Image.owner, ""), lambda i: i.owner or ""),
    "min_disk": (Image.min_disk, lambda i: i.min_disk),
    "min_ram": (Image.min_ram, lambda i: i.min_ram),
}
SORT_KEYS = tuple(_SORTABLE)


@dataclass
class ListQuery:
    """A parsed GET /v2/images request."""

    visibility: str | None = None
    member_status: str = "accepted"
    os_hidden: bool = False
    exact: dict[str, list[str]] = field(default_factory=dict)  # column -> allowed values
    properties: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    size_min: int | None = None
    size_max: int | None = None
    protected: bool | None = None
    times: list[tuple[str, str, datetime]] = field(default_factory=list)  # (column, op, when)
    sort: list[tuple[str, str]] = field(default_factory=lambda: [("created_at", "desc")])
    limit: int | None = None
    marker: str | None = None


def _member_of(project: str | None, statuses: Sequence[str] | None) -> ColumnElement[bool]:
    if project is None:
        return false()
    q = select(ImageMember.image_id).where(ImageMember.member == project)
    if statuses is not None:
        q = q.where(ImageMember.status.in_(statuses))
    return Image.id.in_(q)


def can_see(ctx: RequestContext) -> ColumnElement[bool]:
    """Images `ctx` may read: its own, public, community, and those shared with it."""
    if ctx.is_admin:
        return true()
    own = Image.owner == ctx.project_id if ctx.project_id else false()
    return or_(own, Image.visibility.in_(("public", "community")),
               and_(Image.visibility == "shared", _member_of(ctx.project_id, None)))


def _listed(ctx: RequestContext, q: ListQuery) -> ColumnElement[bool]:
    """Which images a list shows, by the visibility filter (Glance's rules)."""
    statuses = None if q.member_status == "all" else [q.member_status]
    own = Image.owner == ctx.project_id if ctx.project_id else false()
    shared_with_me = and_(Image.visibility == "shared", _member_of(ctx.project_id, statuses))
    if ctx.is_admin and q.visibility is None:
        return true()
    if q.visibility in ("public", "community"):
        return Image.visibility == q.visibility
    if q.visibility == "private":
        return and_(Image.visibility == "private", true() if ctx.is_admin else own)
    if q.visibility == "shared":
        if ctx.is_admin:
            return Image.visibility == "shared"
        return or_(and_(Image.visibility == "shared", own), shared_with_me)
    everything = or_(own, Image.visibility == "public", shared_with_me)
    if q.visibility == "all":
        return true() if ctx.is_admin else or_(everything, Image.visibility == "community")
    return everything


def _filters(q: ListQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Image.os_hidden == q.os_hidden]
    for column, values in q.exact.items():
        where.append(getattr(Image, column).in_(values))
    for name, value in q.properties.items():
        where.append(Image.id.in_(select(ImageProperty.image_id).where(
            ImageProperty.name == name, ImageProperty.value == value)))
    for tag in q.tags:
        where.append(Image.id.in_(select(ImageTag.image_id).where(ImageTag.value == tag)))
    if q.size_min is not None:
        where.append(Image.size >= q.size_min)
    if q.size_max is not None:
        where.append(Image.size <= q.size_max)
    if q.protected is not None:
        where.append(Image.protected == q.protected)
    for column, op, when in q.times:
        col = getattr(Image, column)
        where.append({"gt": col > when, "gte": col >= when, "lt": col < when, "lte": col <= when,
                      "eq": col == when, "neq": col != when}[op])
    return where


async def list_images(session: AsyncSession, ctx: RequestContext, q: ListQuery) -> list[Image]:
    query: Select = select(Image).where(_listed(ctx, q), *_filters(q))
    keys = [(k, d) for k, d in q.sort if k != "id"] + [("id", q.sort[-1][1])]
    if q.marker is not None:
        anchor = await session.get(Image, q.marker)
        if anchor is None or not await visible(session, ctx, anchor):
            raise exc.BadRequest(f"marker {q.marker} could not be found.")
        query = query.where(_after(anchor, keys))
    order = [(_SORTABLE[k][0].desc() if d == "desc" else _SORTABLE[k][0].asc()) for k, d in keys]
    query = query.order_by(*order)
    if q.limit is not None:
        query = query.limit(q.limit)
    return list((await session.execute(query)).scalars())


def _after(anchor: Image, keys: list[tuple[str, str]]) -> ColumnElement[bool]:
    clauses = []
    for i, (key, direction) in enumerate(keys):
        expr, value_of = _SORTABLE[key]
        value = value_of(anchor)
        beyond = expr < value if direction == "desc" else expr > value
        before = [_SORTABLE[k][0] == _SORTABLE[k][1](anchor) for k, _ in keys[:i]]
        clauses.append(and_(*before, beyond))
    return or_(*clauses)


async def visible(session: AsyncSession, ctx: RequestContext, image: Image) -> bool:
    if ctx.is_admin or image.visibility in ("public", "community"):
        return True
    if ctx.project_id is not None and image.owner == ctx.project_id:
        return True
    if image.visibility == "shared":
        return await get_member(session, image.id, ctx.project_id) is not None
    return False


async def get_member(session: AsyncSession, image_id: str,
                     member: str | None) -> ImageMember | None:
    if member is None:
        return None
    return await session.get(ImageMember, (image_id, member))


async def members(session: AsyncSession, image_id: str) -> list[ImageMember]:
    q = select(ImageMember).where(ImageMember.image_id == image_id).order_by(
        ImageMember.created_at)
    return list((await session.execute(q)).scalars())


async def count_members(session: AsyncSession, image_id: str) -> int:
    q = select(func.count()).select_from(ImageMember).where(ImageMember.image_id == image_id)
    return int(await session.scalar(q) or 0)


async def usage(session: AsyncSession, owner: str | None) -> tuple[int, int, int]:
    """(images, bytes stored, bytes staged) for the project `owner`."""
    q = select(func.count(), func.coalesce(func.sum(Image.size), 0),
               func.coalesce(func.sum(Image.staged_size), 0)).where(Image.owner == owner)
    count, stored, staged = (await session.execute(q)).one()
    return int(count), int(stored), int(staged)


async def stuck(session: AsyncSession) -> list[Image]:
    """Images an interrupted process left mid-transfer."""
    q = select(Image).where(Image.status.in_(("saving", "uploading", "importing")))
    return list((await session.execute(q)).scalars())
