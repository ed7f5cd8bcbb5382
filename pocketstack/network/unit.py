"""The network service as a ServiceUnit: its database, its agent notifier (from
`cfg.network.agent`), its app behind token validation, and the first-start
networks DevStack users expect (`public`, `private`, `router1`)."""

from __future__ import annotations

from pathlib import Path

from starlette.types import ASGIApp

from pocketstack.core.auth import AuthMiddleware
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.core.web import neutron_errors
from pocketstack.network import api, policies
from pocketstack.network.agent.noop import NoopAgent
from pocketstack.network.bootstrap import create_defaults
from pocketstack.network.service import NetworkService
from pocketstack.runtime import BootstrapInfo, Runtime

MIGRATIONS = Path(__file__).parent / "migrations"


def make_notifier(kind: str, svc: NetworkService):  # noqa: ANN201
    if kind == "noop":
        return NoopAgent(svc)
    raise ValueError(f"unknown network agent {kind!r}; known: noop")


class NetworkUnit:
    def __init__(self, runtime: Runtime):
        cfg = runtime.config
        self.db = Database(cfg.database_for("network"), MIGRATIONS)
        self.service = NetworkService(self.db, cfg.network,
                                      Enforcer(policies.DEFAULTS, cfg.policy_file))
        self.service.notifier = make_notifier(cfg.network.agent, self.service)
        inner = api.build_app(self.service)

        async def validate(token: str):  # noqa: ANN202 - the validator is set after build
            if runtime.validator is None:
                return await _refuse(token)
            return await runtime.validator.validate(token)

        self.app: ASGIApp = AuthMiddleware(inner, validate, neutron_errors, public=api.is_public)

    async def start(self) -> None:
        await self.db.start()

    async def stop(self) -> None:
        await self.db.close()

    async def bootstrap(self, info: BootstrapInfo) -> None:
        await create_defaults(self.service, info)


async def _refuse(token: str):  # noqa: ANN202
    from pocketstack.core import exceptions as exc

    raise exc.Unauthorized("The request you have made requires authentication.")


async def build(runtime: Runtime) -> NetworkUnit:
    return NetworkUnit(runtime)
