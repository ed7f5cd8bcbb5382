"""What the scheduler is told over RPC (topic `scheduler`), and its stub."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field

from pocketstack.core import rpc
from pocketstack.core.context import RequestContext


class FlavorSpec(BaseModel):
    id: str
    name: str
    vcpus: int
    ram: int
    disk: int
    ephemeral: int = 0
    swap: int = 0
    extra_specs: dict[str, str] = Field(default_factory=dict)


class GroupSpec(BaseModel):
    id: str
    policy: str  # affinity, anti-affinity, soft-affinity, soft-anti-affinity
    rules: dict[str, Any] = Field(default_factory=dict)
    members: list[str] = Field(default_factory=list)  # instance ids, this request's too


class RequestSpec(BaseModel):
    """What one create request asks of a host (the same for each of its instances)."""

    project_id: str
    user_id: str
    flavor: FlavorSpec
    image: dict[str, Any] = Field(default_factory=dict)  # the image's properties
    availability_zone: str | None = None
    group: GroupSpec | None = None
    hints: dict[str, Any] = Field(default_factory=dict)
    boot_from_volume: bool = False
    force_host: str | None = None

    def resources(self) -> dict[str, int]:
        disk = (0 if self.boot_from_volume else self.flavor.disk) + self.flavor.ephemeral + (
            self.flavor.swap + 1023) // 1024
        wanted = {"VCPU": self.flavor.vcpus, "MEMORY_MB": self.flavor.ram, "DISK_GB": disk}
        return {rc: n for rc, n in wanted.items() if n > 0}


class Selection(BaseModel):
    host: str
    node: str
    provider_id: str


class HostReport(BaseModel):
    """A compute agent's view of its host, sent with its heartbeat."""

    host: str
    node: str
    provider_id: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    hypervisor_type: str
    hypervisor_version: int = 1
    cpu_arch: str = "x86_64"
    host_ip: str = "127.0.0.1"
    disabled: bool = False
    seen_at: float = Field(default_factory=time.time)


class SchedulerClient(rpc.Client):
    topic = "scheduler"

    async def schedule_and_build(self, ctxt: RequestContext, instance_ids: list[str],
                                 spec: RequestSpec) -> None:
        await self.cast(ctxt, "schedule_and_build", instance_ids=instance_ids, spec=spec,
                        sent_at=time.time())

    async def update_host(self, ctxt: RequestContext, report: HostReport) -> None:
        await self.fanout_cast(ctxt, "update_host", report=report)

    async def update_hosts(self, ctxt: RequestContext, reports: list[HostReport],
                           seen: list[str]) -> None:
        await self.fanout_cast(ctxt, "update_hosts", reports=reports, seen=seen,
                               seen_at=time.time())

    async def instance_placed(self, ctxt: RequestContext, instance_id: str, host: str,
                              resources: dict[str, int]) -> None:
        await self.fanout_cast(ctxt, "instance_placed", instance_id=instance_id, host=host,
                               resources=resources)

    async def instance_removed(self, ctxt: RequestContext, instance_id: str,
                               failed_build: bool = False) -> None:
        await self.fanout_cast(ctxt, "instance_removed", instance_id=instance_id,
                               failed_build=failed_build)

    async def build_succeeded(self, ctxt: RequestContext, host: str) -> None:
        await self.fanout_cast(ctxt, "build_succeeded", host=host)

    async def reload(self, ctxt: RequestContext) -> None:
        """Re-read what changes rarely (aggregates, disabled services) from the database."""
        await self.fanout_cast(ctxt, "reload")
