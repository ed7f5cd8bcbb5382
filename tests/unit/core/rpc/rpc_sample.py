"""A sample service for the RPC contract tests: a manager and its typed stub,
written the way a service's manager.py and messages.py are."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from pydantic import BaseModel

from pocketstack.core import exceptions
from pocketstack.core.context import RequestContext
from pocketstack.core.rpc import Client, propagation


class Flavor(BaseModel):
    name: str
    vcpus: int
    ram_mb: int


class Placed(BaseModel):
    instance: uuid.UUID
    host: str
    at: datetime
    flavor: Flavor


class Seen(BaseModel):
    user_id: str | None
    project_id: str | None
    request_id: str
    roles: list[str]
    trace: dict[str, str]


class SampleManager:
    def __init__(self, host: str = "host-1"):
        self.host = host
        self.casts: list[tuple[str, object]] = []
        self.received = asyncio.Event()
        self.running = 0
        self.most_running = 0
        self.finished = 0
        self.release = asyncio.Event()
        self.release.set()

    async def place(self, ctxt: RequestContext, instance: uuid.UUID, flavor: Flavor,
                    at: datetime) -> Placed:
        return Placed(instance=instance, host=self.host, at=at, flavor=flavor)

    async def echo(self, ctxt: RequestContext, value: object = None) -> object:
        return value

    async def whoami(self, ctxt: RequestContext) -> Seen:
        return Seen(user_id=ctxt.user_id, project_id=ctxt.project_id,
                    request_id=ctxt.request_id, roles=ctxt.roles,
                    trace=propagation.current.get() or {})

    async def fail(self, ctxt: RequestContext, kind: str, message: str) -> None:
        if kind == "ValueError":
            raise ValueError(message)
        if kind == "OverQuota":
            raise exceptions.OverQuota(message, status=403, quota="cores")
        raise getattr(exceptions, kind)(message)

    async def slow(self, ctxt: RequestContext, seconds: float) -> str:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await asyncio.sleep(seconds)
            await self.release.wait()
            self.finished += 1
            return self.host
        finally:
            self.running -= 1

    async def record(self, ctxt: RequestContext, event: str, payload: Flavor | None = None) -> None:
        self.casts.append((event, payload))
        self.received.set()

    async def grow(self, ctxt: RequestContext, size: int) -> str:
        return "x" * size

    async def unserialisable(self, ctxt: RequestContext) -> object:
        return object()

    def not_async(self, ctxt: RequestContext) -> None:  # not an RPC method
        pass

    async def _private(self, ctxt: RequestContext) -> None:
        pass


class SampleClient(Client):
    topic = "sample"

    async def place(self, ctxt: RequestContext, instance: uuid.UUID, flavor: Flavor,
                    at: datetime) -> Placed:
        return await self.call(ctxt, "place", instance=instance, flavor=flavor, at=at,
                               returns=Placed)

    async def whoami(self, ctxt: RequestContext) -> Seen:
        return await self.call(ctxt, "whoami", returns=Seen)

    async def record(self, ctxt: RequestContext, event: str, payload: Flavor | None = None):
        await self.cast(ctxt, "record", event=event, payload=payload)

    async def record_everywhere(self, ctxt: RequestContext, event: str) -> None:
        await self.fanout_cast(ctxt, "record", event=event)
