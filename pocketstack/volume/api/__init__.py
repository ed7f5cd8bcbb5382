"""The block storage REST API (Cinder v3): one explicit route table, with the
project id in the path or not, microversions 3.0-3.44, Cinder's error bodies,
and every request but version discovery authenticated."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from pocketstack.core import exceptions as exc
from pocketstack.core.auth import AuthMiddleware, Validate, local_path
from pocketstack.core.microversion import MicroversionMiddleware, Microversions
from pocketstack.core.policy import Enforcer
from pocketstack.core.web import create_app, error_response, nova_errors, request_id
from pocketstack.volume.api import (
    attachments,
    messages,
    quotas,
    services,
    snapshots,
    types,
    versions,
    volumes,
)
from pocketstack.volume.api.common import MAX_VERSION, MIN_VERSION

# The first path segment after /v3 that names a resource, not a project id.
RESOURCES = {"volumes", "snapshots", "types", "attachments", "os-quota-sets", "limits",
             "messages", "os-availability-zone", "os-services"}
_V3_PROJECT = re.compile(r"^/v3/([^/]+)(/.*)?$")


def is_public(method: str, path: str) -> bool:
    if path in ("", "/", "/v3", "/v3/"):
        return True
    m = _V3_PROJECT.match(path)
    return bool(m and m.group(1) not in RESOURCES and (m.group(2) or "/") == "/")


class ProjectPath:
    """Drops the project id from /v3/{project_id}/...; a caller who is not an admin
    must name its own project there."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = local_path(scope)
        m = _V3_PROJECT.match(path)
        if m and m.group(1) not in RESOURCES:
            ctx = scope.get("state", {}).get("context")
            if ctx is not None and not ctx.is_admin and m.group(1) != ctx.project_id:
                err = exc.BadRequest(f"Malformed request URL: URL's project_id '{m.group(1)}' "
                                     f"doesn't match Context's project_id '{ctx.project_id}'")
                return await error_response(err, request_id(scope), nova_errors)(
                    scope, receive, send)
            rest = "/v3" + (m.group(2) or "/")
            root = scope.get("root_path", "")
            full = root + rest if root and scope["path"].startswith(root) else rest
            scope = dict(scope, path=full, raw_path=full.encode())
        await self.app(scope, receive, send)


def build_app(service: Any, policy: Enforcer, validate: Validate,
              zones: Callable[[], set[str]], records: Any) -> ASGIApp:
    app: FastAPI = create_app("volume", nova_errors)
    app.state.service = service
    app.state.policy = policy
    app.state.zones = zones
    app.state.records = records
    for module in (versions, volumes, snapshots, types, attachments, quotas, messages,
                   services):
        app.include_router(module.router)
    versions_range = Microversions("volume", MIN_VERSION, MAX_VERSION)
    inner = MicroversionMiddleware(ProjectPath(app), versions_range, nova_errors)
    return AuthMiddleware(inner, validate, nova_errors, public=is_public)
