"""What every Placement handler does: check policy, know the microversion,
read a validated JSON body and query string, and answer JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

import pydantic
from starlette.requests import Request
from starlette.responses import Response

from pocketstack.core import exceptions as exc
from pocketstack.core.microversion import Version
from pocketstack.core.web import context
from pocketstack.placement import errors
from pocketstack.placement.microversion import version_of

if TYPE_CHECKING:
    from pocketstack.placement.service import Placement

M = TypeVar("M", bound=pydantic.BaseModel)


def service(req: Request) -> Placement:
    return req.app.state.placement


def authorize(req: Request, action: str) -> Placement:
    """Enforce `action` for the caller; returns the service for the handler."""
    svc = service(req)
    svc.enforcer.enforce(context(req), action, {})
    return svc


def version(req: Request) -> Version:
    return version_of(req.scope)


def want(req: Request, minimum: str) -> bool:
    """True when the request's microversion is at least `minimum`."""
    major, _, minor = minimum.partition(".")
    return version(req) >= Version(int(major), int(minor))


def require(req: Request, minimum: str, status: int = 404) -> None:
    """A route that does not exist below `minimum` answers 404 (or, for a method
    added later to an existing URL, 405), as in Placement."""
    if not want(req, minimum):
        if status == 405:
            raise exc.MethodNotAllowed("The method specified is not allowed for this "
                                       "resource.")
        raise exc.NotFound("The resource could not be found.")


async def body(req: Request, model: type[M]) -> M:
    """The request's JSON body validated against `model` (400 otherwise)."""
    data = await json_body(req)
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as err:
        raise exc.BadRequest(f"JSON does not validate: {describe(err)}") from None


async def json_body(req: Request) -> Any:
    ctype = req.headers.get("content-type", "")
    if not ctype.startswith("application/json"):
        raise exc.UnsupportedMediaType(
            f"The media type {ctype or 'None'} is not supported, use application/json")
    raw = await req.body()
    try:
        return json.loads(raw)
    except ValueError:
        raise exc.BadRequest("Malformed JSON") from None


def describe(err: pydantic.ValidationError) -> str:
    parts = []
    for e in err.errors()[:3]:
        where = ".".join(str(p) for p in e["loc"])
        parts.append(f"{where}: {e['msg']}" if where else e["msg"])
    return "; ".join(parts)


def query(req: Request, name: str, repeatable: bool = False) -> str | list[str] | None:
    """One query parameter; a repeated one is 400 unless `repeatable` (then a list)."""
    values = req.query_params.getlist(name)
    if repeatable:
        return values
    if len(values) > 1:
        raise exc.BadRequest(f"Query parameter {name!r} may be given only once.",
                             code=errors.ILLEGAL_DUPLICATE_QUERYPARAM)
    return values[0] if values else None


def respond(data: Any = None, status: int = 200, headers: dict[str, str] | None = None,
            ) -> Response:
    if data is None:
        return Response(status_code=status, headers=headers)
    content = json.dumps(data, separators=(",", ":"))
    hdrs = {"cache-control": "no-cache"}
    hdrs.update(headers or {})
    return Response(content, status_code=status, media_type="application/json", headers=hdrs)


def base(req: Request) -> str:
    """Link prefix: the service's mount point as the client reached it."""
    return req.scope.get("root_path", "")


def location(req: Request, path: str) -> dict[str, str]:
    """A Location header: absolute, as WebOb makes Placement's (clients follow it)."""
    return {"location": f"{req.url.scheme}://{req.url.netloc}{base(req)}{path}"}


def require_field(req: Request, minimum: str, field: str) -> None:
    """A body field that appeared in `minimum` is invalid before it."""
    if not want(req, minimum):
        raise exc.BadRequest(f"JSON does not validate: Additional properties are not "
                             f"allowed ('{field}' was unexpected)")
