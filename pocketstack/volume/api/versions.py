"""Version discovery: `/` lists the API versions, `/v3/` describes v3 (public)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from pocketstack.volume.api.common import MAX_VERSION, MIN_VERSION, base

router = APIRouter()


def v3(root: str) -> dict[str, Any]:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "updated": "2017-09-21T00:00:00Z",
        "links": [{"href": f"{root}/v3/", "rel": "self"},
                  {"href": "https://docs.openstack.org/", "type": "text/html",
                   "rel": "describedby"}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.volume+json;version=3"}],
    }


@router.get("/")
async def versions(request: Request) -> JSONResponse:
    return JSONResponse({"versions": [v3(base(request))]}, status_code=300)


@router.get("/v3")
@router.get("/v3/")
async def version_v3(request: Request) -> dict[str, Any]:
    return {"versions": [v3(base(request))]}
