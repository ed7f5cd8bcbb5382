"""The block storage service as a process runs it (services.ServiceUnit):
volume-api (the REST app), volume-scheduler (RPC `volume-scheduler`) and one
volume-manager driving the configured backend (RPC `volume.<host>`), which
reports its capacity to the schedulers every `volume.report_interval`."""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.core.rpc import RPC, LocalTransport
from pocketstack.core.runner import PeriodicTask, ServiceRunner
from pocketstack.core.service_records import ServiceRecords
from pocketstack.image.client import ImageClient
from pocketstack.runtime import BootstrapInfo, Runtime
from pocketstack.volume import store
from pocketstack.volume.api import build_app
from pocketstack.volume.backends import build_backend
from pocketstack.volume.manager import VolumeManager
from pocketstack.volume.messages import (
    MANAGER_TOPIC,
    SCHEDULER_TOPIC,
    ManagerClient,
    SchedulerClient,
    manager_server,
)
from pocketstack.volume.models import Service
from pocketstack.volume.policies import RULES
from pocketstack.volume.scheduler.manager import SchedulerManager
from pocketstack.volume.service import VolumeService

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def host_name(configured: str) -> str:
    name = configured or socket.gethostname().split(".")[0] or "localhost"
    return re.sub(r"[^A-Za-z0-9_\-]", "-", name)


class VolumeUnit:
    def __init__(self, runtime: Runtime, backend=None):  # noqa: ANN001 - a Backend
        cfg = self.cfg = runtime.config
        v = cfg.volume
        self.runtime = runtime
        self.db = Database(cfg.database_for("volume"), MIGRATIONS)
        self.rpc: RPC = runtime.rpc or RPC(LocalTransport())
        self._own_rpc = runtime.rpc is None
        self.backend = backend or build_backend(cfg)
        self.host = f"{host_name(v.host)}@{v.backend_name or self.backend.kind}"
        scratch = cfg.state_dir / "volume-scratch"
        self.images = ImageClient(runtime.http, cfg.base_url + "/image",
                                  tuple(v.allowed_direct_url_schemes))
        self.scheduler_client = SchedulerClient(self.rpc)
        self.managers = ManagerClient(self.rpc, timeout=cfg.rpc.response_timeout)
        self.scheduler = SchedulerManager(self.db, self.managers,
                                          stale_after=max(3 * v.report_interval, 60.0))
        self.manager = VolumeManager(
            self.db, self.backend, self.host, pool=v.backend_name or self.backend.kind,
            availability_zone=v.availability_zone, images=self.images,
            scheduler=self.scheduler_client, scratch_dir=scratch,
            max_over_subscription_ratio=v.max_over_subscription_ratio,
            reserved_percentage=v.reserved_percentage)
        self.service = VolumeService(self.db, v, self.scheduler_client, self.managers,
                                     self.images)
        self.enforcer = Enforcer(RULES, cfg.policy_file)
        self.records = ServiceRecords(self.db, Service, down_time=cfg.rpc.service_down_time)
        self.app = build_app(self.service, self.enforcer, self._validate, self._zones,
                             self.records)
        report = PeriodicTask("report_capacity", lambda ctx: self.manager.send_report(),
                              v.report_interval, run_at_start=True)
        self.runners = [
            ServiceRunner(self.rpc, binary="cinder-scheduler", host=host_name(v.host),
                          topic=SCHEDULER_TOPIC, manager=self.scheduler, records=self.records,
                          report_interval=cfg.rpc.report_interval),
            ServiceRunner(self.rpc, binary="cinder-volume", host=manager_server(self.host),
                          topic=MANAGER_TOPIC, manager=self.manager, records=self.records,
                          report_interval=cfg.rpc.report_interval, periodic=[report]),
        ]

    async def _validate(self, token: str):  # noqa: ANN202
        assert self.runtime.validator is not None, "no token validator"
        return await self.runtime.validator.validate(token)

    def _zones(self) -> set[str]:
        zones = {h.report.availability_zone for h in self.scheduler.live_hosts()}
        return zones or {self.cfg.volume.availability_zone}

    async def start(self) -> None:
        await self.db.start()
        async with self.db.write() as s:
            await store.ensure_default_type(s)
        await self.runners[0].start()  # the scheduler listens before the first report
        await self.manager.init_host()
        await self.manager.send_report()
        await self.runners[1].start()

    async def stop(self) -> None:
        for runner in reversed(self.runners):
            await runner.stop()
        if self._own_rpc:
            await self.rpc.close()
        await self.db.close()

    async def bootstrap(self, info: BootstrapInfo) -> None:
        """The default volume type is made on every start (`__DEFAULT__`)."""


async def build(runtime: Runtime) -> VolumeUnit:
    return VolumeUnit(runtime)
