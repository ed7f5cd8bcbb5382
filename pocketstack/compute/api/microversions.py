"""The compute API's microversion range and the per-request version.

The maximum is what the installed openstackclient/openstacksdk ask for on
servers (2.100); behaviour changes below it are implemented where the
endpoints they touch exist (see views.py for the server body).
"""

from __future__ import annotations

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pocketstack.core import exceptions as exc
from pocketstack.core.microversion import Microversions, Version
from pocketstack.core.web import error_response, nova_errors, request_id

MIN, MAX = "2.1", "2.100"
COMPUTE = Microversions("compute", MIN, MAX, legacy_header="X-OpenStack-Nova-API-Version")


class MicroversionMiddleware:
    """Reads the requested version once (406/400 when unusable) into the scope,
    and answers with the version headers."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            version = COMPUTE.requested(Request(scope))
        except exc.PocketstackError as err:
            return await error_response(err, request_id(scope), nova_errors)(scope, receive,
                                                                               send)
        scope.setdefault("state", {})["microversion"] = version
        extra = [(k.lower().encode(), v.encode())
                 for k, v in COMPUTE.response_headers(version).items()]

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_version)


def version(request: Request) -> Version:
    """FastAPI dependency: the microversion of this request."""
    return request.scope.get("state", {}).get("microversion") or COMPUTE.min


def at_least(v: Version, text: str) -> bool:
    return v >= Version.parse(text)
