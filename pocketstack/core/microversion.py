"""Microversion negotiation, as every OpenStack service with microversions does it.

A client asks with `OpenStack-API-Version: <service-type> <X.Y>` (or a legacy
header such as `X-OpenStack-Nova-API-Version`), `latest` for the newest; no
header means the minimum. A version outside [min, max] is answered with 406.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pocketstack.core import exceptions as exc
from pocketstack.core.web import ErrorFormat, error_response, request_id

_VERSION = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


class Version(NamedTuple):
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        m = _VERSION.match(text.strip())
        if not m:
            raise exc.BadRequest(f"Invalid microversion {text!r}: use X.Y or 'latest'.")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


class Microversions:
    """The range one service supports, and how to read a request's choice."""

    def __init__(self, service_type: str, minimum: str, maximum: str,
                 legacy_header: str | None = None):
        self.service_type = service_type
        self.min = Version.parse(minimum)
        self.max = Version.parse(maximum)
        self.legacy_header = legacy_header

    def requested(self, request: Request) -> Version:
        text = self._header_value(request)
        if text is None:
            return self.min
        if text.strip().lower() == "latest":
            return self.max
        version = Version.parse(text)
        if not self.min <= version <= self.max:
            raise exc.NotAcceptable(
                f"Version {version} is not supported by the API. Minimum is {self.min} "
                f"and maximum is {self.max}."
            )
        return version

    def _header_value(self, request: Request) -> str | None:
        header = request.headers.get("openstack-api-version")
        if header:
            for part in header.split(","):
                words = part.split()
                if len(words) == 2 and words[0].lower() == self.service_type:
                    return words[1]
        if self.legacy_header:
            return request.headers.get(self.legacy_header)
        return None

    def response_headers(self, version: Version) -> dict[str, str]:
        headers = {
            "OpenStack-API-Version": f"{self.service_type} {version}",
            "Vary": "OpenStack-API-Version",
        }
        if self.legacy_header:
            headers[self.legacy_header] = str(version)
        return headers


class MicroversionMiddleware:
    """Reads the requested version once into `scope["state"]["microversion"]`
    (406/400 in the service's error format when unusable) and answers every
    response with the version headers."""

    def __init__(self, app: ASGIApp, versions: Microversions, error_format: ErrorFormat):
        self.app, self.versions, self.error_format = app, versions, error_format

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            version = self.versions.requested(Request(scope))
        except exc.PocketstackError as err:
            response = error_response(err, request_id(scope), self.error_format)
            response.headers.update(self.versions.response_headers(self.versions.min))
            return await response(scope, receive, send)
        scope.setdefault("state", {})["microversion"] = version
        extra = [(k.lower().encode(), v.encode())
                 for k, v in self.versions.response_headers(version).items()]

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_version)
