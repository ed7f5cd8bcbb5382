"""GET /v2/images query parameters -> a store.ListQuery, validated the way
Glance validates them (any parameter not known is a custom property filter)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pocketstack.core import exceptions as exc
from pocketstack.image import schemas
from pocketstack.image.store import SORT_KEYS, ListQuery

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
_IN_FILTERS = ("name", "status", "disk_format", "container_format", "id", "owner")
_TIME_OPS = ("gt", "gte", "lt", "lte", "eq", "neq")
_IGNORED = ("sort", "sort_key", "sort_dir", "limit", "marker")


def _bool(name: str, value: str) -> bool:
    if value.lower() in ("true", "1", "yes", "on"):
        return True
    if value.lower() in ("false", "0", "no", "off"):
        return False
    raise exc.BadRequest(f"{name} must be a boolean, not {value!r}.")


def _int(name: str, value: str, minimum: int = 0) -> int:
    try:
        number = int(value)
    except ValueError:
        raise exc.BadRequest(f"{name} must be an integer, not {value!r}.") from None
    if number < minimum:
        raise exc.BadRequest(f"{name} must be at least {minimum}.")
    return number


def _values(name: str, value: str) -> list[str]:
    if value.startswith("in:"):
        items = [v.strip().strip('"') for v in value[3:].split(",")]
        if not all(items):
            raise exc.BadRequest(f"Invalid 'in:' filter for {name}: {value!r}.")
        return items
    return [value]


def _time(name: str, value: str) -> tuple[str, str, datetime]:
    op, sep, when = value.partition(":")
    if not sep or op not in _TIME_OPS:
        op, when = "eq", value
    try:
        parsed = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        raise exc.BadRequest(f"Invalid time value for {name}: {value!r}.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return name, op, parsed


def parse_sort(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    sort = [v for k, v in params if k == "sort"]
    keys = [v for k, v in params if k == "sort_key"]
    dirs = [v for k, v in params if k == "sort_dir"]
    if sort and (keys or dirs):
        raise exc.BadRequest("The 'sort' parameter cannot be combined with sort_key/sort_dir.")
    pairs: list[tuple[str, str]] = []
    if sort:
        for item in ",".join(sort).split(","):
            key, _, direction = item.strip().partition(":")
            pairs.append((key, direction or "desc"))
    else:
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise exc.BadRequest("Give one sort_dir, or one per sort_key.")
        for i, key in enumerate(keys):
            pairs.append((key, dirs[i] if len(dirs) > 1 else (dirs[0] if dirs else "desc")))
        if not keys and dirs:
            pairs.append(("created_at", dirs[0]))
    for key, direction in pairs:
        if key not in SORT_KEYS:
            raise exc.BadRequest(f"Invalid sort key: {key}. It must be one of: "
                                 f"{', '.join(SORT_KEYS)}.")
        if direction not in ("asc", "desc"):
            raise exc.BadRequest(f"Invalid sort direction: {direction}.")
    return pairs or [("created_at", "desc")]


def parse_list_query(items: Iterable[tuple[str, str]]) -> ListQuery:
    params = list(items)
    q = ListQuery(sort=parse_sort(params), limit=DEFAULT_LIMIT)
    for key, value in params:
        if key in _IGNORED:
            continue
        if key == "visibility":
            if value not in (*schemas.VISIBILITIES, "all"):
                raise exc.BadRequest(f"Invalid visibility value: {value}")
            q.visibility = value
        elif key == "member_status":
            if value not in (*schemas.MEMBER_STATUSES, "all"):
                raise exc.BadRequest(f"Invalid status value: {value}")
            q.member_status = value
        elif key == "os_hidden":
            q.os_hidden = _bool(key, value)
        elif key == "protected":
            q.protected = _bool(key, value)
        elif key in ("size_min", "size_max"):
            setattr(q, key, _int(key, value))
        elif key == "tag":
            q.tags.append(value)
        elif key in ("created_at", "updated_at"):
            q.times.append(_time(key, value))
        elif key in _IN_FILTERS:
            q.exact[key] = _values(key, value)
        else:
            q.properties[key] = value
    limits = [v for k, v in params if k == "limit"]
    if limits:
        q.limit = min(_int("limit", limits[-1]), MAX_LIMIT)
    markers = [v for k, v in params if k == "marker"]
    q.marker = markers[-1] if markers else None
    return q
