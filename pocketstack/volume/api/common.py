"""What every handler of the volume API shares: the caller's context and
microversion, policy, body unwrapping, sorting and filters."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.microversion import Version
from pocketstack.core.web import base_url, context, describe_validation

M = TypeVar("M", bound=BaseModel)

MIN_VERSION, MAX_VERSION = "3.0", "3.44"


def ctx(request: Request) -> RequestContext:
    return context(request)


def version(request: Request) -> Version:
    return request.scope.get("state", {}).get("microversion") or Version.parse(MIN_VERSION)


def base(request: Request) -> str:
    return base_url(request)


def service(request: Request):  # noqa: ANN201 - the VolumeService of this app
    return request.app.state.service


def enforce(request: Request, action: str, target: dict[str, Any] | None = None) -> None:
    request.app.state.policy.enforce(context(request), action, target)


async def body(request: Request) -> dict[str, Any]:
    data = await request.json()
    if not isinstance(data, dict):
        raise exc.BadRequest("The request body must be a JSON object.")
    return data


def unwrap(data: dict[str, Any], key: str, model: type[M]) -> M:
    inner = data.get(key)
    if key not in data:
        raise exc.BadRequest(f"Missing required element '{key}' in request body.")
    return parse(inner, model)


def parse(inner: Any, model: type[M]) -> M:
    if not isinstance(inner, dict):
        raise exc.BadRequest("Invalid input received: the body element must be an object.")
    try:
        return model.model_validate(inner)
    except PydanticValidationError as err:
        raise exc.BadRequest(describe_validation(err.errors())) from None


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on", "y", "t")


def sort_keys(request: Request, allowed: set[str]) -> list[tuple[str, str]]:
    """`sort=name:asc,size` or `sort_key`/`sort_dir`; default created_at desc."""
    params = request.query_params
    pairs: list[tuple[str, str]] = []
    if params.get("sort"):
        for item in params["sort"].split(","):
            key, _, direction = item.strip().partition(":")
            pairs.append((key, direction or "desc"))
    elif params.get("sort_key"):
        pairs.append((params["sort_key"], params.get("sort_dir", "desc")))
    for key, direction in pairs:
        if key not in allowed:
            raise exc.BadRequest(f"Invalid input received: Invalid sort key {key!r}.")
        if direction not in ("asc", "desc"):
            raise exc.BadRequest(f"Invalid input received: Invalid sort direction "
                                 f"{direction!r}.")
    return pairs or [("created_at", "desc")]


def all_projects(request: Request) -> bool:
    q = request.query_params
    return truthy(q.get("all_tenants")) or truthy(q.get("all_projects"))
