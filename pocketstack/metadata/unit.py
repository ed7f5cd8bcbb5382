"""The metadata service as a pocketstack unit: its app (no token auth: guests
are identified by the proxy's signed headers), its password table, and the
lookups it makes as the service user. Not in the catalog, as Nova's is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pocketstack.core.db import Database
from pocketstack.metadata import api, signature
from pocketstack.metadata.lookup import InstanceLookup
from pocketstack.metadata.store import PasswordStore
from pocketstack.runtime import Runtime

MIGRATIONS = Path(__file__).parent / "migrations"


class MetadataUnit:
    def __init__(self, runtime: Runtime):
        cfg = runtime.config
        self.db = Database(cfg.database_for("metadata"), MIGRATIONS)
        self.lookup = InstanceLookup(
            runtime.http, runtime.url("network"), runtime.url("compute"),
            runtime.validator.service_token, cache_ttl=cfg.metadata.cache_ttl,
            dhcp_domain=cfg.metadata.dhcp_domain)
        self.api = api.MetadataAPI(self.lookup, PasswordStore(self.db),
                                   signature.shared_secret(cfg))
        self.app = api.build_app(self.api)

    async def start(self) -> None:
        await self.db.start()

    async def stop(self) -> None:
        await self.db.close()

    async def bootstrap(self, info: Any) -> None:
        """Nothing to create."""


async def build(runtime: Runtime) -> MetadataUnit:
    return MetadataUnit(runtime)
