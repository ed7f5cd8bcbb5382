"""Hypervisor drivers: the contract (driver.py) and a literal registry of them.

`DRIVERS` maps `cfg.compute.driver` to a factory `(cfg, host) -> Driver`,
imported only when chosen.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pocketstack.compute.virt.driver import Driver
    from pocketstack.config import Config

DRIVERS: dict[str, str] = {
    "fake": "pocketstack.compute.virt.fake:from_config",
    "libvirt": "pocketstack.compute.virt.libvirt:from_config",
}


def load(cfg: Config, host: str) -> Driver:
    if cfg.compute.driver not in DRIVERS:
        raise ValueError(f"unknown compute driver {cfg.compute.driver!r}; "
                         f"known: {', '.join(DRIVERS)}")
    module, _, func = DRIVERS[cfg.compute.driver].partition(":")
    return getattr(importlib.import_module(module), func)(cfg, host)
