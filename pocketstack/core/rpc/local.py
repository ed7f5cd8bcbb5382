"""The in-process transport (`local://`): asyncio queues, one per queue name.

It keeps the contract of transport.py exactly, as the fake the other
transports are tested against: only bytes cross it (the codec always runs),
casts wait in their queue until a server listens, a call's request is
dropped once its caller has given up, fanout reaches the listeners present.
`LocalTransport(drop=...)` loses the messages a predicate picks, for tests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from pocketstack.core.rpc.errors import MessagingTimeout
from pocketstack.core.rpc.target import Target
from pocketstack.core.rpc.transport import Handler, Listener, Transport

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Message:
    body: bytes
    reply: asyncio.Future[bytes] | None = None
    deadline: float | None = None  # time.monotonic() after which nobody waits


class _Queue:
    """A FIFO that hands each message straight to the longest-waiting consumer,
    so the servers of a topic take turns (as RabbitMQ's round robin does)."""

    def __init__(self) -> None:
        self.messages: deque[_Message] = deque()
        self.waiters: deque[asyncio.Future[_Message]] = deque()

    def put(self, message: _Message) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(message)
                return
        self.messages.append(message)

    async def get(self) -> _Message:
        if self.messages:
            return self.messages.popleft()
        waiter: asyncio.Future[_Message] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.messages.appendleft(waiter.result())  # handed over as we left
            raise


class LocalTransport(Transport):
    def __init__(self, *, drop: Callable[[Target, bytes], bool] | None = None):
        self._queues: dict[str, _Queue] = {}
        self._fanout: dict[str, set[_LocalListener]] = {}
        self._listeners: set[_LocalListener] = set()
        self._drop = drop

    def queue(self, name: str) -> _Queue:
        q = self._queues.get(name)
        if q is None:
            q = self._queues[name] = _Queue()
        return q

    async def send(self, target: Target, body: bytes, *, timeout: float = 0) -> None:  # noqa: ASYNC109
        if self._drop is not None and self._drop(target, body):
            return
        if target.fanout:
            for listener in list(self._fanout.get(target.topic, ())):
                listener.fanout_queue.put(_Message(body))
        else:
            self.queue(target.queue).put(_Message(body))

    async def call(self, target: Target, body: bytes, *, timeout: float) -> bytes:  # noqa: ASYNC109
        reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        if self._drop is None or not self._drop(target, body):
            self.queue(target.queue).put(
                _Message(body, reply, time.monotonic() + timeout)
            )
        try:
            async with asyncio.timeout(timeout):
                return await reply
        except TimeoutError:
            raise MessagingTimeout(f"no reply from {target}") from None
        finally:
            reply.cancel()

    async def listen(self, target: Target, handler: Handler, *, max_in_flight: int) -> Listener:
        listener = _LocalListener(self, handler, max_in_flight)
        queues = [] if target.fanout else [self.queue(target.topic)]
        if target.server:
            queues.append(self.queue(target.queue))
        queues.append(listener.fanout_queue)
        self._fanout.setdefault(target.topic, set()).add(listener)
        listener.start(target.topic, queues)
        self._listeners.add(listener)
        return listener

    def _forget(self, listener: _LocalListener) -> None:
        self._listeners.discard(listener)
        for members in self._fanout.values():
            members.discard(listener)

    async def close(self) -> None:
        for listener in list(self._listeners):
            await listener.stop()


class _LocalListener(Listener):
    def __init__(self, transport: LocalTransport, handler: Handler, max_in_flight: int):
        self.transport = transport
        self.handler = handler
        self.max_in_flight = max_in_flight
        self.room = asyncio.Event()
        self.room.set()
        self.fanout_queue: _Queue = _Queue()
        self.consumers: list[asyncio.Task[None]] = []
        self.in_flight: set[asyncio.Task[None]] = set()

    def start(self, topic: str, queues: list[_Queue]) -> None:
        self.consumers = [
            asyncio.create_task(self._consume(q), name=f"rpc-local-{topic}") for q in queues
        ]

    async def _consume(self, queue: _Queue) -> None:
        while True:
            await self.room.wait()  # take a message only with a slot free for it
            message = await queue.get()
            if message.deadline is not None and (
                message.reply is None or message.reply.done()
                or time.monotonic() > message.deadline
            ):
                continue  # its caller gave up: never run it late
            while len(self.in_flight) >= self.max_in_flight:  # another queue took the slot
                await self.room.wait()
            task = asyncio.create_task(self._handle(message))
            self.in_flight.add(task)
            task.add_done_callback(self._done)
            if len(self.in_flight) >= self.max_in_flight:
                self.room.clear()

    def _done(self, task: asyncio.Task[None]) -> None:
        self.in_flight.discard(task)
        self.room.set()

    async def _handle(self, message: _Message) -> None:
        try:
            reply = await self.handler(message.body, message.reply is not None)
            if message.reply is not None and not message.reply.done() and reply is not None:
                message.reply.set_result(reply)
        except Exception:
            log.exception("RPC handler failed")

    async def _stop_consuming(self) -> None:
        self.transport._forget(self)
        for task in self.consumers:
            task.cancel()
        await asyncio.gather(*self.consumers, return_exceptions=True)

    async def stop(self) -> None:
        await self._stop_consuming()
        while self.in_flight:
            await asyncio.gather(*list(self.in_flight), return_exceptions=True)

    async def abort(self) -> None:
        await self._stop_consuming()
        for task in list(self.in_flight):
            task.cancel()
        await asyncio.gather(*list(self.in_flight), return_exceptions=True)
