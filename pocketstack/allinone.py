"""The all-in-one: every implemented service in one process, on one port,
mounted under DevStack-style prefixes (`/identity`, `/compute`, ...).

Services reach each other's REST APIs in-process (httpx over ASGI), so the
all-in-one exercises exactly the API calls a scaled-out cloud makes over
the network.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from pocketstack.config import Config
from pocketstack.core import rpc
from pocketstack.core.asgi_transport import StreamingASGITransport
from pocketstack.core.auth import TokenValidator
from pocketstack.runtime import BootstrapInfo, Runtime
from pocketstack.services import SERVICES, ServiceSpec, ServiceUnit

log = logging.getLogger(__name__)


@dataclass
class AllInOne:
    config: Config
    router: Router = field(default_factory=lambda: Router(routes=[]))
    units: list[tuple[ServiceSpec, ServiceUnit]] = field(default_factory=list)
    bootstrap: BootstrapInfo | None = None
    first_start: bool = False
    runtime: Runtime | None = None

    async def start(self) -> None:
        began = time.monotonic()
        self.router.routes.append(Route("/", self._index))
        http = httpx.AsyncClient(
            transport=StreamingASGITransport(self.router), base_url=self.config.base_url,
            timeout=60.0,
        )
        runtime = self.runtime = Runtime(self.config, http)
        runtime.rpc = await rpc.connect(self.config)
        identity_spec, *others = SERVICES
        identity = await self._start(identity_spec, runtime)
        self.bootstrap, self.first_start = await identity.ensure_defaults(SERVICES)
        runtime.service_credentials = identity.service_credentials()
        runtime.validator = TokenValidator(
            http, runtime.url("identity"), runtime.service_credentials,
            cache_ttl=self.config.auth.cache_ttl,
        )
        runtime.on("token_revoked", runtime.validator.invalidate)
        for spec in others:
            unit = await self._start(spec, runtime)
            marker = self.config.path("bootstrapped", spec.name)
            if not marker.exists():
                await unit.bootstrap(self.bootstrap)
                marker.touch()
        log.info("all-in-one started in %.2fs", time.monotonic() - began)

    async def _start(self, spec: ServiceSpec, runtime: Runtime) -> ServiceUnit:
        began = time.monotonic()
        unit = await spec.create(runtime)
        await unit.start()
        log.info("%s started in %.2fs", spec.name, time.monotonic() - began)
        # The bare prefix ("/identity") is the service's root, as "/identity/" is.
        self.router.routes.append(Route(spec.prefix, endpoint=_AtRoot(unit.app, spec.prefix)))
        self.router.routes.append(Mount(spec.prefix, app=unit.app))
        self.units.append((spec, unit))
        return unit

    def bootstrap_credentials(self) -> dict[str, str]:
        """The admin and demo users' passwords, for clouds.yaml."""
        return self.units[0][1].passwords()

    async def stop(self) -> None:
        for spec, unit in reversed(self.units):
            try:
                await unit.stop()
            except Exception:  # noqa: BLE001 - keep stopping the others
                log.exception("stopping %s failed", spec.name)
        if self.runtime is not None:
            await self.runtime.http.aclose()
            if self.runtime.rpc is not None:
                await self.runtime.rpc.close()

    async def _index(self, request: Request) -> JSONResponse:
        base = str(request.base_url).rstrip("/")
        return JSONResponse({
            "pocketstack": {
                "services": [
                    {"name": s.name, "type": s.service_type, "url": base + s.prefix}
                    for s, _ in self.units
                ]
            }
        })


class _AtRoot:
    """Serves a mounted app's root at its bare prefix, without a redirect."""

    def __init__(self, app: ASGIApp, prefix: str):
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = dict(scope, root_path=scope.get("root_path", "") + self.prefix,
                     path=scope["path"] + "/")
        await self.app(scope, receive, send)
