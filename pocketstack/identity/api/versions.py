"""Keystone's version documents, at the service root and at /v3."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from pocketstack.core.web import base_url
from pocketstack.identity.api.common import new_router

router = new_router()


def version(request: Request) -> dict[str, Any]:
    return {
        "id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": base_url(request) + "/v3/"}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.identity-v3+json"}],
    }


@router.get("/")
async def versions(request: Request) -> JSONResponse:
    return JSONResponse({"versions": {"values": [version(request)]}}, status_code=300)


@router.get("/v3")
@router.get("/v3/")
async def v3(request: Request) -> dict[str, Any]:
    return {"version": version(request)}
