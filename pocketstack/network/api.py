"""The Networking API v2.0 route table. Every resource has the same five routes
(list, create, show, update, delete) plus tags; routers add interface actions;
quotas and extensions have their own. Handlers only parse and delegate."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError

from pocketstack.core.web import (
    base_url,
    context,
    create_app,
    error_response,
    neutron_errors,
    request_id,
)
from pocketstack.network import errors
from pocketstack.network.extensions import EXTENSIONS
from pocketstack.network.service import NetworkService

V2 = "/v2.0"


async def body_of(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise errors.bad_request("Request body is required.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise errors.bad_request("Malformed JSON in request body.") from None


def ok(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def no_content(status: int = 204) -> Response:
    return Response(status_code=status)


def versions(request: Request) -> dict:
    return {"versions": [{"id": "v2.0", "status": "CURRENT",
                          "links": [{"href": base_url(request) + V2 + "/", "rel": "self"}]}]}


def resources(request: Request, svc: NetworkService) -> dict:
    root = base_url(request) + V2
    return {"resources": [
        {"name": r.resource, "collection": r.collection,
         "links": [{"href": f"{root}/{r.collection}", "rel": "self"}]}
        for r in svc.by_collection.values()]}


def add_meta_routes(app: FastAPI, svc: NetworkService) -> None:
    @app.get("/")
    async def show_versions(request: Request) -> JSONResponse:
        return ok(versions(request))

    @app.get(V2)
    @app.get(V2 + "/")
    async def show_resources(request: Request) -> JSONResponse:
        return ok(resources(request, svc))

    @app.get(V2 + "/extensions")
    async def list_extensions(request: Request) -> JSONResponse:
        wanted = {k: v for k, v in request.query_params.items() if k != "fields"}
        return ok({"extensions": [e for e in EXTENSIONS
                                  if all(str(e.get(k)) == v for k, v in wanted.items())]})

    @app.get(V2 + "/extensions/{alias}")
    async def show_extension(alias: str) -> JSONResponse:
        for e in EXTENSIONS:
            if e["alias"] == alias:
                return ok({"extension": e})
        raise errors.named(errors.exc.NotFound, "HTTPNotFound",
                           f"Extension with alias {alias} does not exist")


def add_quota_routes(app: FastAPI, svc: NetworkService) -> None:
    q = svc.quotas

    @app.get(V2 + "/quotas")
    async def list_quotas(request: Request) -> JSONResponse:
        return ok(await q.list(context(request)))

    @app.get(V2 + "/quotas/tenant")
    async def quota_tenant(request: Request) -> JSONResponse:
        return ok({"tenant": {"tenant_id": context(request).project_id}})

    @app.get(V2 + "/quotas/{project_id}")
    async def show_quota(request: Request, project_id: str) -> JSONResponse:
        return ok(await q.show(context(request), project_id))

    @app.get(V2 + "/quotas/{project_id}/default")
    async def default_quota(request: Request, project_id: str) -> JSONResponse:
        return ok(await q.default(context(request), project_id))

    @app.get(V2 + "/quotas/{project_id}/details")
    async def quota_details(request: Request, project_id: str) -> JSONResponse:
        return ok(await q.details(context(request), project_id))

    @app.put(V2 + "/quotas/{project_id}")
    async def update_quota(request: Request, project_id: str) -> JSONResponse:
        return ok(await q.update(context(request), project_id, await body_of(request)))

    @app.delete(V2 + "/quotas/{project_id}")
    async def delete_quota(request: Request, project_id: str) -> Response:
        await q.delete(context(request), project_id)
        return no_content()


def add_router_actions(app: FastAPI, svc: NetworkService) -> None:
    @app.put(V2 + "/routers/{router_id}/add_router_interface")
    async def add_interface(request: Request, router_id: str) -> JSONResponse:
        out = await svc.routers.add_interface(context(request), router_id,
                                              await body_of(request))
        await svc.changed(context(request), "routers")
        return ok(out)

    @app.put(V2 + "/routers/{router_id}/remove_router_interface")
    async def remove_interface(request: Request, router_id: str) -> JSONResponse:
        out = await svc.routers.remove_interface(context(request), router_id,
                                                 await body_of(request))
        await svc.changed(context(request), "routers")
        return ok(out)


def add_resource_routes(app: FastAPI, svc: NetworkService) -> None:
    @app.get(V2 + "/{collection}")
    async def list_(request: Request, collection: str) -> JSONResponse:
        url = base_url(request) + f"{V2}/{collection}"
        return ok(await svc.resource(collection).list(context(request), request.query_params,
                                                      url))

    @app.post(V2 + "/{collection}")
    async def create(request: Request, collection: str) -> JSONResponse:
        res = svc.resource(collection)
        out = await res.create(context(request), await body_of(request))
        await svc.changed(context(request), collection)
        return ok(out, 201)

    @app.get(V2 + "/{collection}/{id_}")
    async def show(request: Request, collection: str, id_: str) -> JSONResponse:
        return ok(await svc.resource(collection).show(context(request), id_,
                                                      request.query_params))

    @app.put(V2 + "/{collection}/{id_}")
    async def update(request: Request, collection: str, id_: str) -> JSONResponse:
        res = svc.resource(collection)
        out = await res.update(context(request), id_, await body_of(request))
        await svc.changed(context(request), collection)
        return ok(out)

    @app.delete(V2 + "/{collection}/{id_}")
    async def delete(request: Request, collection: str, id_: str) -> Response:
        await svc.resource(collection).delete(context(request), id_)
        await svc.changed(context(request), collection)
        return no_content()


def add_tag_routes(app: FastAPI, svc: NetworkService) -> None:
    base = V2 + "/{collection}/{id_}/tags"

    @app.get(base)
    async def get_tags(request: Request, collection: str, id_: str) -> JSONResponse:
        return ok({"tags": await svc.get_tags(context(request), collection, id_)})

    @app.put(base)
    async def put_tags(request: Request, collection: str, id_: str) -> JSONResponse:
        tags = _tag_list(await body_of(request))
        return ok({"tags": await svc.replace_tags(context(request), collection, id_, tags)})

    @app.post(base)
    async def post_tags(request: Request, collection: str, id_: str) -> JSONResponse:
        tags = _tag_list(await body_of(request))
        return ok({"tags": await svc.replace_tags(context(request), collection, id_, tags,
                                                  add=True)}, 201)

    @app.delete(base)
    async def delete_tags(request: Request, collection: str, id_: str) -> Response:
        await svc.remove_tag(context(request), collection, id_, None)
        return no_content()

    @app.get(base + "/{tag}")
    async def has_tag(request: Request, collection: str, id_: str, tag: str) -> Response:
        if tag not in await svc.get_tags(context(request), collection, id_):
            raise errors.named(errors.exc.NotFound, "TagNotFound",
                               f"Tag {tag} could not be found.")
        return no_content()

    @app.put(base + "/{tag}")
    async def put_tag(request: Request, collection: str, id_: str, tag: str) -> Response:
        await svc.add_tag(context(request), collection, id_, tag)
        return no_content(201)

    @app.delete(base + "/{tag}")
    async def delete_tag(request: Request, collection: str, id_: str, tag: str) -> Response:
        await svc.remove_tag(context(request), collection, id_, tag)
        return no_content()


def _tag_list(body: Any) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("tags"), list):
        raise errors.bad_request("Invalid input for tags: expected {\"tags\": [...]}.")
    return body["tags"]


def build_app(svc: NetworkService) -> FastAPI:
    app = create_app("network", neutron_errors)

    async def on_integrity_error(request: Request, err: IntegrityError) -> Response:
        # A uniqueness guard caught a race the checks before it could not see.
        conflict = errors.conflict("Conflict", "The request conflicts with a concurrent "
                                   "change; please retry.")
        return error_response(conflict, request_id(request.scope), neutron_errors)

    app.add_exception_handler(IntegrityError, on_integrity_error)
    add_meta_routes(app, svc)
    add_quota_routes(app, svc)
    add_router_actions(app, svc)
    add_tag_routes(app, svc)
    add_resource_routes(app, svc)
    return app


def is_public(method: str, path: str) -> bool:
    return method == "GET" and path.rstrip("/") in ("", V2)
