"""`pocketstack up`: the whole cloud in one process, in the foreground.

On a fresh state directory it bootstraps identity (admin and demo users,
roles, the catalog) and every service's defaults, then writes the clouds
`pocketstack` and `pocketstack-admin` into clouds.yaml. It serves until
SIGINT or SIGTERM, then stops cleanly.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pocketstack import config as configuration


def add_arguments(p: argparse.ArgumentParser) -> None:
    from pocketstack.cli import serving

    serving.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    from pocketstack.cli import serving
    from pocketstack.host import ServiceHost

    began = time.monotonic()
    cfg = serving.load_config(args)
    return serving.run(cfg, ServiceHost(cfg), lambda host: _started(
        host, cfg, time.monotonic() - began))


def write_clouds_yaml(host, cfg: configuration.Config) -> Path:  # noqa: ANN001
    """The clouds `pocketstack` (demo) and `pocketstack-admin` into clouds.yaml."""
    from pocketstack.cli.clouds import cloud_entry, write_clouds

    creds = host.bootstrap_credentials()
    path = configuration.clouds_yaml_path()
    auth_url = cfg.base_url + "/identity"
    write_clouds(path, {
        "pocketstack": cloud_entry(auth_url, "demo", creds["demo"], "demo", cfg.region),
        "pocketstack-admin": cloud_entry(auth_url, "admin", creds["admin"], "admin",
                                         cfg.region),
    })
    return path


def _started(host, cfg: configuration.Config, took: float) -> None:  # noqa: ANN001
    path = write_clouds_yaml(host, cfg)
    say = lambda text="": print(text, flush=True)  # noqa: E731
    if host.first_start:
        say(f"First start: state in {cfg.state_dir}")
        say("  identity: domain Default; projects admin, demo, service; users admin, demo;")
        say("            roles admin > member > reader; region " + cfg.region + "; the catalog")
    say(f"Clouds 'pocketstack' (demo) and 'pocketstack-admin' written to {path}")
    names = ", ".join(f"{spec.name} ({spec.prefix})" for spec, _ in host.units)
    say(f"pocketstack is up at {cfg.base_url} in {took:.2f}s: {names}")
    say("Try:  openstack --os-cloud pocketstack token issue")
    say("Stop with Ctrl-C.")
