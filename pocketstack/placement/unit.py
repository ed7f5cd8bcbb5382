"""The Placement service as the all-in-one and `pocketstack serve` run it."""

from __future__ import annotations

from pathlib import Path

from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.placement import api, policy
from pocketstack.placement.service import Placement
from pocketstack.runtime import BootstrapInfo, Runtime

MIGRATIONS = Path(__file__).parent / "migrations"


class PlacementUnit:
    def __init__(self, runtime: Runtime):
        cfg = runtime.config
        self.placement = Placement(Database(cfg.database_for("placement"), MIGRATIONS),
                                   Enforcer(policy.DEFAULTS, cfg.policy_file))
        self.app = api.build_app(self.placement, self._validate)
        self.runtime = runtime

    async def _validate(self, token: str):  # noqa: ANN202 - a RequestContext
        return await self.runtime.validator.validate(token)

    async def start(self) -> None:
        await self.placement.start()

    async def stop(self) -> None:
        await self.placement.stop()

    async def bootstrap(self, info: BootstrapInfo) -> None:
        """Nothing to create: providers appear when compute agents report."""


async def build(runtime: Runtime) -> PlacementUnit:
    return PlacementUnit(runtime)
