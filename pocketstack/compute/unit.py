"""The compute service unit: the API, one scheduler, one conductor and the
compute agents (N fake hosts `fake-1`... with the fake driver, else this host),
each a separate RPC server on `runtime.rpc`, sharing one database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pocketstack.compute import virt
from pocketstack.compute.agent.manager import ComputeAgent
from pocketstack.compute.api.app import build_app
from pocketstack.compute.api.policy import RULES
from pocketstack.compute.api.service import ComputeAPI
from pocketstack.compute.conductor.manager import ConductorManager
from pocketstack.compute.conductor.messages import ConductorClient
from pocketstack.compute.models import Service
from pocketstack.compute.remote.image import FakeImageAPI, RestImageAPI
from pocketstack.compute.remote.network import FakeNetworkAPI, RestNetworkAPI
from pocketstack.compute.remote.placement import FakePlacement, RestPlacementAPI
from pocketstack.compute.remote.volume import FakeVolumeAPI, RestVolumeAPI
from pocketstack.compute.scheduler.host_state import HostStates
from pocketstack.compute.scheduler.manager import SchedulerManager
from pocketstack.compute.store import Store, now
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.core.rpc import RPCServer, Target
from pocketstack.core.tracing import OtlpExporter, SpanBuffer, Tracer
from pocketstack.runtime import BootstrapInfo, Runtime
from pocketstack.services import SERVICES

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

    network = RestNetworkAPI(runtime.http, url("network")) if "network" in have else (
        FakeNetworkAPI())
    if isinstance(network, FakeNetworkAPI):
        network.add_network("private", "10.0.0.0/26", shared=True)
    return Remotes(
        images=RestImageAPI(runtime.http, url("image")) if "image" in have else FakeImageAPI(
            [{"id": CIRROS_ID, "name": "cirros", "status": "active", "size": 21430272,
              "disk_format": "qcow2", "container_format": "bare"}]),
        network=network,
        volumes=RestVolumeAPI(runtime.http, url("volume")) if "volume" in have else (
            FakeVolumeAPI()),
        placement=RestPlacementAPI(runtime.http, url("placement"), lambda: service_token(
            runtime)) if "placement" in have else FakePlacement())


async def service_token(runtime: Runtime) -> str:
    return await runtime.validator.service_token()


@dataclass
class ComputeUnit:
    runtime: Runtime
    remotes: Remotes
    app: Any = None
    api: ComputeAPI | None = None
    agents: dict[str, ComputeAgent] = field(default_factory=dict)
    servers: list[RPCServer] = field(default_factory=list)
    tasks: list[asyncio.Task] = field(default_factory=list)

    def __post_init__(self) -> None:
        cfg = self.runtime.config
        self.db = Database(cfg.database_for("compute"), MIGRATIONS)
        self.store = Store(self.db)
        writers = [self.store.save_spans]
        if cfg.tracing.otlp_url:
            writers.append(OtlpExporter(cfg.tracing.otlp_url))
        self.spans = SpanBuffer(writers, cfg.tracing.flush_interval)
        self.tracer = Tracer("compute", self.spans.add)
        self.api = ComputeAPI(
            self.db, Enforcer(RULES, cfg.policy_file), self.runtime.rpc, self.tracer,
            cfg.compute, self.remotes.images, self.remotes.network, self.remotes.volumes,
            self.remotes.placement, self.service_up)
        self.api.down_after = cfg.rpc.service_down_time
        self.app_inner, self.app = build_app(self.api, self._validate, self.tracer)

    async def _validate(self, token: str) -> Any:
        return await self.runtime.validator.validate(token)

    def hosts(self) -> list[str]:
        cfg = self.runtime.config.compute
        if cfg.driver == "fake":
            return [f"fake-{i}" for i in range(1, cfg.fake_hosts + 1)]
        return [socket.gethostname()]

    async def start(self) -> None:
        cfg, rpc = self.runtime.config, self.runtime.rpc
        await self.db.start()
        c = cfg.compute
        token = lambda: service_token(self.runtime)  # noqa: E731
        scheduler = SchedulerManager(
            self.store, HostStates(cpu_ratio=c.cpu_allocation_ratio,
                                   ram_ratio=c.ram_allocation_ratio,
                                   disk_ratio=c.disk_allocation_ratio,
                                   down_after=cfg.rpc.service_down_time,
                                   default_zone=c.default_availability_zone),
            self.remotes.placement, rpc, Tracer("scheduler", self.spans.add), c)
        await scheduler.load()
        self.scheduler = scheduler
        conductor = ConductorManager(self.store, rpc, self.remotes.placement,
                                     self.remotes.network, self.remotes.volumes,
                                     Tracer("conductor", self.spans.add), c, token)
        self.servers += [await rpc.serve(Target("scheduler", server="scheduler"), scheduler),
                         await rpc.serve(Target("scheduler", fanout=True), scheduler),
                         await rpc.serve(Target("conductor", server="conductor"), conductor)]
        self._spawn(self.spans.run(), conductor._run_periodic(), self._heartbeats())
        ratios = {"VCPU": c.cpu_allocation_ratio, "MEMORY_MB": c.ram_allocation_ratio,
                  "DISK_GB": c.disk_allocation_ratio}
        for host in self.hosts():
            agent = ComputeAgent(host, virt.load(cfg, host), ConductorClient(rpc),
                                 self.remotes.images, self.remotes.network,
                                 self.remotes.volumes, self.remotes.placement,
                                 Tracer("compute-agent", self.spans.add), ratios)
            self.agents[host] = agent
            self.servers.append(await rpc.serve(Target("compute", server=host), agent))
            await agent._start()
            self._spawn(agent._run_periodic(cfg.rpc.report_interval, c.power_sync_interval))

    def _spawn(self, *coros: Any) -> None:
        self.tasks += [asyncio.create_task(co) for co in coros]

    async def _heartbeats(self) -> None:
        interval = self.runtime.config.rpc.report_interval
        while True:
            for binary, topic in (("nova-scheduler", "scheduler"),
                                  ("nova-conductor", "conductor")):
                with contextlib.suppress(Exception):
                    await self.store.heartbeat(socket.gethostname(), binary, topic,
                                               "internal")
            await asyncio.sleep(interval)

    async def service_up(self, host: str) -> bool:
        async with self.db.read() as s:
            row = await s.scalar(select(Service).where(Service.host == host,
                                                       Service.binary == "nova-compute"))
        down_after = timedelta(seconds=self.runtime.config.rpc.service_down_time)
        return (row is not None and row.last_seen_up is not None and not row.forced_down
                and now() - row.last_seen_up <= down_after)

    async def stop(self) -> None:
        for server in reversed(self.servers):
            try:
                await asyncio.wait_for(server.stop(), STOP_TIMEOUT)
            except Exception:  # noqa: BLE001 - e.g. a build that never ends
                await server.abort()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(BaseException):
                await task
        await self.db.close()

    async def bootstrap(self, info: BootstrapInfo) -> None:
        await self.api.flavors.create_defaults()


async def build(runtime: Runtime, remotes: Remotes | None = None) -> ComputeUnit:
    return ComputeUnit(runtime, remotes or remotes_for(runtime))
