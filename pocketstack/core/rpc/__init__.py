"""RPC between services over a message queue: call, cast and fanout_cast by topic.

One API on every transport, chosen by `cfg.transport_url`: `local://`
(in-process queues, the all-in-one) or `rabbit://user:pass@host:5672/vhost`.
A service serves a manager; its callers use a typed stub from its messages.py:

    # pocketstack/scheduler/messages.py -- what callers import
    class Destination(BaseModel):
        host: str
        nodename: str

    class SchedulerClient(rpc.Client):
        topic = "scheduler"

        async def select_destinations(self, ctxt, spec: RequestSpec) -> list[Destination]:
            return await self.call(ctxt, "select_destinations", spec=spec,
                                   returns=list[Destination])

    # pocketstack/scheduler/manager.py -- public async methods are the RPC API
    class SchedulerManager:
        async def select_destinations(self, ctxt, spec: RequestSpec) -> list[Destination]:
            ...

    # wiring (the service's unit.py; runtime.rpc is the process's RPC)
    server = await runtime.rpc.serve(Target("scheduler", server=host), SchedulerManager())
    dests = await SchedulerClient(runtime.rpc).select_destinations(ctxt, spec)
    await ComputeClient(runtime.rpc).prepare(server="host-1").build(ctxt, ...)  # compute.host-1
    await server.stop()                             # finishes the requests in flight

Errors raised by the remote method come back as the same class (errors.py);
a call without an answer raises MessagingTimeout naming target and method.
Contract: transport.py. Service registration, heartbeats, periodic tasks:
pocketstack/core/runner.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketstack.core.rpc.client import RPC, Client
from pocketstack.core.rpc.codec import Codec
from pocketstack.core.rpc.errors import (
    MalformedMessage,
    MessageTooLarge,
    MessagingTimeout,
    NoSuchMethod,
    RemoteError,
    RPCError,
    TransportError,
)
from pocketstack.core.rpc.local import LocalTransport
from pocketstack.core.rpc.server import RPCServer
from pocketstack.core.rpc.target import Target
from pocketstack.core.rpc.transport import Listener, Transport

if TYPE_CHECKING:
    from pocketstack.config import Config

__all__ = [
    "RPC", "Client", "Codec", "LocalTransport", "Listener", "MalformedMessage",
    "MessageTooLarge", "MessagingTimeout", "NoSuchMethod", "RPCError", "RPCServer",
    "RemoteError", "Target", "Transport", "TransportError", "connect", "transport_for",
]


def transport_for(url: str, **options: object) -> Transport:
    """The transport a URL names: `local://` or `rabbit://user:pass@host:port/vhost`."""
    scheme = url.partition("://")[0]
    if scheme == "local":
        return LocalTransport()
    if scheme in ("rabbit", "amqp"):
        from pocketstack.core.rpc.rabbit import RabbitTransport

        return RabbitTransport(url, **options)  # type: ignore[arg-type]
    raise ValueError(f"unknown RPC transport {scheme!r} in {url!r}; use local:// or rabbit://")


async def connect(cfg: Config) -> RPC:
    """The process's RPC, from `cfg.transport_url` and the `rpc` settings."""
    rc = cfg.rpc
    options: dict[str, object] = {}
    if not cfg.transport_url.startswith("local"):
        options = {"heartbeat": rc.heartbeat, "max_backoff": rc.max_reconnect_delay}
    transport = transport_for(cfg.transport_url, **options)
    if hasattr(transport, "connect"):
        await transport.connect()  # type: ignore[attr-defined]
    return RPC(transport, timeout=rc.response_timeout, codec=Codec(rc.max_message_size),
               max_in_flight=rc.max_in_flight)
