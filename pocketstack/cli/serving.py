"""What `pocketstack up` and `pocketstack serve` share: logging, the event
loop, the HTTP server, and a clean stop on SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable

from pocketstack import config as configuration
from pocketstack.host import ServiceHost


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
