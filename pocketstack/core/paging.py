"""Paging as the OpenStack APIs do it: `limit` and `marker` (the id of the last
item seen), stable sort keys, and a `next` link to the following page.

Keyset paging in SQL: the marker row's sort values bound the next page, so
a page costs the same wherever it starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pocketstack.core import exceptions as exc

MAX_LIMIT = 1000


def parse_limit(value: str | int | None, maximum: int = MAX_LIMIT) -> int | None:
    if value is None or value == "":
        return None
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise exc.BadRequest(f"limit must be an integer, not {value!r}.") from None
    if limit < 0:
        raise exc.BadRequest("limit must be zero or a positive integer.")
    return min(limit, maximum)


async def page(
    session: AsyncSession,
    query: Select,
    model: Any,
    *,
    limit: int | None,
    marker: str | None,
    sort: Sequence[tuple[str, str]] = (("created_at", "desc"),),
) -> list[Any]:
    """One page of `query`'s rows of `model`, sorted by `sort` then by id."""
    keys = [(getattr(model, k), d) for k, d in sort if k != "id"] + [(model.id, sort[-1][1])]
    if marker is not None:
        anchor = (await session.execute(select(model).where(model.id == marker))).scalar()
        if anchor is None:
            raise exc.NotFound(f"Marker {marker} could not be found.")
        query = query.where(_after(anchor, keys))
    query = query.order_by(*[(col.desc() if d == "desc" else col.asc()) for col, d in keys])
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).scalars())


def _after(anchor: Any, keys: list[tuple[Any, str]]):  # noqa: ANN202
    """Rows strictly after `anchor` in the order given by `keys`."""
    clauses = []
    for i, (col, direction) in enumerate(keys):
        value = getattr(anchor, col.key)
        beyond = col < value if direction == "desc" else col > value
        equal_before = [c == getattr(anchor, c.key) for c, _ in keys[:i]]
        clauses.append(and_(*equal_before, beyond))
    return or_(*clauses)


def next_link(request: Request, items: Sequence[Any], limit: int | None,
              id_of=lambda item: item["id"]) -> str | None:  # noqa: ANN001
    """The URL of the next page, when this page is full."""
    if not limit or len(items) < limit:
        return None
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
    params.append(("marker", id_of(items[-1])))
    return f"{request.url.replace(query=urlencode(params))}"
