"""Placement's microversions: the range it honours and the middleware that reads
`OpenStack-API-Version: placement X.Y` into `scope["state"]["microversion"]` and
answers with the version it used on every response."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pocketstack.core import exceptions as exc
from pocketstack.core.microversion import Microversions, Version
from pocketstack.core.web import error_response, placement_errors, request_id

MIN_VERSION = "1.0"
MAX_VERSION = "1.39"
VERSIONS = Microversions("placement", MIN_VERSION, MAX_VERSION)


def version_of(scope: Scope) -> Version:
    return scope.get("state", {}).get("microversion", VERSIONS.min)


class MicroversionMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            version = VERSIONS.requested(Request(scope))
        except exc.PocketstackError as err:
            response = error_response(err, request_id(scope), placement_errors)
            response.headers.update(VERSIONS.response_headers(VERSIONS.min))
            return await response(scope, receive, send)
        scope.setdefault("state", {})["microversion"] = version
        extra = [(k.lower().encode(), v.encode())
                 for k, v in VERSIONS.response_headers(version).items()]

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_version)
