"""The compute API's ASGI app: Nova's error bodies and request-id headers, the
microversion, token validation (steps 4-5) and the trace of each change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from pocketstack.compute.api import (
    aggregates,
    attachments,
    flavors,
    hosts,
    keypairs,
    quotas,
    server_actions,
    server_groups,
    servers,
    versions,
)
from pocketstack.compute.api.microversions import COMPUTE
from pocketstack.core.auth import AuthMiddleware, local_path
from pocketstack.core.context import RequestContext
from pocketstack.core.microversion import MicroversionMiddleware
from pocketstack.core.tracing import Tracer, trace_id_for
from pocketstack.core.web import create_app, nova_errors, request_id

ROUTERS = (versions, flavors, keypairs, servers, server_actions, attachments, server_groups,
           quotas, hosts, aggregates)


class TraceMiddleware:
    """Every request that changes something is a trace, its id the request id's;
    creating servers is step 3 of the launch."""

    def __init__(self, app: ASGIApp, tracer: Tracer):
        self.app, self.tracer = app, tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        path = local_path(scope)
        step = "3" if scope["method"] == "POST" and path.rstrip("/") == "/v2.1/servers" \
            else None
        with self.tracer.span(f"{scope['method']} /compute{path}", step,
                              trace_id=trace_id_for(request_id(scope))):
            await self.app(scope, receive, send)


def traced(validate: Callable[[str], Awaitable[RequestContext]],
           tracer: Tracer) -> Callable[[str], Awaitable[RequestContext]]:
    """Token validation as steps 4-5 (and the token's issue, 1-2, as a mark)."""
    async def validate_traced(token: str) -> RequestContext:
        with tracer.span("validate the token with identity (cached)", "4-5") as span:
            ctx = await validate(token)
        tracer.record("token issued by identity (before this request)", "1-2",
                      span.start, span.start, user=ctx.user_id or "")
        return ctx
    return validate_traced


def build_app(compute_api: object, validate: Callable[[str], Awaitable[RequestContext]],
              tracer: Tracer) -> tuple[FastAPI, ASGIApp]:
    """(the FastAPI app, the ASGI app to mount: it wrapped in auth and tracing)."""
    app = create_app("compute", nova_errors, request_id_header="x-compute-request-id")
    app.state.compute = compute_api
    for module in ROUTERS:
        app.include_router(module.router)
    wrapped = AuthMiddleware(MicroversionMiddleware(app, COMPUTE, nova_errors),
                             traced(validate, tracer), nova_errors, public=versions.is_public)
    return app, TraceMiddleware(wrapped, tracer)
