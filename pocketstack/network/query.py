"""Neutron's collection queries, for every resource alike: filters on any
attribute (repeat a parameter for "any of"), tag filters, `fields=`,
`sort_key`/`sort_dir`, `limit`/`marker`/`page_reverse` and `*_links`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Boolean, Integer, Select, and_, exists, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams

from pocketstack.core import paging
from pocketstack.network import errors
from pocketstack.network.models import Tag

# Query parameters that are never attribute filters.
RESERVED = {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse",
            "tags", "tags-any", "not-tags", "not-tags-any", "verbose"}

Filter = Callable[[list[str]], Any]  # values -> SQL clause


@dataclass
class Listing:
    """What one collection knows about its attributes."""

    model: Any
    # API attribute -> column name, where they differ (tenant_id -> project_id ...).
    renames: Mapping[str, str] = field(default_factory=dict)
    # API attribute -> a filter building its own clause (fixed_ips=ip_address=...).
    custom: Mapping[str, Filter] = field(default_factory=dict)

    def column(self, attr: str) -> Any | None:
        name = self.renames.get(attr, attr)
        return self.model.__table__.columns.get(name)


def parse_bool(value: str, attr: str) -> bool:
    v = value.lower()
    if v in ("true", "1", "yes", "on"):
        return True
    if v in ("false", "0", "no", "off"):
        return False
    raise errors.invalid_input(f"'{value}' is not a valid boolean value for {attr}")


def _convert(col: Any, value: str, attr: str) -> Any:
    if isinstance(col.type, Boolean):
        return parse_bool(value, attr)
    if isinstance(col.type, Integer):
        try:
            return int(value)
        except ValueError:
            raise errors.invalid_input(f"'{value}' is not an integer for {attr}") from None
    return value


def filters(listing: Listing, params: QueryParams) -> list[Any]:
    """The WHERE clauses for the attribute and tag filters in the query string."""
    clauses = []
    for attr in dict.fromkeys(params.keys()):
        if attr in RESERVED:
            continue
        values = params.getlist(attr)
        if attr in listing.custom:
            clauses.append(listing.custom[attr](values))
            continue
        col = listing.column(attr)
        if col is None:
            continue  # Neutron without filter-validation ignores unknown filters
        clauses.append(col.in_([_convert(col, v, attr) for v in values]))
    return clauses + tag_filters(listing.model, params)


def _tags(params: QueryParams, name: str) -> list[str]:
    return [t for v in params.getlist(name) for t in v.split(",") if t]


def tag_filters(model: Any, params: QueryParams) -> list[Any]:
    def has(tag: str) -> Any:
        return exists().where(Tag.resource_id == model.id, Tag.tag == tag)

    clauses = []
    if all_of := _tags(params, "tags"):
        clauses.append(and_(*[has(t) for t in all_of]))
    if any_of := _tags(params, "tags-any"):
        clauses.append(exists().where(Tag.resource_id == model.id, Tag.tag.in_(any_of)))
    if none_of := _tags(params, "not-tags"):
        clauses.append(not_(and_(*[has(t) for t in none_of])))
    if not_any := _tags(params, "not-tags-any"):
        clauses.append(not_(exists().where(Tag.resource_id == model.id, Tag.tag.in_(not_any))))
    return clauses


def sort_order(listing: Listing, params: QueryParams) -> list[tuple[str, str]]:
    keys, dirs = params.getlist("sort_key"), params.getlist("sort_dir")
    if dirs and len(dirs) != len(keys):
        raise errors.bad_request("The number of sort_keys and sort_dirs must be same")
    order = []
    for i, attr in enumerate(keys):
        col = listing.column(attr)
        if col is None:
            raise errors.bad_request(f"{attr} is invalid attribute for sort_key")
        direction = dirs[i].lower() if dirs else "asc"
        if direction not in ("asc", "desc"):
            raise errors.bad_request(f"{dirs[i]} is invalid value for sort_dir")
        order.append((col.key, direction))
    return order or [("created_at", "asc")]


async def fetch(
    session: AsyncSession, listing: Listing, query: Select, params: QueryParams
) -> tuple[list[Any], int | None, bool]:
    """The rows of one page, the limit asked and whether the page is reversed."""
    for clause in filters(listing, params):
        query = query.where(clause)
    limit = paging.parse_limit(params.get("limit"))
    reverse = parse_bool(params.get("page_reverse", "false"), "page_reverse")
    order = sort_order(listing, params)
    if reverse:
        order = [(k, "desc" if d == "asc" else "asc") for k, d in order]
    rows = await paging.page(session, query, listing.model, limit=limit or None,
                             marker=params.get("marker"), sort=order)
    if reverse:
        rows.reverse()
    return rows, limit, reverse


async def count(session: AsyncSession, query: Select) -> int:
    return await session.scalar(select(func.count()).select_from(query.subquery())) or 0


def only_fields(item: dict[str, Any], params: QueryParams) -> dict[str, Any]:
    wanted = [f for v in params.getlist("fields") for f in v.split(",") if f]
    if not wanted:
        return item
    return {k: v for k, v in item.items() if k in wanted}


def links(url: str, collection: str, params: QueryParams, items: list[dict], limit: int | None,
          reverse: bool) -> dict[str, list[dict[str, str]]]:
    """Neutron's `<collection>_links`: a full page links onward, a paged one back."""
    if not limit or not items:
        return {}
    base = [(k, v) for k, v in params.multi_items() if k not in ("marker", "page_reverse")]
    full = len(items) >= limit
    forward = base + [("marker", items[-1]["id"])]
    backward = base + [("marker", items[0]["id"]), ("page_reverse", "True")]
    out = []
    if (full and not reverse) or reverse:
        out.append({"rel": "next", "href": f"{url}?{urlencode(forward)}"})
    if (params.get("marker") and not reverse) or (reverse and full):
        out.append({"rel": "previous", "href": f"{url}?{urlencode(backward)}"})
    return {f"{collection}_links": out} if out else {}
