"""The createImage server action: a queued image made here with what the server
was booted from, then the server's agent streams its root disk into it."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from pocketstack.compute.api.deps import api
from pocketstack.compute.api.microversions import at_least, version
from pocketstack.compute.models import Instance
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext

SNAPSHOT_STATES = ("active", "stopped", "paused", "suspended")
# Image attributes that describe the base image itself, never inherited by a snapshot.
NOT_INHERITED = {
    "id", "name", "status", "visibility", "protected", "checksum", "os_hash_algo",
    "os_hash_value", "owner", "size", "virtual_size", "min_ram", "min_disk", "created_at",
    "updated_at", "disk_format", "container_format", "self", "file", "schema", "direct_url",
    "locations", "tags", "os_hidden", "stores", "instance_uuid", "base_image_ref",
    "image_type", "user_id", "image_location", "image_state", "owner_project_name",
    "owner_user_name", "boot_roles",
}


def _parse(arg: Any) -> tuple[str, dict[str, str]]:
    if not isinstance(arg, dict) or not isinstance(arg.get("name"), str):
        raise exc.BadRequest("Invalid input for field/attribute createImage: "
                             "'name' is a required property")
    name = arg["name"]
    if not name.strip() or len(name) > 255:
        raise exc.BadRequest("Invalid input for field/attribute name: 1-255 characters, "
                             "not only spaces, expected.")
    meta = arg.get("metadata", {})
    if not isinstance(meta, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 255 and len(v) <= 255
            for k, v in meta.items()):
        raise exc.BadRequest("Invalid input for field/attribute metadata: a map of strings "
                             "(keys 1-255, values 0-255 characters) expected.")
    return name, meta


def image_body(inst: Instance, ctx: RequestContext, name: str,
               metadata: dict[str, str]) -> dict[str, Any]:
    """The new image: the base image's formats and custom properties, Nova's
    snapshot properties, then the user's metadata."""
    base = inst.system_metadata or {}
    inherited = {k: str(v) for k, v in base.items() if k not in NOT_INHERITED}
    return {
        "name": name, "visibility": "private",
        "disk_format": base.get("disk_format") or "qcow2",
        "container_format": base.get("container_format") or "bare",
        "min_ram": int(base.get("min_ram") or 0),
        "min_disk": max(int(base.get("min_disk") or 0), int((inst.flavor or {}).get("disk") or 0)),
        **inherited,
        "instance_uuid": inst.id, "user_id": ctx.user_id, "image_type": "snapshot",
        "base_image_ref": inst.image_ref,
        **metadata,
    }


async def create_image(request: Request, ctx: RequestContext, inst: Instance,
                       arg: Any) -> Response:
    svc = api(request)
    svc.policy.enforce(ctx, "os_compute_api:servers:create_image",
                       {"project_id": inst.project_id})
    name, metadata = _parse(arg)
    if not inst.image_ref:
        raise exc.Conflict("Snapshots of servers booted from volume are not supported here.")
    if inst.vm_state not in SNAPSHOT_STATES or inst.task_state:
        raise exc.Conflict(f"Cannot 'createImage' instance {inst.id} while it is in "
                           f"vm_state {inst.vm_state}"
                           + (f" task_state {inst.task_state}" if inst.task_state else ""))
    image = await svc.images.create(ctx, **image_body(inst, ctx, name, metadata))
    try:
        await svc.on_host(ctx, inst, "createImage", "image_snapshot",
                          lambda c: c.snapshot_instance(ctx, inst.id, image["id"]),
                          SNAPSHOT_STATES)
    except BaseException:
        with contextlib.suppress(exc.NotFound):
            await svc.images.delete(ctx, image["id"])
        raise
    if at_least(version(request), "2.45"):
        return JSONResponse({"image_id": image["id"]}, status_code=202)
    return Response(status_code=202, headers={"Location": svc.images.location(image["id"])})
