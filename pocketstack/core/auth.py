"""Token validation for every service but identity (keystonemiddleware's job).

`TokenValidator` asks the identity service, `GET /v3/auth/tokens` with the
service's own token in X-Auth-Token and the user's in X-Subject-Token, and
caches each answer for `cache_ttl` seconds (a revocation reaches a service
within that time, or at once where `invalidate()` is wired to identity's
revocation events, as it is in the all-in-one). `AuthMiddleware` puts the
resulting RequestContext in `scope["state"]["context"]`; a request without a
valid token gets 401 in the service's error format.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.web import ErrorFormat, error_response, request_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceCredentials:
    """What a service logs in with to get its own token."""

    username: str
    password: str
    project_name: str = "service"
    user_domain_id: str = "default"
    project_domain_id: str = "default"


def context_from_token(body: dict[str, Any], token: str) -> RequestContext:
    """A RequestContext from a Keystone v3 token body ({"token": {...}})."""
    t = body["token"]
    user = t.get("user", {})
    project = t.get("project") or {}
    return RequestContext(
        user_id=user.get("id"),
        user_name=user.get("name"),
        user_domain_id=(user.get("domain") or {}).get("id"),
        project_id=project.get("id"),
        project_name=project.get("name"),
        project_domain_id=(project.get("domain") or {}).get("id"),
        domain_id=(t.get("domain") or {}).get("id"),
        system_scope="all" if (t.get("system") or {}).get("all") else None,
        roles=[r["name"].lower() for r in t.get("roles", [])],
        auth_token=token,
        service_catalog=t.get("catalog", []),
    )


class TokenValidator:
    def __init__(
        self,
        http: httpx.AsyncClient,
        identity_url: str,
        credentials: ServiceCredentials,
        cache_ttl: float = 10.0,
        cache_size: int = 10000,
    ):
        self.http = http
        self.identity_url = identity_url.rstrip("/")
        self.credentials = credentials
        self.cache_ttl = cache_ttl
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[float, RequestContext]] = OrderedDict()
        self._service_token: tuple[str, float] | None = None
        self._token_lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Forget every cached validation (called on identity's revocation events)."""
        self._cache.clear()

    async def validate(self, token: str) -> RequestContext:
        hit = self._cache.get(token)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            self._cache.move_to_end(token)
            return hit[1]
        ctx = await self._ask_identity(token)
        if self.cache_ttl > 0:
            self._cache[token] = (now + self.cache_ttl, ctx)
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return ctx

    async def _ask_identity(self, token: str) -> RequestContext:
        for attempt in (1, 2):
            service_token = await self.service_token()
            resp = await self.http.get(
                f"{self.identity_url}/v3/auth/tokens",
                headers={"X-Auth-Token": service_token, "X-Subject-Token": token},
            )
            if resp.status_code == 200:
                return context_from_token(resp.json(), token)
            if resp.status_code == 401 and attempt == 1:
                # Our own token may be the one that expired or was revoked.
                self._service_token = None
                continue
            if resp.status_code in (401, 404):
                break
            raise exc.ServiceUnavailable(f"identity answered {resp.status_code} to validation")
        raise exc.Unauthorized("The request you have made requires authentication.")

    async def service_token(self) -> str:
        async with self._token_lock:
            cached = self._service_token
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
            token, lifetime = await issue_service_token(self.http, self.identity_url,
                                                        self.credentials)
            self._service_token = (token, time.monotonic() + max(lifetime - 60, lifetime / 2))
            return token


async def issue_service_token(
    http: httpx.AsyncClient, identity_url: str, c: ServiceCredentials
) -> tuple[str, float]:
    """(token, seconds it lives) for a service user, project-scoped."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": c.username, "password": c.password,
                             "domain": {"id": c.user_domain_id}}
                },
            },
            "scope": {"project": {"name": c.project_name, "domain": {"id": c.project_domain_id}}},
        }
    }
    resp = await http.post(f"{identity_url.rstrip('/')}/v3/auth/tokens", json=body)
    if resp.status_code != 201:
        raise exc.ServiceUnavailable(f"service login failed: identity answered {resp.status_code}")
    expires = resp.json()["token"]["expires_at"]
    lifetime = datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp() - time.time()
    return resp.headers["X-Subject-Token"], max(lifetime, 1.0)


Validate = Callable[[str], Any]  # async (token) -> RequestContext


class AuthMiddleware:
    """Requires a valid X-Auth-Token on every request but the public paths."""

    def __init__(
        self,
        app: ASGIApp,
        validate: Validate,
        error_format: ErrorFormat,
        public: Callable[[str, str], bool] = lambda method, path: path in ("", "/"),
    ):
        self.app, self.validate = app, validate
        self.error_format, self.public = error_format, public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.public(scope["method"], local_path(scope)):
            return await self.app(scope, receive, send)
        token = _header(scope, b"x-auth-token")
        rid = request_id(scope)
        try:
            if not token:
                raise exc.Unauthorized("The request you have made requires authentication.")
            ctx = await self.validate(token)
        except exc.PocketstackError as err:
            return await error_response(err, rid, self.error_format)(scope, receive, send)
        global_rid = _header(scope, b"x-openstack-request-id")
        scope["state"]["context"] = ctx.model_copy(
            update={"request_id": rid, "global_request_id": global_rid}
        )
        await self.app(scope, receive, send)


def local_path(scope: Scope) -> str:
    """The request path below the service's mount prefix."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
