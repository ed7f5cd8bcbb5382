"""RPC between volume-api, volume-scheduler and volume-manager: the typed
messages and the stubs that send them.

    volume-api --cast create_volume--> volume-scheduler (topic `volume-scheduler`)
    volume-scheduler --cast create_volume--> volume-manager (topic `volume.<host>`)
    volume-api --cast/call--> volume-manager: delete, extend, snapshots, attachments
    volume-manager --fanout update_capacity--> every volume-scheduler

A manager's RPC server name is its backend host (`host@backend`) with `@`
written as `:` (RPC server names allow no `@`); see `manager_server`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pocketstack.core.context import RequestContext

SCHEDULER_TOPIC = "volume-scheduler"
MANAGER_TOPIC = "volume"


def backend_host(host: str) -> str:
    """`host@backend` of a volume's `host@backend#pool`."""
    return host.partition("#")[0]


def manager_server(host: str) -> str:
    return backend_host(host).replace("@", ":")


class VolumeTypeInfo(BaseModel):
    id: str
    name: str
    extra_specs: dict[str, str] = Field(default_factory=dict)


class ScheduleRequest(BaseModel):
    """Where to create a volume: the scheduler picks a backend host for it."""

    volume_id: str
    size: int
    volume_type: VolumeTypeInfo
    availability_zone: str | None = None
    snapshot_id: str | None = None
    source_volid: str | None = None
    image_id: str | None = None
    host: str | None = None  # must land on this host@backend (clones, snapshots)


class CapacityReport(BaseModel):
    """What a volume manager tells the schedulers about its backend."""

    host: str  # host@backend
    pool: str
    availability_zone: str
    backend_name: str
    kind: str
    total_gb: float
    free_gb: float
    allocated_gb: float
    thin: bool
    max_over_subscription_ratio: float
    reserved_percentage: float
    capabilities: dict[str, Any] = Field(default_factory=dict)


class SchedulerClient:
    def __init__(self, rpc: Any):
        self.rpc = rpc

    async def create_volume(self, ctxt: RequestContext, request: ScheduleRequest) -> None:
        await self.rpc.cast(ctxt, SCHEDULER_TOPIC, "create_volume", request=request)

    async def update_capacity(self, ctxt: RequestContext, report: CapacityReport) -> None:
        await self.rpc.fanout_cast(ctxt, SCHEDULER_TOPIC, "update_capacity", report=report)


class ManagerClient:
    """Stubs for the volume manager of one backend host."""

    def __init__(self, rpc: Any, timeout: float = 60.0):
        self.rpc = rpc
        self.timeout = timeout

    def _target(self, host: str) -> str:
        return f"{MANAGER_TOPIC}.{manager_server(host)}"

    async def create_volume(self, ctxt: RequestContext, host: str,
                            request: ScheduleRequest) -> None:
        await self.rpc.cast(ctxt, self._target(host), "create_volume", host=host,
                            request=request)

    async def delete_volume(self, ctxt: RequestContext, host: str, volume_id: str) -> None:
        await self.rpc.cast(ctxt, self._target(host), "delete_volume", volume_id=volume_id)

    async def extend_volume(self, ctxt: RequestContext, host: str, volume_id: str,
                            new_size: int) -> None:
        await self.rpc.cast(ctxt, self._target(host), "extend_volume", volume_id=volume_id,
                            new_size=new_size)

    async def create_snapshot(self, ctxt: RequestContext, host: str, snapshot_id: str) -> None:
        await self.rpc.cast(ctxt, self._target(host), "create_snapshot",
                            snapshot_id=snapshot_id)

    async def delete_snapshot(self, ctxt: RequestContext, host: str, snapshot_id: str) -> None:
        await self.rpc.cast(ctxt, self._target(host), "delete_snapshot",
                            snapshot_id=snapshot_id)

    async def revert_to_snapshot(self, ctxt: RequestContext, host: str, volume_id: str,
                                 snapshot_id: str) -> None:
        await self.rpc.cast(ctxt, self._target(host), "revert_to_snapshot",
                            volume_id=volume_id, snapshot_id=snapshot_id)

    async def upload_to_image(self, ctxt: RequestContext, host: str, volume_id: str,
                              image_id: str, disk_format: str) -> None:
        await self.rpc.cast(ctxt, self._target(host), "upload_to_image", volume_id=volume_id,
                            image_id=image_id, disk_format=disk_format)

    async def attachment_update(self, ctxt: RequestContext, host: str, attachment_id: str,
                                connector: dict[str, Any]) -> dict[str, Any]:
        return await self.rpc.call(ctxt, self._target(host), "attachment_update",
                                   timeout=self.timeout, returns=dict[str, Any],
                                   attachment_id=attachment_id, connector=connector)

    async def attachment_complete(self, ctxt: RequestContext, host: str,
                                  attachment_id: str) -> None:
        await self.rpc.call(ctxt, self._target(host), "attachment_complete",
                            timeout=self.timeout, attachment_id=attachment_id)

    async def attachment_delete(self, ctxt: RequestContext, host: str,
                                attachment_id: str) -> None:
        await self.rpc.call(ctxt, self._target(host), "attachment_delete",
                            timeout=self.timeout, attachment_id=attachment_id)
