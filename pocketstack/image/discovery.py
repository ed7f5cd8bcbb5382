"""What clients read before anything else: the version documents (public),
the JSON schemas, and /v2/info (import methods, stores, quota usage)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from pocketstack.config import ImageConfig
from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.core.web import base_url, context
from pocketstack.image import schemas, store
from pocketstack.image.transfer import IMPORT_METHODS

# Glance's image API versions, oldest first; the last is CURRENT.
VERSIONS = ["2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10",
            "2.11", "2.12", "2.13", "2.14", "2.15", "2.16"]
PUBLIC_PATHS = ("", "/", "/versions")


def versions_body(request: Request) -> dict:
    href = base_url(request) + "/v2/"
    return {"versions": [
        {"id": f"v{v}", "status": "CURRENT" if v == VERSIONS[-1] else "SUPPORTED",
         "links": [{"rel": "self", "href": href}]}
        for v in reversed(VERSIONS)
    ]}


def build_router(db: Database, config: ImageConfig, store_name: str) -> APIRouter:
    r = APIRouter()
    ctx_dep = Depends(context)

    @r.get("/")
    async def root(request: Request) -> JSONResponse:
        return JSONResponse(versions_body(request), status_code=300)

    @r.get("/versions")
    async def versions(request: Request) -> dict:
        return versions_body(request)

    @r.get("/v2/schemas/image")
    async def image_schema(ctx: RequestContext = ctx_dep) -> dict:
        return schemas.image_schema()

    @r.get("/v2/schemas/images")
    async def images_schema(ctx: RequestContext = ctx_dep) -> dict:
        return schemas.images_schema()

    @r.get("/v2/schemas/member")
    async def member_schema(ctx: RequestContext = ctx_dep) -> dict:
        return schemas.member_schema()

    @r.get("/v2/schemas/members")
    async def members_schema(ctx: RequestContext = ctx_dep) -> dict:
        return schemas.members_schema()

    @r.get("/v2/info/import")
    async def import_info(ctx: RequestContext = ctx_dep) -> dict:
        return {"import-methods": {"description": "Import methods available.",
                                   "type": "array", "value": IMPORT_METHODS}}

    @r.get("/v2/info/stores")
    async def stores_info(ctx: RequestContext = ctx_dep) -> dict:
        return {"stores": [{"id": store_name, "default": True,
                            "description": f"pocketstack {store_name} store"}]}

    @r.get("/v2/info/usage")
    async def usage(ctx: RequestContext = ctx_dep) -> dict:
        async with db.read() as s:
            count, stored, staged = await store.usage(s, ctx.project_id)
        return {"usage": {
            "image_count_total": {"limit": config.image_count_total, "usage": count},
            "image_size_total": {"limit": config.image_size_total, "usage": stored},
            "image_stage_total": {"limit": config.image_stage_total, "usage": staged},
        }}

    return r
