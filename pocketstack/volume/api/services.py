"""/v3/{project_id}/os-services (admin): the cinder-scheduler and cinder-volume
processes and whether each is up (`openstack volume service list`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from pocketstack.volume import schemas
from pocketstack.volume.api.common import enforce

router = APIRouter()


@router.get("/v3/os-services")
async def index(request: Request) -> dict[str, Any]:
    enforce(request, "volume_extension:services:index")
    records = request.app.state.records
    q = request.query_params
    found = await records.list(binary=q.get("binary"))
    zone = sorted(request.app.state.zones())[0]
    services = []
    for r in found:
        host = r.host.replace(":", "@") if r.binary == "cinder-volume" else r.host
        if q.get("host") and q["host"] not in (host, r.host):
            continue
        services.append({
            "binary": r.binary, "host": host, "zone": zone,
            "status": "disabled" if r.disabled else "enabled",
            "state": "up" if records.is_up(r) else "down",
            "updated_at": schemas.iso(r.last_seen_up or r.updated_at),
            "disabled_reason": r.disabled_reason, "cluster": None,
            "replication_status": "disabled", "active_backend_id": None, "frozen": False,
        })
    return {"services": services}
