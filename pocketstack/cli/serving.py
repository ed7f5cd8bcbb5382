"""What `pocketstack up` and `pocketstack serve` share: logging, the event
loop, the HTTP server, and a clean stop on SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pocketstack import config as configuration

if TYPE_CHECKING:
    from pocketstack.host import ServiceHost


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options every serving command has."""
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default 8080)")
    p.add_argument("--state-dir", type=Path,
                   help="where databases, keys and images live "
                   "(default ~/.local/share/pocketstack, or $POCKETSTACK_STATE_DIR)")
    p.add_argument("--fake-hosts", type=int, metavar="N",
                   help="run N fake compute hosts in this process (fake driver only)")


def load_config(args: argparse.Namespace) -> configuration.Config:
    cfg = configuration.load(host=args.host, port=args.port, state_dir=args.state_dir)
    if args.fake_hosts:
        cfg.compute.fake_hosts = args.fake_hosts
    return cfg


def run(cfg: configuration.Config, host: ServiceHost,
        started: Callable[[ServiceHost], None]) -> int:
    """Start the host's services, call `started`, serve until a signal, stop them."""
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
            runner.run(_serve(cfg, host, started))
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


async def _serve(cfg: configuration.Config, host: ServiceHost,
                 started: Callable[[ServiceHost], None]) -> None:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(
        host.router, host=cfg.host, port=cfg.port, lifespan="off",
        log_level="warning", access_log=False, timeout_keep_alive=120,
        loop="none", http="httptools",
    ))
    try:
        await host.start()
        started(host)
        await server.serve()
    finally:
        await host.stop()
