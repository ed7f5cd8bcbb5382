"""Version discovery: GET / and GET /v2.1 (public, no token needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from pocketstack.compute.api.microversions import MAX, MIN
from pocketstack.core.web import base_url

router = APIRouter()
UPDATED = "2013-07-23T11:33:21Z"


def _v21(request: Request) -> dict:
    return {
        "id": "v2.1", "status": "CURRENT", "version": MAX, "min_version": MIN,
        "updated": UPDATED,
        "links": [{"rel": "self", "href": base_url(request) + "/v2.1/"},
                  {"rel": "describedby", "type": "text/html",
                   "href": "http://docs.openstack.org/"}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.compute+json;version=2.1"}],
    }


@router.get("/")
async def versions(request: Request) -> dict:
    return {"versions": [_v21(request)]}


@router.get("/v2.1")
@router.get("/v2.1/")
async def version(request: Request) -> dict:
    return {"version": _v21(request)}


def is_public(method: str, path: str) -> bool:
    return method == "GET" and path in ("", "/", "/v2.1", "/v2.1/")
