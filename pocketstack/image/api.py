"""The Glance v2 route table and its thin handlers: parse, call the service,
render. Version discovery, schemas and /v2/info are in discovery.py."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.requests import ClientDisconnect

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.web import context
from pocketstack.image import schemas
from pocketstack.image.listing import parse_list_query
from pocketstack.image.service import ImageService, PatchOp
from pocketstack.image.transfer import IMPORT_METHODS, Transfers

MAX_JSON = 1 << 20
PATCH_TYPES = ("application/openstack-images-v2.1-json-patch",
               "application/openstack-images-v2.0-json-patch")


def build_router(images: ImageService, transfers: Transfers,
                 show_direct_url: bool = False) -> APIRouter:
    r = APIRouter(prefix="/v2")
    ctx_dep = Depends(context)

    @r.post("/images", status_code=201)
    async def create_image(request: Request, ctx: RequestContext = ctx_dep) -> JSONResponse:
        image = await images.create(ctx, await read_json(request))
        return JSONResponse(schemas.image_view(image), status_code=201, headers={
            "Location": f"/v2/images/{image.id}",
            "OpenStack-image-import-methods": ",".join(IMPORT_METHODS),
        })

    @r.get("/images")
    async def list_images(request: Request, ctx: RequestContext = ctx_dep) -> dict:
        query = parse_list_query(request.query_params.multi_items())
        found = await images.list(ctx, query)
        body: dict[str, Any] = {"images": [schemas.image_view(i) for i in found],
                                "schema": "/v2/schemas/images", "first": "/v2/images"}
        if query.limit and len(found) == query.limit:
            params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
            if "limit" not in request.query_params:
                params.append(("limit", str(query.limit)))
            body["next"] = "/v2/images?" + urlencode(params + [("marker", found[-1].id)])
        return body

    @r.get("/images/{image_id}")
    async def show_image(image_id: str, ctx: RequestContext = ctx_dep) -> dict:
        return schemas.image_view(await images.get(ctx, image_id), direct_url=show_direct_url)

    @r.patch("/images/{image_id}")
    async def update_image(image_id: str, request: Request,
                           ctx: RequestContext = ctx_dep) -> dict:
        kind = request.headers.get("content-type", "").split(";")[0].strip()
        if kind not in PATCH_TYPES:
            raise exc.UnsupportedMediaType(
                f"Content type {kind or 'none'} is not supported; use {PATCH_TYPES[0]}.",
                headers={"Accept-Patch": ", ".join(PATCH_TYPES)})
        ops = parse_patch(await read_json(request), v20=kind == PATCH_TYPES[1])
        return schemas.image_view(await images.update(ctx, image_id, ops))

    @r.delete("/images/{image_id}", status_code=204)
    async def delete_image(image_id: str, ctx: RequestContext = ctx_dep) -> Response:
        await images.delete(ctx, image_id)
        return Response(status_code=204)

    @r.post("/images/{image_id}/actions/deactivate", status_code=204)
    async def deactivate(image_id: str, ctx: RequestContext = ctx_dep) -> Response:
        await images.set_active(ctx, image_id, False)
        return Response(status_code=204)

    @r.post("/images/{image_id}/actions/reactivate", status_code=204)
    async def reactivate(image_id: str, ctx: RequestContext = ctx_dep) -> Response:
        await images.set_active(ctx, image_id, True)
        return Response(status_code=204)

    @r.put("/images/{image_id}/tags/{tag}", status_code=204)
    async def add_tag(image_id: str, tag: str, ctx: RequestContext = ctx_dep) -> Response:
        await images.add_tag(ctx, image_id, tag)
        return Response(status_code=204)

    @r.delete("/images/{image_id}/tags/{tag}", status_code=204)
    async def delete_tag(image_id: str, tag: str, ctx: RequestContext = ctx_dep) -> Response:
        await images.delete_tag(ctx, image_id, tag)
        return Response(status_code=204)

    # -- members -----------------------------------------------------------------

    @r.get("/images/{image_id}/members")
    async def list_members(image_id: str, ctx: RequestContext = ctx_dep) -> dict:
        found = await images.members(ctx, image_id)
        return {"members": [schemas.member_view(m) for m in found],
                "schema": "/v2/schemas/members"}

    @r.post("/images/{image_id}/members")
    async def add_member(image_id: str, request: Request,
                         ctx: RequestContext = ctx_dep) -> dict:
        body = await read_json(request)
        member = body.get("member") if isinstance(body, dict) else None
        return schemas.member_view(await images.add_member(ctx, image_id, member))

    @r.get("/images/{image_id}/members/{member_id}")
    async def show_member(image_id: str, member_id: str, ctx: RequestContext = ctx_dep) -> dict:
        return schemas.member_view(await images.member(ctx, image_id, member_id))

    @r.put("/images/{image_id}/members/{member_id}")
    async def update_member(image_id: str, member_id: str, request: Request,
                            ctx: RequestContext = ctx_dep) -> dict:
        body = await read_json(request)
        status = body.get("status") if isinstance(body, dict) else None
        return schemas.member_view(await images.update_member(ctx, image_id, member_id, status))

    @r.delete("/images/{image_id}/members/{member_id}", status_code=204)
    async def delete_member(image_id: str, member_id: str,
                            ctx: RequestContext = ctx_dep) -> Response:
        await images.delete_member(ctx, image_id, member_id)
        return Response(status_code=204)

    # -- data --------------------------------------------------------------------

    @r.put("/images/{image_id}/file", status_code=204)
    async def upload(image_id: str, request: Request, ctx: RequestContext = ctx_dep) -> Response:
        check_octet_stream(request)
        try:
            await transfers.upload(ctx, image_id, request.stream(), declared_size(request))
        except ClientDisconnect:
            raise exc.BadRequest("The client closed the connection during the upload.") from None
        return Response(status_code=204)

    @r.put("/images/{image_id}/stage", status_code=204)
    async def stage(image_id: str, request: Request, ctx: RequestContext = ctx_dep) -> Response:
        check_octet_stream(request)
        try:
            await transfers.stage(ctx, image_id, request.stream(), declared_size(request))
        except ClientDisconnect:
            raise exc.BadRequest("The client closed the connection during staging.") from None
        return Response(status_code=204)

    @r.post("/images/{image_id}/import", status_code=202)
    async def import_image(image_id: str, request: Request,
                           ctx: RequestContext = ctx_dep) -> Response:
        await transfers.import_(ctx, image_id, await read_json(request))
        return Response(status_code=202)

    @r.get("/images/{image_id}/file")
    async def download(image_id: str, request: Request, ctx: RequestContext = ctx_dep) -> Response:
        wanted = parse_range(request.headers.get("range"))
        got = await transfers.download(ctx, image_id, wanted)
        if got is None:
            return Response(status_code=204)
        headers = {"Content-Length": str(got.length)}
        if got.partial:
            end = got.start + got.length - 1
            headers["Content-Range"] = f"bytes {got.start}-{end}/{got.size}"
        elif got.image.checksum:
            headers["Content-MD5"] = got.image.checksum
        return StreamingResponse(got.chunks, status_code=206 if got.partial else 200,
                                 media_type="application/octet-stream", headers=headers)

    return r


async def read_json(request: Request) -> Any:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON:
            raise exc.PayloadTooLarge("Request is too large.")
    try:
        return json.loads(body) if body else {}
    except ValueError:
        raise exc.BadRequest("Malformed JSON in request body.") from None


def check_octet_stream(request: Request) -> None:
    kind = request.headers.get("content-type", "application/octet-stream")
    if kind.split(";")[0].strip() != "application/octet-stream":
        raise exc.UnsupportedMediaType(f"Content type {kind} is not supported; "
                                       "send application/octet-stream.")


def declared_size(request: Request) -> int | None:
    for header in ("x-openstack-image-size", "content-length"):
        value = request.headers.get(header)
        if value is not None:
            if not value.isdigit():
                raise exc.BadRequest(f"{header} must be a non-negative integer.")
            return int(value)
    return None


def parse_range(header: str | None) -> tuple[int | None, int | None] | None:
    """A single `bytes=first-last` range (either end optional), or 416."""
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip() != "bytes" or not dash or "," in spec or not (first or last) or \
            not all(p.isdigit() for p in (first, last) if p):
        raise exc.RangeNotSatisfiable(f"Invalid range {header!r}; one bytes=first-last range "
                                      "is supported.")
    return (int(first) if first else None, int(last) if last else None)


def parse_patch(body: Any, v20: bool = False) -> list[PatchOp]:
    if not isinstance(body, list):
        raise exc.BadRequest("A JSON patch is a list of operations.")
    ops = []
    for item in body:
        if not isinstance(item, dict):
            raise exc.BadRequest("Each JSON patch operation must be an object.")
        op = item.get("op")
        if op not in ("add", "replace", "remove"):
            raise exc.BadRequest(f"Operation {op!r} is not supported; use add, replace or "
                                 "remove.")
        path = item.get("path")
        if not isinstance(path, str):
            raise exc.BadRequest("Each JSON patch operation needs a 'path'.")
        if op != "remove" and "value" not in item:
            raise exc.BadRequest(f"Operation '{op}' needs a 'value'.")
        ops.append(PatchOp(op, patch_path(path, v20), item.get("value")))
    return ops


def patch_path(path: str, v20: bool) -> str:
    """The attribute a patch path names; nested paths (locations) are refused."""
    if v20 and not path.startswith("/"):
        path = "/" + path
    if not path.startswith("/") or len(path) < 2:
        raise exc.BadRequest(f"Invalid JSON pointer for this resource: '{path}'")
    parts = path[1:].split("/")
    if len(parts) != 1:
        if parts[0] == "locations":
            raise exc.Forbidden("Image locations cannot be changed in this cloud.")
        raise exc.BadRequest(f"Invalid JSON pointer for this resource: '{path}'")
    return parts[0].replace("~1", "/").replace("~0", "~")
