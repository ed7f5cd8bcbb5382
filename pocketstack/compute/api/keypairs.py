"""/os-keypairs: import or generate, list, show, delete (per user)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from pocketstack.compute.api.deps import Ctx, Mv, api, body_of, enforce
from pocketstack.compute.api.microversions import at_least
from pocketstack.compute.models import KeyPair
from pocketstack.compute.quotas import limits
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.microversion import Version
from pocketstack.core.paging import parse_limit

router = APIRouter(prefix="/v2.1/os-keypairs")
JSON = Annotated[Any, Body()]


def view(kp: KeyPair, mv: Version, full: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"name": kp.name, "public_key": kp.public_key,
                            "fingerprint": kp.fingerprint}
    if at_least(mv, "2.2"):
        body["type"] = kp.type
    if full:
        body.update({"user_id": kp.user_id, "created_at": kp.created_at.isoformat(),
                     "deleted": False, "deleted_at": None, "updated_at": None, "id": kp.id})
    return body


def _user(request: Request, ctx: RequestContext, mv: Version, action: str,
          user_id: str | None) -> str:
    if user_id is not None and not at_least(mv, "2.10"):
        raise exc.BadRequest("user_id is supported from microversion 2.10.")
    user_id = user_id or ctx.user_id
    enforce(request, ctx, f"os_compute_api:os-keypairs:{action}", {"user_id": user_id})
    return user_id


@router.get("")
async def index(request: Request, ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    q = request.query_params
    user_id = _user(request, ctx, mv, "index", q.get("user_id"))
    limit = parse_limit(q.get("limit")) if at_least(mv, "2.35") else None
    marker = q.get("marker") if at_least(mv, "2.35") else None
    pairs = await api(request).keypairs.list(user_id, limit, marker)
    return {"keypairs": [{"keypair": view(kp, mv)} for kp in pairs]}


@router.post("")
async def create(request: Request, body: JSON, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> Response:
    raw = body_of(body, "keypair")
    allowed = {"name", "public_key"} | ({"type"} if at_least(mv, "2.2") else set()) | (
        {"user_id"} if at_least(mv, "2.10") else set())
    if not set(raw) <= allowed or not isinstance(raw.get("name"), str):
        raise exc.BadRequest(f"Invalid input for field/attribute keypair: expected name and "
                             f"optionally {', '.join(sorted(allowed - {'name'}))}.")
    key_type = raw.get("type", "ssh")
    if key_type not in ("ssh", "x509") or not isinstance(raw.get("public_key", ""), str):
        raise exc.BadRequest("Invalid input for field/attribute type or public_key.")
    public_key = raw.get("public_key")
    if public_key is None and at_least(mv, "2.92"):
        raise exc.BadRequest("public_key is required from microversion 2.92.")
    user_id = _user(request, ctx, mv, "create", raw.get("user_id"))
    svc = api(request)
    async with svc.db.read() as s:
        limit = (await limits(s, ctx.project_id or ""))["key_pairs"]
    kp, private = await svc.keypairs.create(user_id, raw["name"], public_key, key_type, limit)
    out = view(kp, mv) | {"user_id": kp.user_id}
    if private is not None:
        out["private_key"] = private
    return svc.json({"keypair": out}, 201 if at_least(mv, "2.2") else 200)


@router.get("/{name}")
async def show(name: str, request: Request, ctx: RequestContext = Ctx,
               mv: Version = Mv) -> dict:
    user_id = _user(request, ctx, mv, "index", request.query_params.get("user_id"))
    return {"keypair": view(await api(request).keypairs.get(user_id, name), mv, full=True)}


@router.delete("/{name}")
async def delete(name: str, request: Request, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> Response:
    user_id = _user(request, ctx, mv, "delete", request.query_params.get("user_id"))
    await api(request).keypairs.delete(user_id, name)
    return Response(status_code=204 if at_least(mv, "2.2") else 202)
