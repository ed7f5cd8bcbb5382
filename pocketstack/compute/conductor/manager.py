"""The conductor's RPC API (topic `conductor`): the compute agents' only way to
the database (steps 14-18), reschedules of failed builds, heartbeats, and the
periodic check that no build outlives `build_timeout`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pocketstack.compute import cleanup
from pocketstack.compute.agent.messages import BuildRequest, ComputeClient
from pocketstack.compute.conductor.messages import Bdm, InstanceInfo, Vif
from pocketstack.compute.remote.placement import PlacementAPI
from pocketstack.compute.scheduler.messages import FlavorSpec, HostReport, SchedulerClient
from pocketstack.compute.store import Store, now
from pocketstack.config import ComputeConfig
from pocketstack.core.context import RequestContext
from pocketstack.core.rpc import RPC
from pocketstack.core.tracing import Span, Tracer
from pocketstack.network.client import NetworkClient
from pocketstack.volume.client import VolumeClient

log = logging.getLogger(__name__)
BUILD_EVENT = "compute__do_build_and_run_instance"


class ConductorManager:
    def __init__(self, store: Store, rpc: RPC, placement: PlacementAPI,
                 network: NetworkClient, volumes: VolumeClient, tracer: Tracer,
                 settings: ComputeConfig,
                 service_token: Callable[[], Awaitable[str]]):
        self.store, self.placement = store, placement
        self.network, self.volumes = network, volumes
        self.scheduler, self.compute = SchedulerClient(rpc), ComputeClient(rpc)
        self.tracer, self.settings, self.service_token = tracer, settings, service_token
        self._seen: dict[str, datetime] = {}

    # -- steps 14-18: the instance as the agent needs it ------------------------------

    async def get_instance(self, ctxt: RequestContext, instance_id: str) -> InstanceInfo:
        inst, bdms = await self.store.instance_and_bdms(instance_id)
        spec = inst.request_spec or {}
        return InstanceInfo(
            id=inst.id, name=inst.name, hostname=inst.hostname, project_id=inst.project_id,
            user_id=inst.user_id, vm_state=inst.vm_state, task_state=inst.task_state,
            power_state=inst.power_state, host=inst.host,
            flavor=FlavorSpec.model_validate(inst.flavor), image_ref=inst.image_ref,
            key_data=inst.key_data, key_name=inst.key_name, user_data=inst.user_data,
            config_drive=inst.config_drive == "True", metadata=inst.metadata_ or {},
            availability_zone=inst.availability_zone, launch_index=inst.launch_index or 0,
            security_group_ids=list(spec.get("security_group_ids") or []),
            requested_networks=spec.get("networks", []),
            network_info=[Vif.model_validate(v) for v in inst.network_info or []],
            bdms=[Bdm.model_validate(b, from_attributes=True) for b in bdms])

    async def progress(self, ctxt: RequestContext, instance_id: str, task_state: str,
                       network_info: list[Vif] | None = None,
                       bdms: list[Bdm] | None = None) -> bool:
        values: dict[str, Any] = {"task_state": task_state}
        if network_info is not None:
            values["network_info"] = [v.model_dump() for v in network_info]
        if not await self.store.update(instance_id, values, expect_vm_state="building"):
            return False
        if bdms:
            await self.store.save_bdms(instance_id, [b.model_dump() for b in bdms])
        return True

    # -- the end of a build --------------------------------------------------------------

    async def build_succeeded(self, ctxt: RequestContext, request: BuildRequest,
                              power_state: int) -> bool:
        ok = await self.store.finish_build(request.instance_id, ctxt.request_id, {
            "vm_state": "active", "task_state": None, "power_state": power_state,
            "launched_at": now()}, BUILD_EVENT, request.host)
        if ok:
            await self.scheduler.build_succeeded(ctxt, request.host)
        return ok

    async def build_failed(self, ctxt: RequestContext, request: BuildRequest,
                           reason: str) -> None:
        """Reschedule to the next alternate that takes the claim, or set ERROR."""
        iid = request.instance_id
        await self.store.event(iid, ctxt.request_id, BUILD_EVENT, False, now(),
                               host=request.host, traceback=reason)
        await self.scheduler.instance_removed(ctxt, iid, failed_build=True)
        await self._forget_build_progress(iid)
        if request.attempt < self.settings.max_attempts:
            with self.tracer.span("reschedule to an alternate host", "10",
                                  failed_host=request.host, reason=reason[:200]):
                if await self._reschedule(ctxt, request):
                    return
        await self.placement.release(iid)
        await self.store.set_error(iid, reason, details=f"{reason} (attempt "
                                   f"{request.attempt} of {self.settings.max_attempts}, "
                                   f"last host {request.host})", host=request.host,
                                   values={"network_info": []})

    async def _reschedule(self, ctxt: RequestContext, request: BuildRequest) -> bool:
        spec, resources = request.spec, request.spec.resources()
        for i, alt in enumerate(request.alternates):
            if not await self.placement.claim(request.instance_id, alt.provider_id, resources,
                                              spec.project_id, spec.user_id, replace=True):
                continue
            moved = await self.store.update(request.instance_id, {
                "host": alt.host, "node": alt.node, "task_state": "scheduling"},
                expect_vm_state="building")
            if not moved:
                await self.placement.release(request.instance_id)
                return True  # deleted meanwhile: nothing more to do
            await self.scheduler.instance_placed(ctxt, request.instance_id, alt.host, resources)
            await self.compute.prepare(server=alt.host).build_and_run_instance(
                ctxt, request.model_copy(update={
                    "host": alt.host, "node": alt.node, "provider_id": alt.provider_id,
                    "attempt": request.attempt + 1,
                    "alternates": request.alternates[i + 1:]}))
            return True
        return False

    async def _forget_build_progress(self, instance_id: str) -> None:
        """The failed host undid its ports and volumes: forget their ids."""
        bdms = await self.store.bdms(instance_id)
        reset = []
        for b in bdms:
            made = b.source_type in ("image", "blank")
            reset.append({"id": b.id, "attachment_id": None,
                          **({"volume_id": None} if made else {})})
        await self.store.save_bdms(instance_id, reset)
        await self.store.update(instance_id, {"network_info": []})

    # -- after builds -----------------------------------------------------------------------

    async def instance_update(self, ctxt: RequestContext, instance_id: str,
                              values: dict[str, Any], event: str | None = None,
                              ok: bool = True, message: str | None = None) -> None:
        allowed = {"vm_state", "task_state", "power_state"}
        await self.store.update(instance_id, {k: v for k, v in values.items() if k in allowed})
        if event:
            await self.store.event(instance_id, ctxt.request_id, event, ok, now(),
                                   traceback=message)

    async def save_interfaces(self, ctxt: RequestContext, instance_id: str,
                              network_info: list[Vif]) -> None:
        await self.store.update(instance_id,
                                {"network_info": [v.model_dump() for v in network_info]})

    async def save_bdm(self, ctxt: RequestContext, instance_id: str, bdm: Bdm) -> None:
        await self.store.save_bdms(instance_id, [bdm.model_dump()])

    async def delete_bdm(self, ctxt: RequestContext, bdm_id: str) -> None:
        await self.store.delete_bdm(bdm_id)

    async def instance_destroyed(self, ctxt: RequestContext, instance_id: str) -> None:
        await self.placement.release(instance_id)
        await self.store.mark_deleted(instance_id)
        await self.scheduler.instance_removed(ctxt, instance_id)

    # -- hosts --------------------------------------------------------------------------------

    async def report_host(self, ctxt: RequestContext, report: HostReport) -> None:
        records = self.store.records
        if not await records.heartbeat(report.host, "nova-compute"):
            await records.register(report.host, "nova-compute", "compute")
        await self.store.save_node(report)
        await self.scheduler.update_host(ctxt, report)

    async def save_spans(self, ctxt: RequestContext, spans: list[dict[str, Any]]) -> None:
        await self.store.save_spans([Span(**s) for s in spans])

    async def report_hosts(self, ctxt: RequestContext, reports: list[HostReport],
                           alive: list[str]) -> None:
        """`report_host` for a process of many fake hosts: one transaction each for
        the heartbeats and the changed compute nodes, one message to the schedulers."""
        await self.store.records.heartbeat_many(alive, "nova-compute", "compute")
        if reports:
            await self.store.save_nodes(reports)
        await self.scheduler.update_hosts(ctxt, reports, alive)

    async def sync_power_states(self, ctxt: RequestContext, host: str,
                                states: dict[str, int]) -> None:
        """The driver is the truth for power: record it; an ACTIVE instance found
        shut off becomes STOPPED, as Nova does."""
        for inst in await self.store.on_host(host):
            if inst.vm_state == "building" or inst.task_state is not None:
                continue
            state = states.get(inst.id, 0)
            values: dict[str, Any] = {}
            if state != inst.power_state:
                values["power_state"] = state
            if inst.vm_state == "active" and state in (0, 4):
                values["vm_state"] = "stopped"
            if values:
                await self.store.update(inst.id, values)

    # -- build timeouts ---------------------------------------------------------------------------

    async def _check_build_timeouts(self, ctxt: RequestContext) -> int:
        """Builds older than build_timeout go to ERROR and release what they held."""
        timeout = self.settings.build_timeout
        if timeout <= 0:
            return 0
        stuck = await self.store.building_since(now() - timedelta(seconds=timeout))
        ctx = RequestContext.admin(auth_token=await self.service_token()) if stuck else None
        for inst in stuck:
            message = (f"Build of instance {inst.id} aborted: it did not become ACTIVE "
                       f"within build_timeout ({timeout} s)"
                       + (f" on host {inst.host}; the compute agent may have died."
                          if inst.host else "."))
            if not await self.store.set_error(inst.id, message, host=inst.host):
                continue
            bdms = await self.store.bdms(inst.id)
            await cleanup.release_all(inst, bdms, ctx, self.network, self.volumes,
                                      self.placement, deleting=False)
            await self.store.update(inst.id, {"network_info": []})
            await self.scheduler.instance_removed(RequestContext.admin(), inst.id,
                                                  failed_build=True)
        return len(stuck)
