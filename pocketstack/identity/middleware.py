"""Identity's own token check (in-process, no HTTP to itself) and the fast path
for token validation.

Every request but the public ones (version documents, POST /v3/auth/tokens,
the self-service password change) needs a valid X-Auth-Token; the request
then carries `state["context"]` (a RequestContext) and `state["token"]` (the
TokenInfo). GET/HEAD /v3/auth/tokens with both tokens in the validation cache
is answered here from the token's pre-rendered body, without routing.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from pocketstack.core import exceptions as exc
from pocketstack.core.auth import local_path
from pocketstack.core.policy import Enforcer
from pocketstack.core.web import error_response, keystone_errors, request_id
from pocketstack.identity.service import Identity

TOKENS = "/v3/auth/tokens"
_PASSWORD = re.compile(r"^/v3/users/[^/]+/password/?$")


def is_public(method: str, path: str) -> bool:
    if path in ("", "/", "/v3", "/v3/"):
        return True
    if method == "POST":
        return path.rstrip("/") == TOKENS or bool(_PASSWORD.match(path))
    return False


class IdentityAuth:
    def __init__(self, app: ASGIApp, ident: Identity, enforcer: Enforcer):
        self.app, self.ident, self.enforcer = app, ident, enforcer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = local_path(scope), scope["method"]
        headers = dict(scope["headers"])
        token = headers.get(b"x-auth-token")
        if path == TOKENS and method in ("GET", "HEAD") and token:
            if await self._fast_validate(scope, send, token, headers):
                return
        if is_public(method, path):
            return await self.app(scope, receive, send)
        try:
            if not token:
                raise exc.Unauthorized("The request you have made requires authentication.")
            try:
                info = await self.ident.validate(token.decode("latin-1"))
            except exc.NotFound:
                raise exc.Unauthorized(
                    "The request you have made requires authentication.") from None
        except exc.PocketstackError as err:
            response = error_response(err, request_id(scope), keystone_errors)
            return await response(scope, receive, send)
        state = scope.setdefault("state", {})
        state["context"], state["token"] = info.context(), info
        await self.app(scope, receive, send)

    async def _fast_validate(self, scope: Scope, send: Send, token: bytes,
                             headers: dict[bytes, bytes]) -> bool:
        subject = headers.get(b"x-subject-token")
        if not subject:
            return False
        cache = self.ident.cache
        caller = cache.get(token.decode("latin-1"))
        info = cache.get(subject.decode("latin-1"))
        if caller is None or info is None or not self.enforcer.allowed(
                caller.context(), "identity:validate_token",
                {"token_user_id": info.user_id}):
            return False
        body = info.body(with_catalog=b"nocatalog" not in scope.get("query_string", b""))
        head = scope["method"] == "HEAD"
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-subject-token", subject),
            (b"x-openstack-request-id", request_id(scope).encode()),
        ]})
        await send({"type": "http.response.body", "body": b"" if head else body})
        return True
