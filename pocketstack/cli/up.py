"""`pocketstack up`: the whole cloud in one process, in the foreground.

On a fresh state directory it bootstraps identity (admin and demo users,
roles, the catalog) and every service's defaults, then writes the clouds
`pocketstack` and `pocketstack-admin` into clouds.yaml. It serves until
SIGINT or SIGTERM, then stops cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from pathlib import Path

from pocketstack import config as configuration


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default 8080)")
    p.add_argument("--state-dir", type=Path,
                   help="where databases, keys and images live "
                   "(default ~/.local/share/pocketstack, or $POCKETSTACK_STATE_DIR)")
    p.add_argument("--fake-hosts", type=int, metavar="N",
                   help="run N fake compute hosts in this process (fake driver only)")


def run(args: argparse.Namespace) -> int:
    began = time.monotonic()
    cfg = configuration.load(host=args.host, port=args.port, state_dir=args.state_dir)
    if args.fake_hosts:
        cfg.compute.fake_hosts = args.fake_hosts
    logging.basicConfig(
        level=cfg.log_level.upper(), stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # uvicorn re-raises the SIGTERM it caught once it has stopped serving: turn
    # it into an exception so that the services still stop cleanly.
    signal.signal(signal.SIGTERM, _terminate)
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(_serve(cfg, began))
    except (KeyboardInterrupt, _Terminated):
        pass
    return 0


def _loop_factory():  # noqa: ANN202
    """uvloop's event loop when it is installed (uvicorn[standard] brings it)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


class _Terminated(Exception):
    pass


def _terminate(signum, frame):  # noqa: ANN001, ANN202
    raise _Terminated()


async def _serve(cfg: configuration.Config, began: float) -> None:
    import uvicorn

    from pocketstack.allinone import AllInOne
    from pocketstack.cli.clouds import cloud_entry, write_clouds

    cloud = AllInOne(cfg)
    server = uvicorn.Server(uvicorn.Config(
        cloud.router, host=cfg.host, port=cfg.port, lifespan="off",
        log_level="warning", access_log=False, timeout_keep_alive=120,
        loop="none", http="httptools",
    ))
    try:
        await cloud.start()
        creds = cloud.bootstrap_credentials()
        path = configuration.clouds_yaml_path()
        auth_url = cfg.base_url + "/identity"
        write_clouds(path, {
            "pocketstack": cloud_entry(auth_url, "demo", creds["demo"], "demo", cfg.region),
            "pocketstack-admin": cloud_entry(auth_url, "admin", creds["admin"], "admin",
                                             cfg.region),
        })
        _announce(cloud, cfg, path, time.monotonic() - began)
        await server.serve()
    finally:
        await cloud.stop()


def _announce(cloud, cfg: configuration.Config, clouds: Path, took: float) -> None:  # noqa: ANN001
    say = lambda text="": print(text, flush=True)  # noqa: E731
    if cloud.first_start:
        say(f"First start: state in {cfg.state_dir}")
        say("  identity: domain Default; projects admin, demo, service; users admin, demo;")
        say("            roles admin > member > reader; region " + cfg.region + "; the catalog")
    say(f"Clouds 'pocketstack' (demo) and 'pocketstack-admin' written to {clouds}")
    names = ", ".join(f"{spec.name} ({spec.prefix})" for spec, _ in cloud.units)
    say(f"pocketstack is up at {cfg.base_url} in {took:.2f}s: {names}")
    say("Try:  openstack --os-cloud pocketstack token issue")
    say("Stop with Ctrl-C.")
