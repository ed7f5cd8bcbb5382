"""What a compute agent is told over RPC (topic `compute.<host>`), and its stub."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field

from pocketstack.compute.scheduler.messages import RequestSpec, Selection
from pocketstack.core import rpc
from pocketstack.core.context import RequestContext


class BuildRequest(BaseModel):
    instance_id: str
    host: str
    node: str
    provider_id: str
    spec: RequestSpec
    attempt: int = 1
    alternates: list[Selection] = Field(default_factory=list)
    sent_at: float = Field(default_factory=time.time)


class ComputeClient(rpc.Client):
    topic = "compute"

    async def build_and_run_instance(self, ctxt: RequestContext, request: BuildRequest) -> None:
        request.sent_at = time.time()
        await self.cast(ctxt, "build_and_run_instance", request=request)

    async def terminate_instance(self, ctxt: RequestContext, instance_id: str) -> None:
        await self.cast(ctxt, "terminate_instance", instance_id=instance_id)

    async def reboot_instance(self, ctxt: RequestContext, instance_id: str, hard: bool) -> None:
        await self.cast(ctxt, "reboot_instance", instance_id=instance_id, hard=hard)

    async def stop_instance(self, ctxt: RequestContext, instance_id: str) -> None:
        await self.cast(ctxt, "stop_instance", instance_id=instance_id)

    async def start_instance(self, ctxt: RequestContext, instance_id: str) -> None:
        await self.cast(ctxt, "start_instance", instance_id=instance_id)

    async def snapshot_instance(self, ctxt: RequestContext, instance_id: str,
                                image_id: str) -> None:
        await self.cast(ctxt, "snapshot_instance", instance_id=instance_id, image_id=image_id)

    async def get_console_output(self, ctxt: RequestContext, instance_id: str) -> str:
        return await self.call(ctxt, "get_console_output", instance_id=instance_id,
                               returns=str)

    async def attach_volume(self, ctxt: RequestContext, instance_id: str, volume_id: str,
                            device: str, bdm_id: str, delete_on_termination: bool,
                            tag: str | None) -> dict[str, Any]:
        return await self.call(ctxt, "attach_volume", instance_id=instance_id,
                               volume_id=volume_id, device=device, bdm_id=bdm_id,
                               delete_on_termination=delete_on_termination, tag=tag,
                               returns=dict[str, Any])

    async def detach_volume(self, ctxt: RequestContext, instance_id: str,
                            volume_id: str) -> None:
        await self.call(ctxt, "detach_volume", instance_id=instance_id, volume_id=volume_id)

    async def attach_interface(self, ctxt: RequestContext, instance_id: str,
                               network_id: str | None, port_id: str | None,
                               fixed_ip: str | None) -> dict[str, Any]:
        return await self.call(ctxt, "attach_interface", instance_id=instance_id,
                               network_id=network_id, port_id=port_id, fixed_ip=fixed_ip,
                               returns=dict[str, Any])

    async def detach_interface(self, ctxt: RequestContext, instance_id: str,
                               port_id: str) -> None:
        await self.call(ctxt, "detach_interface", instance_id=instance_id, port_id=port_id)
