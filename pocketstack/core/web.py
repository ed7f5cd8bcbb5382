"""The ASGI app factory every service uses.

`create_app` gives a FastAPI app that renders every error in the service's
own OpenStack format (an `ErrorFormat`), sets `x-openstack-request-id` on
every response, refuses bodies over the service's limit with 413, and never
answers a bare 500 traceback. Handlers raise `core.exceptions` errors.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext, new_request_id

log = logging.getLogger(__name__)

# An error format turns an error and the request id into the response body.
ErrorFormat = Callable[[exc.PocketstackError, str], dict[str, Any]]


def keystone_errors(err: exc.PocketstackError, request_id: str) -> dict[str, Any]:
    return {"error": {"code": err.status, "title": err.title, "message": err.message}}


def nova_errors(err: exc.PocketstackError, request_id: str) -> dict[str, Any]:
    """Nova's and Cinder's shape: {"itemNotFound": {"code": 404, "message": ...}}."""
    return {err.nova_kind: {"code": err.status, "message": err.message}}


def neutron_errors(err: exc.PocketstackError, request_id: str) -> dict[str, Any]:
    kind = err.neutron_type or type(err).__name__
    return {"NeutronError": {"type": kind, "message": err.message, "detail": ""}}


def placement_errors(err: exc.PocketstackError, request_id: str) -> dict[str, Any]:
    code = err.extra.get("code", "placement.undefined_code")
    return {
        "errors": [
            {
                "status": err.status,
                "title": err.title,
                "detail": err.message,
                "code": code,
                "request_id": request_id,
            }
        ]
    }


def glance_errors(err: exc.PocketstackError, request_id: str) -> dict[str, Any]:
    """Glance answers with webob's JSON error body: the code is the status line."""
    return {"code": f"{err.status} {err.title}", "title": err.title, "message": err.message}


def context(request: Request) -> RequestContext:
    """FastAPI dependency: the RequestContext the auth middleware built."""
    ctx = request.scope.get("state", {}).get("context")
    if ctx is None:
        raise exc.Unauthorized("The request you have made requires authentication.")
    return ctx


def request_id(scope: Scope) -> str:
    return scope.setdefault("state", {}).setdefault("request_id", new_request_id())


class RequestIdMiddleware:
    """Gives each request an id and returns it as `x-openstack-request-id`."""

    def __init__(self, app: ASGIApp, extra_header: str | None = None):
        self.app = app
        self.headers = [b"x-openstack-request-id"]
        if extra_header:
            self.headers.append(extra_header.lower().encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = request_id(scope).encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(h, rid) for h in self.headers if h not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodyLimitMiddleware:
    """Answers 413 to a body over `limit` bytes, by Content-Length or as it streams."""

    def __init__(self, app: ASGIApp, limit: int, error_format: ErrorFormat):
        self.app, self.limit, self.error_format = app, limit, error_format

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._refuse(scope, receive, send)
        seen, too_big, started = 0, False, False

        async def limited_receive() -> Message:
            nonlocal seen, too_big
            if too_big:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                too_big = True  # the app sees a disconnect; the client gets a 413
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_big and not started:
                return
            started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)
        if too_big and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        err = exc.PayloadTooLarge("Request is too large.")
        response = error_response(err, request_id(scope), self.error_format)
        await response(scope, receive, send)


def error_response(
    err: exc.PocketstackError, rid: str, error_format: ErrorFormat
) -> JSONResponse:
    headers = {"x-openstack-request-id": rid}
    if err.status == 401:
        headers["WWW-Authenticate"] = 'Keystone uri="/identity"'
    headers.update(err.extra.get("headers", {}))
    return JSONResponse(error_format(err, rid), status_code=err.status, headers=headers)


def describe_validation(errors: list[dict[str, Any]]) -> str:
    """A readable one-line summary of pydantic's validation errors."""
    parts = []
    for e in errors[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body",))
        parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else e.get("msg", "invalid"))
    return "Invalid input for field/attribute " + "; ".join(parts)


def create_app(
    name: str,
    error_format: ErrorFormat,
    *,
    max_body: int | None = 1 << 20,
    request_id_header: str | None = None,
    lifespan: Any = None,
) -> FastAPI:
    app = FastAPI(
        title=f"pocketstack {name}",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )

    async def on_error(request: Request, err: Exception) -> Response:
        rid = request_id(request.scope)
        if isinstance(err, exc.PocketstackError):
            pass
        elif isinstance(err, RequestValidationError):
            err = exc.BadRequest(describe_validation(err.errors()))
        elif isinstance(err, json.JSONDecodeError):
            err = exc.BadRequest("Malformed JSON in request body.")
        elif isinstance(err, StarletteHTTPException):
            err = exc.for_status(err.status_code, _http_message(err))
        else:
            log.exception("%s: unexpected error on %s %s", name, request.method, request.url.path)
            err = exc.PocketstackError("An unexpected error prevented the server from "
                                       "fulfilling your request.")
        return error_response(err, rid, error_format)

    for kind in (exc.PocketstackError, RequestValidationError, StarletteHTTPException,
                 json.JSONDecodeError, Exception):
        app.add_exception_handler(kind, on_error)
    if max_body is not None:
        app.add_middleware(BodyLimitMiddleware, limit=max_body, error_format=error_format)
    app.add_middleware(RequestIdMiddleware, extra_header=request_id_header)
    return app


def _http_message(err: StarletteHTTPException) -> str:
    if err.status_code == 404:
        return "The resource could not be found."
    if err.status_code == 405:
        return "The method is not allowed for the requested URL."
    return str(err.detail)


def link(href: str, rel: str = "self") -> dict[str, str]:
    return {"href": href, "rel": rel}


def base_url(request: Request) -> str:
    """The URL the client used to reach this service's root (its mount prefix)."""
    root = request.scope.get("root_path", "")
    return f"{request.url.scheme}://{request.url.netloc}{root}"
