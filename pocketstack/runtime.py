"""What a service gets from the process that hosts it.

The all-in-one builds one Runtime and hands it to every service's `build`;
a scaled-out `pocketstack serve` builds the same thing for fewer services.
Services find each other only through it: `http` reaches every REST API
(in-process in the all-in-one), `validator` checks tokens with identity,
`rpc` calls and casts to other services' managers (core/rpc).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from pocketstack.config import Config
from pocketstack.core.auth import ServiceCredentials, TokenValidator
from pocketstack.core.context import RequestContext

if TYPE_CHECKING:
    from pocketstack.core.rpc import RPC


@dataclass
class BootstrapInfo:
    """The identity defaults made on first start, for the other services' defaults."""

    admin_ctx: RequestContext  # admin user, scoped to the admin project
    admin_project_id: str
    demo_project_id: str
    service_project_id: str
    admin_user_id: str
    demo_user_id: str


@dataclass
class Runtime:
    config: Config
    http: httpx.AsyncClient
    service_credentials: ServiceCredentials | None = None
    validator: TokenValidator | None = None
    rpc: RPC | None = None  # set by the host process from cfg.transport_url
    # Hooks a service can register for in-process events ("token_revoked", ...).
    listeners: dict[str, list[Any]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        """The base URL of a service's API root (its mount prefix)."""
        from pocketstack.services import api_root, by_name

        return api_root(self.config, by_name(service))

    def on(self, event: str, callback: Any) -> None:
        self.listeners.setdefault(event, []).append(callback)

    def emit(self, event: str, *args: Any) -> None:
        for callback in self.listeners.get(event, []):
            callback(*args)
