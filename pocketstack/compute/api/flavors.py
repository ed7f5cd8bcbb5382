"""/flavors: list, show, create, update (description), delete; extra specs; access lists."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pocketstack.compute.api.deps import (
    Ctx,
    Mv,
    api,
    body_of,
    enforce,
    links,
    parse_bool,
    parse_int,
)
from pocketstack.compute.api.microversions import at_least
from pocketstack.compute.flavors import SORT_KEYS
from pocketstack.compute.models import Flavor
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.microversion import Version
from pocketstack.core.paging import parse_limit
from pocketstack.core.web import describe_validation

router = APIRouter(prefix="/v2.1/flavors")
JSON = Annotated[Any, Body()]


class FlavorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f]+$")
    id: str | None = Field(None, min_length=1, max_length=255, pattern=r"^[\w.\- ]+$")
    ram: int = Field(ge=1, le=2**31 - 1)
    vcpus: int = Field(ge=1, le=2**31 - 1)
    disk: int = Field(ge=0, le=2**31 - 1)
    ephemeral: int = Field(0, ge=0, le=2**31 - 1, alias="OS-FLV-EXT-DATA:ephemeral")
    swap: int | str = 0
    rxtx_factor: float = Field(1.0, gt=0, le=3.40282e38)
    is_public: bool = Field(True, alias="os-flavor-access:is_public")
    description: str | None = Field(None, max_length=65535)

    @field_validator("name", "id")
    @classmethod
    def _no_edge_spaces(cls, v: str | None) -> str | None:
        if v is not None and v != v.strip():
            raise ValueError("must not start or end with a space")
        return v


def view(request: Request, f: Flavor, mv: Version, detail: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"id": f.id, "name": f.name, "links": links(request, "flavors", f.id)}
    if at_least(mv, "2.55"):
        body["description"] = f.description
    if not detail:
        return body
    body.update({
        "ram": f.ram, "disk": f.disk, "vcpus": f.vcpus,
        "OS-FLV-EXT-DATA:ephemeral": f.ephemeral, "OS-FLV-DISABLED:disabled": False,
        "swap": f.swap if (f.swap or at_least(mv, "2.75")) else "",
        "rxtx_factor": f.rxtx_factor, "os-flavor-access:is_public": f.is_public,
    })
    if at_least(mv, "2.61"):
        body["extra_specs"] = dict(f.extra_specs or {})
    return body


async def _list(request: Request, ctx: RequestContext) -> list[Flavor]:
    q = request.query_params
    is_public = None if (q.get("is_public") or "").lower() == "none" else (
        parse_bool(q.get("is_public"), "is_public"))
    if ctx.is_admin and q.get("is_public") is None:
        is_public = True
    sort_key = q.get("sort_key", "flavorid")
    sort_dir = q.get("sort_dir", "asc")
    if sort_key not in SORT_KEYS or sort_dir not in ("asc", "desc"):
        raise exc.BadRequest(f"Invalid sort_key {sort_key} or sort_dir {sort_dir}.")
    return await api(request).flavors.list(
        ctx, is_public=is_public, min_ram=parse_int(q.get("minRam"), "minRam"),
        min_disk=parse_int(q.get("minDisk"), "minDisk"), limit=parse_limit(q.get("limit")),
        marker=q.get("marker"), sort=(SORT_KEYS[sort_key], sort_dir))


@router.get("")
async def index(request: Request, ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    return {"flavors": [view(request, f, mv, False) for f in await _list(request, ctx)]}


@router.get("/detail")
async def detail(request: Request, ctx: RequestContext = Ctx, mv: Version = Mv) -> dict:
    return {"flavors": [view(request, f, mv) for f in await _list(request, ctx)]}


@router.get("/{flavor_id}")
async def show(flavor_id: str, request: Request, ctx: RequestContext = Ctx,
               mv: Version = Mv) -> dict:
    return {"flavor": view(request, await api(request).flavors.get(ctx, flavor_id), mv)}


@router.post("")
async def create(request: Request, body: JSON, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> dict:
    enforce(request, ctx, "os_compute_api:os-flavor-manage:create")
    raw = dict(body_of(body, "flavor"))
    if "description" in raw and not at_least(mv, "2.55"):
        raise exc.BadRequest("Additional properties are not allowed ('description' was "
                             "unexpected)")
    try:
        spec = FlavorCreate.model_validate(raw)
        swap = int(spec.swap) if spec.swap != "" else 0
    except ValidationError as err:
        raise exc.BadRequest(describe_validation(err.errors())) from None
    except ValueError:
        raise exc.BadRequest("Invalid input for field/attribute swap.") from None
    if swap < 0:
        raise exc.BadRequest("Invalid input for field/attribute swap.")
    flavor_id = spec.id if spec.id not in (None, "auto") else str(uuid.uuid4())
    flavor = await api(request).flavors.create({
        "id": flavor_id, "name": spec.name, "ram": spec.ram, "vcpus": spec.vcpus,
        "disk": spec.disk, "ephemeral": spec.ephemeral, "swap": swap,
        "rxtx_factor": spec.rxtx_factor, "is_public": spec.is_public,
        "description": spec.description})
    return {"flavor": view(request, flavor, mv)}


@router.put("/{flavor_id}")
async def update(flavor_id: str, request: Request, body: JSON, ctx: RequestContext = Ctx,
                 mv: Version = Mv) -> dict:
    if not at_least(mv, "2.55"):
        raise exc.MethodNotAllowed("The method is not allowed for the requested URL.")
    enforce(request, ctx, "os_compute_api:os-flavor-manage:update")
    raw = body_of(body, "flavor")
    if set(raw) != {"description"} or not isinstance(raw["description"], str | None):
        raise exc.BadRequest("Invalid input for field/attribute flavor: only 'description' "
                             "can be updated.")
    flavor = await api(request).flavors.update(flavor_id, raw["description"])
    return {"flavor": view(request, flavor, mv)}


@router.delete("/{flavor_id}", status_code=202)
async def delete(flavor_id: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    enforce(request, ctx, "os_compute_api:os-flavor-manage:delete")
    await api(request).flavors.delete(flavor_id)
    return Response(status_code=202)


# -- extra specs ------------------------------------------------------------------


def _specs(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise exc.BadRequest("Invalid input for field/attribute extra_specs.")
    out = {}
    for key, value in raw.items():
        if not isinstance(value, str | int | float | bool) or not 0 < len(key) <= 255:
            raise exc.BadRequest(f"Invalid input for field/attribute extra_specs: {key!r}.")
        out[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


@router.get("/{flavor_id}/os-extra_specs")
async def specs_index(flavor_id: str, request: Request, ctx: RequestContext = Ctx) -> dict:
    enforce(request, ctx, "os_compute_api:os-flavor-extra-specs:index")
    return {"extra_specs": dict((await api(request).flavors.get(ctx, flavor_id)).extra_specs)}


@router.post("/{flavor_id}/os-extra_specs")
async def specs_create(flavor_id: str, request: Request, body: JSON,
                       ctx: RequestContext = Ctx) -> dict:
    enforce(request, ctx, "os_compute_api:os-flavor-extra-specs:manage")
    specs = _specs(body.get("extra_specs") if isinstance(body, dict) else None)
    return {"extra_specs": await api(request).flavors.set_extra_specs(flavor_id, specs)}


@router.get("/{flavor_id}/os-extra_specs/{key}")
async def spec_show(flavor_id: str, key: str, request: Request,
                    ctx: RequestContext = Ctx) -> dict:
    enforce(request, ctx, "os_compute_api:os-flavor-extra-specs:index")
    specs = (await api(request).flavors.get(ctx, flavor_id)).extra_specs or {}
    if key not in specs:
        raise exc.NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
    return {key: specs[key]}


@router.put("/{flavor_id}/os-extra_specs/{key}")
async def spec_update(flavor_id: str, key: str, request: Request, body: JSON,
                      ctx: RequestContext = Ctx) -> dict:
    enforce(request, ctx, "os_compute_api:os-flavor-extra-specs:manage")
    specs = _specs(body)
    if list(specs) != [key]:
        raise exc.BadRequest("Request body and URI mismatch")
    await api(request).flavors.set_extra_specs(flavor_id, specs)
    return specs


@router.delete("/{flavor_id}/os-extra_specs/{key}")
async def spec_delete(flavor_id: str, key: str, request: Request,
                      ctx: RequestContext = Ctx) -> Response:
    enforce(request, ctx, "os_compute_api:os-flavor-extra-specs:manage")
    await api(request).flavors.delete_extra_spec(flavor_id, key)
    return Response(status_code=200)


# -- access lists -------------------------------------------------------------------


def _access(flavor_id: str, projects: list[str]) -> dict:
    return {"flavor_access": [{"flavor_id": flavor_id, "tenant_id": p} for p in projects]}


@router.get("/{flavor_id}/os-flavor-access")
async def access_index(flavor_id: str, request: Request, ctx: RequestContext = Ctx) -> dict:
    enforce(request, ctx, "os_compute_api:os-flavor-access")
    return _access(flavor_id, await api(request).flavors.access(flavor_id))


@router.post("/{flavor_id}/action")
async def access_action(flavor_id: str, request: Request, body: JSON,
                        ctx: RequestContext = Ctx) -> dict:
    enforce(request, ctx, "os_compute_api:os-flavor-access")
    flavors = api(request).flavors
    for action, method in (("addTenantAccess", flavors.add_access),
                           ("removeTenantAccess", flavors.remove_access)):
        arg = body.get(action) if isinstance(body, dict) else None
        if isinstance(arg, dict) and isinstance(arg.get("tenant"), str) and arg["tenant"]:
            return _access(flavor_id, await method(flavor_id, arg["tenant"]))
    raise exc.BadRequest("Invalid flavor action: expected addTenantAccess or "
                         "removeTenantAccess with a tenant.")
