"""What every identity handler uses: the service, the caller, policy, links
and Keystone's collection shape."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute

from pocketstack.core.context import RequestContext
from pocketstack.core.web import base_url
from pocketstack.identity.service import Identity
from pocketstack.identity.tokens import TokenInfo


class PlainRoute(APIRoute):
    """A route whose handler's dict is sent as it is: no response model is
    inferred from the return annotation (cheaper to build and to serve)."""

    def __init__(self, path: str, endpoint: Any, **kw: Any):
        kw["response_model"] = None
        super().__init__(path, endpoint, **kw)


def new_router() -> APIRouter:
    return APIRouter(route_class=PlainRoute)


def ident(request: Request) -> Identity:
    return request.app.state.identity


def caller(request: Request) -> RequestContext:
    return request.scope["state"]["context"]


def caller_token(request: Request) -> TokenInfo:
    return request.scope["state"]["token"]


def enforce(request: Request, action: str, **target: Any) -> RequestContext:
    ctx = caller(request)
    request.app.state.enforcer.enforce(ctx, action, target)
    return ctx


def url(request: Request, path: str) -> str:
    return base_url(request) + path


def collection(request: Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    self_url = str(request.url)
    return {key: items, "links": {"self": self_url, "previous": None, "next": None}}


def flag(value: str | None) -> bool | None:
    """A boolean query filter (?enabled=true); None when absent."""
    if value is None:
        return None
    return value.lower() not in ("0", "false", "no", "off", "")


def base(request: Request) -> str:
    """The identity API root as the client reached it (for links)."""
    return base_url(request)


def where(request: Request, model: Any, *names: str) -> list[Any]:
    """SQL conditions for the query filters `names` present in the request
    (?name=x&enabled=true); booleans parsed as Keystone does."""
    clauses = []
    for name in names:
        value = request.query_params.get(name)
        if value is None:
            continue
        column = getattr(model, name)
        if column.type.python_type is bool:
            clauses.append(column.is_(bool(flag(value))))
        else:
            clauses.append(column == value)
    return clauses
