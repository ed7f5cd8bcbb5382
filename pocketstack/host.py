"""A process hosting services: the whole cloud (`pocketstack up`, the
all-in-one) or a few of its services (`pocketstack serve`, scaled out).

The services it hosts are mounted under DevStack-style prefixes
(`/identity`, `/compute`, ...) on one port. Calls between them stay
in-process (httpx over ASGI, streaming), so the all-in-one exercises exactly
the API calls a scaled-out cloud makes; calls to services hosted elsewhere
go over the network to `service_urls` (services.api_root).

Without identity in the process, a host logs in as the service user (the
password from `auth.service_password`, or the identity host's password file
when the state directory is shared) and looks up the bootstrap defaults
over REST. A service bootstraps its defaults on its first start in a state
directory (a marker file per service).
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
from pocketstack.core.auth import ServiceCredentials, TokenValidator
from pocketstack.runtime import BootstrapInfo, Runtime
from pocketstack.services import SERVICES, ServiceSpec, ServiceUnit, api_root

log = logging.getLogger(__name__)


class HostError(Exception):
    """The process cannot host what it was asked to (a message for the user)."""


@dataclass
class ServiceHost:
    config: Config
    names: list[str] = field(default_factory=lambda: [s.name for s in SERVICES])
    router: Router = field(default_factory=lambda: Router(routes=[]))
    units: list[tuple[ServiceSpec, ServiceUnit]] = field(default_factory=list)
    bootstrap: BootstrapInfo | None = None
    first_start: bool = False
    runtime: Runtime | None = None
    split: LocalFirstTransport | None = None  # when some services are elsewhere

    def __post_init__(self) -> None:
        known = {s.name for s in SERVICES}
        unknown = [n for n in self.names if n not in known]
        if unknown:
            raise HostError(f"unknown service {', '.join(unknown)}; known: "
                            + ", ".join(s.name for s in SERVICES))
        self.specs = [s for s in SERVICES if s.name in self.names]  # in start order

    @property
    def hosts_identity(self) -> bool:
        return self.specs[0].name == "identity"

    async def start(self) -> None:
        began = time.monotonic()
        self.router.routes.append(Route("/", self._index))
        transport: httpx.AsyncBaseTransport = StreamingASGITransport(self.router)
        if len(self.specs) < len(SERVICES):
            transport = self.split = LocalFirstTransport(self.router)
        http = httpx.AsyncClient(transport=transport, base_url=self.config.base_url,
                                 timeout=60.0)
        runtime = self.runtime = Runtime(self.config, http)
        runtime.rpc = await rpc.connect(self.config)
        specs = list(self.specs)
        if self.hosts_identity:
            identity = await self._start(specs.pop(0), runtime)
            self.bootstrap, self.first_start = await identity.ensure_defaults(SERVICES)
            runtime.service_credentials = identity.service_credentials()
        else:
            runtime.service_credentials = self._service_credentials()
        runtime.validator = TokenValidator(
            http, runtime.url("identity"), runtime.service_credentials,
            cache_ttl=self.config.auth.cache_ttl,
        )
        runtime.on("token_revoked", runtime.validator.invalidate)
        if not self.hosts_identity:
            from pocketstack.identity.client import bootstrap_info

            self.bootstrap = await bootstrap_info(http, runtime.url("identity"),
                                                  await runtime.validator.service_token())
        for spec in specs:
            unit = await self._start(spec, runtime)
            marker = self.config.path("bootstrapped", spec.name)
            if not marker.exists():
                await unit.bootstrap(self.bootstrap)
                marker.touch()
        log.info("%s started in %.2fs", ", ".join(self.names), time.monotonic() - began)

    def _service_credentials(self) -> ServiceCredentials:
        from pocketstack.identity import bootstrap

        password = self.config.auth.service_password
        if password is None:
            shared = self.config.state_dir / "identity-passwords.json"
            if not shared.exists():
                raise HostError(
                    "identity is not in this process: set auth.service_password "
                    "(POCKETSTACK_AUTH_SERVICE_PASSWORD) to the service user's password, "
                    "found in identity-passwords.json on the identity host")
            password = bootstrap.load_passwords(shared)[bootstrap.SERVICE_USER]
        return ServiceCredentials(bootstrap.SERVICE_USER, password)

    async def _start(self, spec: ServiceSpec, runtime: Runtime) -> ServiceUnit:
        began = time.monotonic()
        unit = await spec.create(runtime)
        await unit.start()
        log.info("%s started in %.2fs", spec.name, time.monotonic() - began)
        self.units.append((spec, unit))
        if unit.app is None:  # e.g. compute hosts: agents only, the API is elsewhere
            return unit
        # The bare prefix ("/identity") is the service's root, as "/identity/" is.
        self.router.routes.append(Route(spec.prefix, endpoint=_AtRoot(unit.app, spec.prefix)))
        self.router.routes.append(Mount(spec.prefix, app=unit.app))
        if self.split is not None:
            self.split.roots.append(api_root(self.config, spec) + "/")
        return unit

    def bootstrap_credentials(self) -> dict[str, str]:
        """The admin and demo users' passwords, for clouds.yaml (identity hosts only)."""
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
                    for s, u in self.units if u.app is not None
                ]
            }
        })


class LocalFirstTransport(httpx.AsyncBaseTransport):
    """Requests under a root this process serves stay in-process (streaming);
    the others go over the network."""

    def __init__(self, app: ASGIApp):
        self.local = StreamingASGITransport(app)
        self.network = httpx.AsyncHTTPTransport()
        self.roots: list[str] = []  # "http://host:port/prefix/" of the local APIs

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if any(url.startswith(r) or url + "/" == r for r in self.roots):
            return await self.local.handle_async_request(request)
        return await self.network.handle_async_request(request)

    async def aclose(self) -> None:
        await self.network.aclose()


class _AtRoot:
    """Serves a mounted app's root at its bare prefix, without a redirect."""

    def __init__(self, app: ASGIApp, prefix: str):
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = dict(scope, root_path=scope.get("root_path", "") + self.prefix,
                     path=scope["path"] + "/")
        await self.app(scope, receive, send)
