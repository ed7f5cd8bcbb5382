"""The scheduler's RPC API (topic `scheduler`): steps 9-12 of the launch.

For each instance of a request: filter the hosts, weigh those left (both in
selection.py, which looks at a sample rather than every host), then
claim on the best one in placement (the claim is an allocation; when
placement refuses it, capacity or a concurrent writer, the next host is
tried); record the host on the instance and cast the build to
`compute.<host>` with the next-best hosts as alternates for reschedules.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection

from pocketstack.compute.agent.messages import BuildRequest, ComputeClient
from pocketstack.compute.remote.placement import PlacementAPI
from pocketstack.compute.scheduler.filters import FILTERS, Filter
from pocketstack.compute.scheduler.host_state import Aggregate, HostState, HostStates
from pocketstack.compute.scheduler.messages import HostReport, RequestSpec, Selection
from pocketstack.compute.scheduler.selection import NoValidHost, Selector
from pocketstack.compute.scheduler.weighers import WEIGHERS, Weigher
from pocketstack.compute.store import Store
from pocketstack.config import ComputeConfig
from pocketstack.core.context import RequestContext
from pocketstack.core.rpc import RPC
from pocketstack.core.tracing import Tracer

log = logging.getLogger(__name__)


class SchedulerManager:
    def __init__(self, store: Store, states: HostStates, placement: PlacementAPI, rpc: RPC,
                 tracer: Tracer, settings: ComputeConfig):
        self.store, self.states, self.placement = store, states, placement
        self.compute = ComputeClient(rpc)
        self.tracer, self.settings = tracer, settings
        self.filters: list[Filter] = [FILTERS[n](states) for n in settings.scheduler_filters]
        self.weighers: list[tuple[Weigher, float]] = [
            (WEIGHERS[n](), settings.weigher_multipliers.get(n, 1.0))
            for n in settings.scheduler_weighers]
        self.selector = Selector(states, self.filters, self.weighers,
                                 settings.scheduler_hosts_to_weigh)

    async def load(self) -> None:
        """Build the host states from the database (once, at start)."""
        for node in await self.store.nodes():
            self.states.update(HostReport(
                host=node.host, node=node.hypervisor_hostname, provider_id=node.id,
                vcpus=node.vcpus, memory_mb=node.memory_mb, disk_gb=node.local_gb,
                hypervisor_type=node.hypervisor_type, cpu_arch=node.cpu_arch, seen_at=0.0))
        await self.reload(RequestContext.admin())
        for instance_id, host, _flavor, spec in await self.store.live_on_hosts():
            resources = RequestSpec.model_validate(spec).resources() if spec else {}
            self.states.placed(instance_id, host, resources)

    # -- RPC API ---------------------------------------------------------------------

    async def schedule_and_build(self, ctxt: RequestContext, instance_ids: list[str],
                                 spec: RequestSpec, sent_at: float) -> None:
        self.tracer.record("scheduler takes the request from its queue", "9", sent_at,
                           time.time(), instances=len(instance_ids))
        for instance_id in instance_ids:
            try:
                await self._schedule_one(ctxt, instance_id, spec)
            except Exception as err:  # noqa: BLE001 - one instance's failure is its own
                log.exception("scheduling %s failed", instance_id)
                await self.store.set_error(instance_id, f"Scheduling failed: {err}")

    async def update_host(self, ctxt: RequestContext, report: HostReport) -> None:
        self.states.update(report)

    async def update_hosts(self, ctxt: RequestContext, reports: list[HostReport],
                           seen: list[str], seen_at: float) -> None:
        for report in reports:
            self.states.update(report)
        self.states.seen(seen, seen_at)

    async def instance_placed(self, ctxt: RequestContext, instance_id: str, host: str,
                              resources: dict[str, int]) -> None:
        self.states.placed(instance_id, host, resources)

    async def instance_removed(self, ctxt: RequestContext, instance_id: str,
                               failed_build: bool = False) -> None:
        host = self.states.removed(instance_id)
        if failed_build and host:
            self.states.build_result(host, ok=False)

    async def build_succeeded(self, ctxt: RequestContext, host: str) -> None:
        self.states.build_result(host, ok=True)

    async def reload(self, ctxt: RequestContext) -> None:
        aggregates = await self.store.aggregates()
        self.states.set_aggregates([
            (Aggregate(a.name, a.availability_zone, dict(a.metadata_ or {})), list(a.hosts))
            for a in aggregates])
        services = await self.store.records.list(binary="nova-compute")
        self.states.set_disabled({s.host: s.disabled for s in services})

    # -- the steps -------------------------------------------------------------------

    async def _schedule_one(self, ctxt: RequestContext, instance_id: str,
                            spec: RequestSpec) -> None:
        resources = spec.resources()
        with self.tracer.span("filter, weigh and claim", "10", instance=instance_id) as span:
            refused: set[str] = set()  # hosts whose claim placement refused
            chosen = None
            while chosen is None:
                try:
                    ranked = self.select(spec, refused)
                except NoValidHost as err:
                    span.attributes["result"] = "no valid host"
                    await self.store.set_error(
                        instance_id, "No valid host was found. " + str(err), details=str(err))
                    return
                chosen, alternates = await self._claim(ctxt, instance_id, spec, ranked,
                                                       resources)
                refused.update(h.host for h in ranked)
            span.attributes["host"] = chosen.host
        with self.tracer.span("record the host on the instance", "11", host=chosen.host):
            recorded = await self.store.update(
                instance_id, {"host": chosen.host, "node": chosen.node,
                              "availability_zone": chosen.availability_zone},
                expect_vm_state="building")
        if not recorded:  # deleted while we scheduled it
            self.states.removed(instance_id)
            await self.placement.release(instance_id)
            return
        with self.tracer.span("send the build to compute." + chosen.host, "12"):
            await self.compute.prepare(server=chosen.host).build_and_run_instance(
                ctxt, BuildRequest(
                    instance_id=instance_id, host=chosen.host, node=chosen.node,
                    provider_id=chosen.provider_id, spec=spec, alternates=alternates))

    def select(self, spec: RequestSpec, exclude: Collection[str] = ()) -> list[HostState]:
        """The hosts that pass every filter, best first; NoValidHost says who removed what."""
        return self.selector.select(spec, exclude)

    async def _claim(self, ctxt: RequestContext, instance_id: str, spec: RequestSpec,
                     ranked: list[HostState], resources: dict[str, int],
                     ) -> tuple[HostState | None, list[Selection]]:
        for i, host in enumerate(ranked):
            self.states.placed(instance_id, host.host, resources)  # before any await
            if await self.placement.claim(instance_id, host.provider_id, resources,
                                          spec.project_id, spec.user_id):
                rest = ranked[i + 1:i + self.settings.max_attempts]
                return host, [Selection(host=h.host, node=h.node, provider_id=h.provider_id)
                              for h in rest]
            self.states.removed(instance_id)
        return None, []
