"""The services pocketstack runs, and the one shape each takes to plug in.

`SERVICES` is a literal registry, in start order (identity first: the others
need it to validate tokens). A service's `build` names an async factory
`build(runtime) -> ServiceUnit`; it is imported only when the service runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from starlette.types import ASGIApp

if TYPE_CHECKING:
    from pocketstack.config import Config
    from pocketstack.runtime import BootstrapInfo, Runtime


class ServiceUnit(Protocol):
    """One running service: its REST app and its life cycle."""

    app: ASGIApp | None  # None once started: this process serves no API for it

    async def start(self) -> None:
        """Open the database (running migrations), start RPC servers and tasks."""

    async def stop(self) -> None:
        """Finish in-flight work and release everything `start` took."""

    async def bootstrap(self, info: BootstrapInfo) -> None:
        """First start only: create the defaults a new user expects."""


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # also the database name and the config section
    service_type: str  # catalog type
    catalog_name: str  # catalog service name, as DevStack names it
    prefix: str  # where the all-in-one mounts it
    endpoint_suffix: str  # catalog URL = base URL + prefix + suffix
    build: str  # "module:function", an async (Runtime) -> ServiceUnit
    aliases: tuple[str, ...] = ()  # extra catalog types pointing at the same endpoint
    in_catalog: bool = True  # False: reached without the catalog (the metadata API)

    async def create(self, runtime: Runtime) -> ServiceUnit:
        module, _, func = self.build.partition(":")
        return await getattr(importlib.import_module(module), func)(runtime)


SERVICES: list[ServiceSpec] = [
    ServiceSpec("identity", "identity", "keystone", "/identity", "/v3",
                "pocketstack.identity.unit:build"),
    ServiceSpec("image", "image", "glance", "/image", "", "pocketstack.image.unit:build"),
    ServiceSpec("placement", "placement", "placement", "/placement", "",
                "pocketstack.placement.unit:build"),
    ServiceSpec("volume", "block-storage", "cinder", "/volume", "/v3",
                "pocketstack.volume.unit:build", aliases=("volumev3",)),
    ServiceSpec("network", "network", "neutron", "/networking", "",
                "pocketstack.network.unit:build"),
    ServiceSpec("compute", "compute", "nova", "/compute", "/v2.1",
                "pocketstack.compute.unit:build"),
    ServiceSpec("metadata", "metadata", "nova-metadata", "/metadata", "",
                "pocketstack.metadata.unit:build", in_catalog=False),
]


def by_name(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown service {name!r}; known: {', '.join(s.name for s in SERVICES)}")


def api_root(cfg: Config, spec: ServiceSpec) -> str:
    """Where a service's API root is: `service_urls` (scaled out), else base URL + prefix."""
    return (cfg.service_urls.get(spec.name) or cfg.base_url + spec.prefix).rstrip("/")
