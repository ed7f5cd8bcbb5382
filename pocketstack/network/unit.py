"""The network service as a ServiceUnit: its database, its agent notifier (from
`cfg.network.agent`), its app behind token validation, and the first-start
networks DevStack users expect (`public`, `private`, `router1`)."""

from __future__ import annotations

import socket
from pathlib import Path

from starlette.types import ASGIApp

from pocketstack.core.auth import AuthMiddleware
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.core.rpc import Target
from pocketstack.core.web import neutron_errors
from pocketstack.metadata import signature
from pocketstack.metadata.proxy import MetadataProxy
from pocketstack.network import api, policies
from pocketstack.network.agent.linuxbridge.agent import LinuxBridgeAgent, agent_id_for
from pocketstack.network.agent.messages import SERVER_TOPIC, AgentClient
from pocketstack.network.agent.noop import NoopAgent
from pocketstack.network.agent.notifier import AgentNotifier
from pocketstack.network.agent.rpc import RpcNotifier, ServerManager
from pocketstack.network.bootstrap import create_defaults
from pocketstack.network.client import NetworkClient
from pocketstack.network.service import NetworkService
from pocketstack.runtime import BootstrapInfo, Runtime

MIGRATIONS = Path(__file__).parent / "migrations"


def make_notifier(kind: str, svc: NetworkService, runtime: Runtime) -> AgentNotifier:
    if kind == "noop":
        return NoopAgent(svc)
    if kind == "linuxbridge":
        return linuxbridge_agent(svc, runtime)
    if kind == "rpc":
        if runtime.rpc is None:
            raise ValueError("network agent 'rpc' needs the process's RPC (transport_url)")
        return RpcNotifier(AgentClient(runtime.rpc))
    raise ValueError(f"unknown network agent {kind!r}; known: noop, linuxbridge, rpc")


def linuxbridge_agent(svc: NetworkService, runtime: Runtime) -> LinuxBridgeAgent:
    """The agent for this host, in-process: it wires every bound port, and its
    DHCP namespaces answer 169.254.169.254 with the metadata proxy."""
    cfg = runtime.config
    proxy = MetadataProxy(runtime.http, runtime.url("metadata"),
                          signature.shared_secret(cfg))

    async def token() -> str:
        return await runtime.validator.service_token()

    return LinuxBridgeAgent(
        svc, NetworkClient(runtime.http, runtime.url("network")), token,
        cfg.state_dir / "network-agent",
        agent_id_for(socket.gethostname(), cfg.state_dir),
        resync_interval=cfg.network.resync_interval, metadata=proxy)


class NetworkUnit:
    def __init__(self, runtime: Runtime):
        cfg = runtime.config
        self.db = Database(cfg.database_for("network"), MIGRATIONS)
        self.service = NetworkService(self.db, cfg.network,
                                      Enforcer(policies.DEFAULTS, cfg.policy_file))
        self.runtime = runtime
        self.rpc_server = None
        inner = api.build_app(self.service)

        async def validate(token: str):  # noqa: ANN202 - the validator is set after build
            if runtime.validator is None:
                return await _refuse(token)
            return await runtime.validator.validate(token)

        self.app: ASGIApp = AuthMiddleware(inner, validate, neutron_errors, public=api.is_public)

    async def start(self) -> None:
        await self.db.start()
        kind = self.runtime.config.network.agent
        self.service.notifier = make_notifier(kind, self.service, self.runtime)
        if isinstance(self.service.notifier, LinuxBridgeAgent):
            await self.service.notifier.start()
        if kind == "rpc":  # the agents report port status to us
            self.rpc_server = await self.runtime.rpc.serve(Target(SERVER_TOPIC),
                                                           ServerManager(self.service))

    async def stop(self) -> None:
        if isinstance(self.service.notifier, LinuxBridgeAgent):
            await self.service.notifier.stop()
        if self.rpc_server is not None:
            await self.rpc_server.stop()
        await self.db.close()

    async def bootstrap(self, info: BootstrapInfo) -> None:
        await create_defaults(self.service, info)


async def _refuse(token: str):  # noqa: ANN202
    from pocketstack.core import exceptions as exc

    raise exc.Unauthorized("The request you have made requires authentication.")


async def build(runtime: Runtime) -> NetworkUnit:
    return NetworkUnit(runtime)
