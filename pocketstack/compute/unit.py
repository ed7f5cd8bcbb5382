"""The compute service unit: the API, one scheduler, one conductor and the
compute agents (N fake hosts `fake-1`... with the fake driver, else this host),
each a separate RPC server on `runtime.rpc`, sharing one database."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pocketstack.compute import virt
from pocketstack.compute.agent.manager import ComputeAgent
from pocketstack.compute.api.app import build_app
from pocketstack.compute.api.policy import RULES
from pocketstack.compute.api.service import ComputeAPI
from pocketstack.compute.conductor.manager import ConductorManager
from pocketstack.compute.conductor.messages import ConductorClient
from pocketstack.compute.fleet import FakeFleet
from pocketstack.compute.remote.placement import FakePlacement, RestPlacementAPI
from pocketstack.compute.scheduler.host_state import HostStates
from pocketstack.compute.scheduler.manager import SchedulerManager
from pocketstack.compute.store import Store
from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.core.runner import PeriodicTask, ServiceRunner
from pocketstack.core.tracing import OtlpExporter, Span, SpanBuffer, Tracer
from pocketstack.image.client import ImageClient
from pocketstack.image.fake_client import FakeImageClient
from pocketstack.network.client import NetworkClient
from pocketstack.network.fake_client import FakeNetworkClient
from pocketstack.runtime import BootstrapInfo, Runtime
from pocketstack.services import SERVICES
from pocketstack.volume.client import VolumeClient
from pocketstack.volume.fake_client import FakeVolumeClient

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
STOP_TIMEOUT = 5.0  # seconds an RPC server gets to finish its requests
CIRROS_ID = "6e1d5f2a-3c4b-4f5e-9a8b-0c1d2e3f4a5b"


@dataclass
class Remotes:
    """The other services, as compute reaches them."""

    images: Any
    network: Any
    volumes: Any
    placement: Any


def remotes_for(runtime: Runtime) -> Remotes:
    """REST clients for the services this build has; stateful fakes for the others."""
    have = {s.name for s in SERVICES}

    def url(name: str) -> str:
        return runtime.url(name)

    network = NetworkClient(runtime.http, url("network")) if "network" in have else (
        FakeNetworkClient())
    if isinstance(network, FakeNetworkClient):
        network.add_network("private", "10.0.0.0/26", shared=True)
    return Remotes(
        images=ImageClient(runtime.http, url("image")) if "image" in have else FakeImageClient(
            [{"id": CIRROS_ID, "name": "cirros", "status": "active", "size": 21430272,
              "disk_format": "qcow2", "container_format": "bare"}]),
        network=network,
        volumes=VolumeClient(runtime.http, url("volume")) if "volume" in have else (
            FakeVolumeClient()),
        placement=RestPlacementAPI(runtime.http, url("placement"), lambda: service_token(
            runtime)) if "placement" in have else FakePlacement())


async def service_token(runtime: Runtime) -> str:
    return await runtime.validator.service_token()


@dataclass
class ComputeUnit:
    runtime: Runtime
    remotes: Remotes
    agents: dict[str, ComputeAgent] = field(default_factory=dict)
    runners: list[ServiceRunner] = field(default_factory=list)
    tasks: list[asyncio.Task] = field(default_factory=list)
    fleet: FakeFleet | None = None

    def __post_init__(self) -> None:
        cfg = self.runtime.config
        self.db = Database(cfg.database_for("compute"), MIGRATIONS)
        self.store = Store(self.db, down_time=cfg.rpc.service_down_time)
        # A compute host without the database hands its spans to the conductor.
        writers = [self.store.save_spans if set(cfg.compute.roles) - {"agent"}
                   else self._spans_to_conductor]
        if cfg.tracing.otlp_url:
            writers.append(OtlpExporter(cfg.tracing.otlp_url))
        self.spans = SpanBuffer(writers, cfg.tracing.flush_interval)
        self.api = ComputeAPI(
            self.store, Enforcer(RULES, cfg.policy_file), self.runtime.rpc,
            Tracer("compute-api", self.spans.add), cfg.compute, self.remotes.images,
            self.remotes.network, self.remotes.volumes, self.remotes.placement,
            self.service_up)
        self.app_inner, self.app = build_app(self.api, self._validate, self.api.tracer)

    async def _spans_to_conductor(self, spans: list[Span]) -> None:
        await ConductorClient(self.runtime.rpc).save_spans(
            RequestContext.admin(), [dataclasses.asdict(s) for s in spans])

    async def _validate(self, token: str) -> Any:
        return await self.runtime.validator.validate(token)

    def hosts(self) -> list[str]:
        cfg = self.runtime.config.compute
        if cfg.driver == "fake":
            return [f"fake-{i}" for i in range(1, cfg.fake_hosts + 1)]
        return [socket.gethostname()]

    async def start(self) -> None:
        roles = set(self.runtime.config.compute.roles)
        if roles - {"agent"}:  # only the agents do without the database
            await self.db.start()
        else:
            self.app = None
        self.tasks.append(asyncio.create_task(self.spans.run()))
        if "scheduler" in roles:
            await self._start_scheduler()
        if "conductor" in roles:
            await self._start_conductor()
        if "agent" not in roles:
            return
        fake = self.runtime.config.compute.driver == "fake"
        for host in self.hosts():
            await self._start_agent(host, own_timers=not fake)
        if fake:  # one timer for every fake host of this process
            cfg = self.runtime.config
            self.fleet = FakeFleet(list(self.agents.values()), ConductorClient(self.runtime.rpc),
                                   self.remotes.placement,
                                   report_interval=cfg.rpc.report_interval,
                                   power_sync_interval=cfg.compute.power_sync_interval)
            await self.fleet.start()

    def _runner(self, binary: str, host: str, topic: str, manager: object,
                periodic: list[PeriodicTask], records: bool = True) -> ServiceRunner:
        rc = self.runtime.config.rpc
        runner = ServiceRunner(self.runtime.rpc, binary=binary, host=host, topic=topic,
                               manager=manager, records=self.store.records if records else None,
                               periodic=periodic, report_interval=rc.report_interval)
        self.runners.append(runner)
        return runner

    async def _start_scheduler(self) -> None:
        c = self.runtime.config.compute
        states = HostStates(cpu_ratio=c.cpu_allocation_ratio, ram_ratio=c.ram_allocation_ratio,
                            disk_ratio=c.disk_allocation_ratio,
                            down_after=self.runtime.config.rpc.service_down_time,
                            default_zone=c.default_availability_zone)
        self.scheduler = SchedulerManager(self.store, states, self.remotes.placement,
                                          self.runtime.rpc, Tracer("scheduler", self.spans.add),
                                          c)
        await self.scheduler.load()
        # The runner's server also receives the topic's fanout (core/rpc/transport.py).
        await self._runner("nova-scheduler", socket.gethostname(), "scheduler",
                           self.scheduler, []).start()

    async def _start_conductor(self) -> None:
        c = self.runtime.config.compute
        conductor = ConductorManager(self.store, self.runtime.rpc, self.remotes.placement,
                                     self.remotes.network, self.remotes.volumes,
                                     Tracer("conductor", self.spans.add), c,
                                     lambda: service_token(self.runtime))
        interval = max(min(c.build_timeout / 4, 30.0), 0.2)
        await self._runner("nova-conductor", socket.gethostname(), "conductor", conductor, [
            PeriodicTask("build_timeouts", conductor._check_build_timeouts, interval)]).start()

    async def _start_agent(self, host: str, own_timers: bool = True) -> None:
        cfg = self.runtime.config
        c = cfg.compute
        ratios = {"VCPU": c.cpu_allocation_ratio, "MEMORY_MB": c.ram_allocation_ratio,
                  "DISK_GB": c.disk_allocation_ratio}
        agent = ComputeAgent(host, virt.load(cfg, host), ConductorClient(self.runtime.rpc),
                             self.remotes.images, self.remotes.network, self.remotes.volumes,
                             self.remotes.placement, Tracer("compute-agent", self.spans.add),
                             ratios)
        self.agents[host] = agent
        if not own_timers:  # the fleet reports it
            await self._runner("nova-compute", host, "compute", agent, [],
                               records=False).start()
            return
        await agent._start()
        # An agent never touches the database: its heartbeat goes through the conductor.
        await self._runner("nova-compute", host, "compute", agent, [
            PeriodicTask("heartbeat", agent._heartbeat, cfg.rpc.report_interval),
            PeriodicTask("sync_power_states", agent._sync_power_states, c.power_sync_interval),
        ], records=False).start()

    async def service_up(self, host: str) -> bool:
        records = self.store.records
        return any(records.is_up(r) for r in await records.list(host=host,
                                                                 binary="nova-compute"))

    async def stop(self) -> None:
        if self.fleet is not None:
            await self.fleet.stop()
        for runner in reversed(self.runners):
            try:
                await asyncio.wait_for(runner.stop(), STOP_TIMEOUT)
            except Exception:  # noqa: BLE001 - e.g. a build that never ends
                if runner.server is not None:
                    await runner.server.abort()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(BaseException):
                await task
        await self.db.close()

    async def bootstrap(self, info: BootstrapInfo) -> None:
        if "api" in self.runtime.config.compute.roles:
            await self.api.flavors.create_defaults()


async def build(runtime: Runtime, remotes: Remotes | None = None) -> ComputeUnit:
    return ComputeUnit(runtime, remotes or remotes_for(runtime))
