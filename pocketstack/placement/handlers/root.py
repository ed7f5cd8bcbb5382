"""GET /: the version document (public)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pocketstack.placement import http
from pocketstack.placement.microversion import MAX_VERSION, MIN_VERSION


async def versions(req: Request) -> Response:
    version = {"id": "v1.0", "max_version": MAX_VERSION, "min_version": MIN_VERSION,
               "status": "CURRENT", "links": [{"rel": "self", "href": ""}]}
    return http.respond({"versions": [version]})
