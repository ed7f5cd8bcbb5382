"""What the conductor is told over RPC (topic `conductor`), and its stub."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pocketstack.compute.agent.messages import BuildRequest
from pocketstack.compute.scheduler.messages import FlavorSpec, HostReport
from pocketstack.core import rpc
from pocketstack.core.context import RequestContext


class NetworkRequest(BaseModel):
    """One entry of a create request's `networks`."""

    network_id: str | None = None
    port_id: str | None = None
    fixed_ip: str | None = None
    tag: str | None = None
    network_name: str | None = None  # known to the API already: the agent need not ask
    mtu: int | None = None


class Vif(BaseModel):
    """One port of an instance, as its addresses are shown."""

    port_id: str
    network_id: str
    network_name: str
    mac: str
    ips: list[dict[str, Any]]  # {"address", "version", "subnet_id"}
    created: bool = True  # made for this instance (deleted with it) or the user's own
    mtu: int = 1500
    details: dict[str, Any] = Field(default_factory=dict)


class Bdm(BaseModel):
    id: str
    source_type: str
    destination_type: str
    boot_index: int | None = None
    volume_id: str | None = None
    image_id: str | None = None
    volume_size: int | None = None
    device_name: str | None = None
    delete_on_termination: bool = False
    attachment_id: str | None = None
    tag: str | None = None


class InstanceInfo(BaseModel):
    """An instance as an agent needs it to build or run it (steps 14-18)."""

    id: str
    name: str
    hostname: str
    project_id: str
    user_id: str
    vm_state: str
    task_state: str | None
    power_state: int
    host: str | None
    flavor: FlavorSpec
    image_ref: str
    key_data: str | None = None
    key_name: str | None = None
    user_data: str | None = None
    config_drive: bool = False
    availability_zone: str | None = None
    launch_index: int = 0
    metadata: dict[str, str] = Field(default_factory=dict)
    security_group_ids: list[str] = Field(default_factory=list)  # none: the default group
    requested_networks: list[NetworkRequest] | str = Field(default_factory=list)
    network_info: list[Vif] = Field(default_factory=list)
    bdms: list[Bdm] = Field(default_factory=list)


class ConductorClient(rpc.Client):
    topic = "conductor"

    async def get_instance(self, ctxt: RequestContext, instance_id: str) -> InstanceInfo:
        return await self.call(ctxt, "get_instance", instance_id=instance_id,
                               returns=InstanceInfo)

    async def progress(self, ctxt: RequestContext, instance_id: str, task_state: str,
                       network_info: list[Vif] | None = None,
                       bdms: list[Bdm] | None = None) -> bool:
        """Record a build's progress; False when the instance was deleted meanwhile."""
        return await self.call(ctxt, "progress", instance_id=instance_id,
                               task_state=task_state, network_info=network_info, bdms=bdms,
                               returns=bool)

    async def build_succeeded(self, ctxt: RequestContext, request: BuildRequest,
                              power_state: int) -> bool:
        return await self.call(ctxt, "build_succeeded", request=request,
                               power_state=power_state, returns=bool)

    async def build_failed(self, ctxt: RequestContext, request: BuildRequest,
                           reason: str) -> None:
        await self.cast(ctxt, "build_failed", request=request, reason=reason)

    async def instance_update(self, ctxt: RequestContext, instance_id: str,
                              values: dict[str, Any], event: str | None = None,
                              ok: bool = True, message: str | None = None) -> None:
        """Set vm/task/power states after an action; record its event."""
        await self.call(ctxt, "instance_update", instance_id=instance_id, values=values,
                        event=event, ok=ok, message=message)

    async def save_interfaces(self, ctxt: RequestContext, instance_id: str,
                              network_info: list[Vif]) -> None:
        await self.call(ctxt, "save_interfaces", instance_id=instance_id,
                        network_info=network_info)

    async def save_bdm(self, ctxt: RequestContext, instance_id: str, bdm: Bdm) -> None:
        await self.call(ctxt, "save_bdm", instance_id=instance_id, bdm=bdm)

    async def delete_bdm(self, ctxt: RequestContext, bdm_id: str) -> None:
        await self.call(ctxt, "delete_bdm", bdm_id=bdm_id)

    async def instance_destroyed(self, ctxt: RequestContext, instance_id: str) -> None:
        await self.call(ctxt, "instance_destroyed", instance_id=instance_id)

    async def report_host(self, ctxt: RequestContext, report: HostReport) -> None:
        await self.call(ctxt, "report_host", report=report)

    async def report_hosts(self, ctxt: RequestContext, reports: list[HostReport],
                           alive: list[str]) -> None:
        """Many hosts' heartbeats at once: `alive` are up now, `reports` changed."""
        await self.call(ctxt, "report_hosts", reports=reports, alive=alive)

    async def sync_power_states(self, ctxt: RequestContext, host: str,
                                states: dict[str, int]) -> None:
        await self.cast(ctxt, "sync_power_states", host=host, states=states)

    async def save_spans(self, ctxt: RequestContext, spans: list[dict[str, Any]]) -> None:
        """Trace spans of a process without the database (a compute host's agents)."""
        await self.cast(ctxt, "save_spans", spans=spans)
