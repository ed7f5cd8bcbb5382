"""What every compute handler needs: the context, the microversion, the services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request

from pocketstack.compute.api.microversions import version
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.web import context

if TYPE_CHECKING:
    from pocketstack.compute.api.service import ComputeAPI

Ctx = Depends(context)
Mv = Depends(version)


def api(request: Request) -> ComputeAPI:
    return request.app.state.compute


def enforce(request: Request, ctx: RequestContext, action: str,
            target: dict[str, Any] | None = None) -> None:
    api(request).policy.enforce(ctx, action, target)


def self_url(request: Request, *parts: str) -> str:
    root = f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"
    return "/".join([root + "/v2.1", *parts])


def links(request: Request, collection: str, item_id: str) -> list[dict[str, str]]:
    root = f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"
    return [{"rel": "self", "href": f"{root}/v2.1/{collection}/{item_id}"},
            {"rel": "bookmark", "href": f"{root}/{collection}/{item_id}"}]


def body_of(body: Any, key: str) -> dict[str, Any]:
    """The resource wrapper's content ({"flavor": {...}}), or 400."""
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise exc.BadRequest(f"Invalid input for field/attribute {key}. "
                             f"Value: {body!r}. '{key}' is a required property")
    return body[key]


def parse_bool(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    low = value.strip().lower()
    if low in ("true", "1", "yes", "on", "t", "y"):
        return True
    if low in ("false", "0", "no", "off", "f", "n"):
        return False
    raise exc.BadRequest(f"Invalid value '{value}' for {name}: not a boolean.")


def parse_int(value: str | None, name: str, default: int = 0) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise exc.BadRequest(f"Invalid {name} filter [{value}]") from None
