"""The identity service as the all-in-one runs it (services.ServiceUnit)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from pocketstack.core.auth import ServiceCredentials
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.identity import bootstrap
from pocketstack.identity.api import build_app
from pocketstack.identity.keys import repository
from pocketstack.identity.policies import RULES
from pocketstack.identity.service import Identity
from pocketstack.identity.tokens import TokenCodec
from pocketstack.runtime import BootstrapInfo, Runtime

MIGRATIONS = Path(__file__).parent / "migrations"


class IdentityUnit:
    def __init__(self, runtime: Runtime):
        cfg = self.cfg = runtime.config
        self.runtime = runtime
        self.db = Database(cfg.database_for("identity"), MIGRATIONS)
        self.keys = repository(cfg)
        self.identity = Identity(cfg, self.db, TokenCodec(self.keys),
                                 on_revoke=lambda: runtime.emit("token_revoked"))
        self.enforcer = Enforcer(RULES, cfg.policy_file)
        self.app = build_app(self.identity, self.enforcer, cfg)
        self._passwords: dict[str, str] = {}
        self._watcher: asyncio.Task | None = None

    async def start(self) -> None:
        self.keys.ensure()
        await self.db.start()
        self._passwords = bootstrap.load_passwords(self.cfg.path("identity-passwords.json"))
        if not self.db.is_sqlite:
            # Other identity processes may share this database: follow their writes.
            self._watcher = asyncio.create_task(self.identity.watch())

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self.db.close()

    async def bootstrap(self, info: BootstrapInfo) -> None:
        """Identity's defaults are made by `ensure_defaults`, before the others start."""

    async def ensure_defaults(self, specs) -> tuple[BootstrapInfo, bool]:  # noqa: ANN001
        return await bootstrap.ensure_defaults(self.identity, self._passwords, list(specs))

    def service_credentials(self) -> ServiceCredentials:
        return ServiceCredentials(bootstrap.SERVICE_USER,
                                  self._passwords[bootstrap.SERVICE_USER])

    def passwords(self) -> dict[str, str]:
        return {"admin": self._passwords["admin"], "demo": self._passwords["demo"]}


async def build(runtime: Runtime) -> IdentityUnit:
    return IdentityUnit(runtime)
