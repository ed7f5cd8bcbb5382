"""The RabbitMQ transport (`rabbit://user:pass@host:5672/vhost`), through aio-pika.

Layout on the broker (AMQP 0-9-1, default exchange for direct routing):
  queue `topic`            durable, shared by every server of the topic
  queue `topic.server`     durable, one server's own
  exchange `topic_fanout`  fanout; each listener binds an exclusive queue
  queue `reply_<uuid>`     exclusive, this process's replies (correlation id)
Every message is acked once its handler ran, so a listener's prefetch count
is its bound on requests in flight. Casts are persistent, published with
publisher confirms, and redelivered if their server dies (at least once).
Call requests carry an expiration of their timeout; one the broker
redelivers is dropped, never run twice (at most once).

One supervisor task owns the connection: it connects, sets up the channels,
the reply queue and every listener's consumers, waits for the connection to
drop, and reconnects with exponential backoff and jitter, so consumers come
back by themselves. Publishers wait for it (within their own timeout).
aio-pika owns connections, channels and declarations; publishing and
consuming go through its underlying aiormq channel, which spares a lock held
across each socket write and a second task per delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from aiormq.abc import DeliveredMessage
from yarl import URL

from pocketstack.core.rpc.errors import MessagingTimeout, TransportError
from pocketstack.core.rpc.target import Target
from pocketstack.core.rpc.transport import Handler, Listener, Transport

log = logging.getLogger(__name__)

_PERSISTENT = 2
_TRANSIENT = 1


async def _publish(channel: AbstractChannel, body: bytes, routing_key: str, *,
                   exchange: str = "", **properties: Any) -> object:
    """Publish on aio-pika's underlying channel without waiting for the socket
    write (aio-pika's own publish holds the channel's lock until it drains);
    with publisher confirms on, it returns the broker's Ack or Nack."""
    raw = await channel.get_underlay_channel()
    return await raw.basic_publish(
        body, exchange=exchange, routing_key=routing_key, wait=False,
        properties=aiormq.spec.Basic.Properties(content_type="application/json", **properties),
    )


def amqp_url(url: str, heartbeat: int) -> URL:
    """`rabbit://u:p@h:5672/vhost` as aio-pika's `amqp://` URL, with the heartbeat."""
    parsed = URL(url)
    if parsed.scheme not in ("rabbit", "amqp"):
        raise ValueError(f"not a RabbitMQ URL: {url!r}")
    return parsed.with_scheme("amqp").update_query(heartbeat=heartbeat)


class RabbitTransport(Transport):
    def __init__(self, url: str, *, heartbeat: int = 30, max_backoff: float = 10.0,
                 connect_timeout: float = 5.0):
        self.url = amqp_url(url, heartbeat)
        self.max_backoff = max_backoff
        self.connect_timeout = connect_timeout
        self.reply_queue = f"reply_{uuid.uuid4().hex}"
        self._pending: dict[str, asyncio.Future[bytes]] = {}
        self._listeners: set[_RabbitListener] = set()
        self._declared: dict[str, AbstractExchange] = {}  # per connection
        self._ready = asyncio.Event()
        self._closing = False
        self._conn: AbstractConnection | None = None
        self._publish: AbstractChannel | None = None  # call requests and replies
        self._confirm: AbstractChannel | None = None  # casts, with publisher confirms
        self._supervisor: asyncio.Task[None] | None = None

    # -- the connection ---------------------------------------------------------

    async def connect(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Start the supervisor; wait (up to `timeout`) for a first connection."""
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._supervise(), name="rpc-rabbit")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout or self.connect_timeout):
                await self._ready.wait()

    async def _supervise(self) -> None:
        delay = 0.1
        while not self._closing:
            try:
                lost = await self._open()
                delay = 0.1
                await lost.wait()
                log.warning("connection to RabbitMQ lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: back off and retry
                level = logging.WARNING if delay <= 0.1 else logging.DEBUG
                log.log(level, "RabbitMQ not reachable (%s); retrying with backoff", exc)
            self._ready.clear()
            self._declared.clear()
            await self._drop_connection()
            if self._closing:
                return
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, self.max_backoff)

    async def _open(self) -> asyncio.Event:
        """Connect and set everything up; the event is set when the connection drops."""
        conn = self._conn = await aio_pika.connect(self.url, timeout=self.connect_timeout)
        lost = asyncio.Event()
        conn.close_callbacks.add(lambda *_: lost.set())
        self._publish = await conn.channel(publisher_confirms=False)
        self._confirm = await conn.channel(publisher_confirms=True)
        replies = await conn.channel(publisher_confirms=False)
        await replies.declare_queue(self.reply_queue, exclusive=True, auto_delete=True)
        raw = await replies.get_underlay_channel()
        await raw.basic_consume(self.reply_queue, self._on_reply, no_ack=True)
        for listener in list(self._listeners):
            await listener.attach(conn)
        self._ready.set()
        log.info("connected to RabbitMQ at %s", self.url.with_password("***"))
        return lost

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _wait_ready(self, deadline: float, what: str) -> None:
        remaining = deadline - time.monotonic()
        try:
            async with asyncio.timeout(max(remaining, 0)):
                await self._ready.wait()
        except TimeoutError:
            raise TransportError(f"RabbitMQ unreachable; could not {what}") from None

    async def _exchange(self, target: Target, channel: AbstractChannel) -> AbstractExchange:
        """Where a cast to `target` is published; its queue declared so it waits there."""
        if not target.fanout:
            if target.queue not in self._declared:
                await channel.declare_queue(target.queue, durable=True)
                self._declared[target.queue] = channel.default_exchange
            return channel.default_exchange
        exchange = self._declared.get(target.queue)
        if exchange is None:
            exchange = self._declared[target.queue] = await channel.declare_exchange(
                target.queue, aio_pika.ExchangeType.FANOUT, durable=True
            )
        return exchange

    # -- the contract -----------------------------------------------------------

    async def send(self, target: Target, body: bytes, *, timeout: float) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            await self._wait_ready(deadline, f"send to {target}")
            try:
                channel = self._confirm
                assert channel is not None
                exchange = await self._exchange(target, channel)
                key = "" if target.fanout else target.queue
                async with asyncio.timeout(max(deadline - time.monotonic(), 0.01)):
                    confirm = await _publish(channel, body, key, exchange=exchange.name,
                                             delivery_mode=_PERSISTENT)
                if not isinstance(confirm, aiormq.spec.Basic.Ack):
                    raise TransportError(f"the broker did not take the message: {confirm}")
                return
            except TimeoutError:
                raise TransportError(f"RabbitMQ did not confirm a message to {target} "
                                     f"within {timeout:g}s") from None
            except Exception as exc:  # noqa: BLE001 - the connection broke: send again
                if time.monotonic() + delay > deadline:
                    raise TransportError(f"could not send to {target}: {exc}") from exc
                log.info("sending to %s failed (%s); retrying", target, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def call(self, target: Target, body: bytes, *, timeout: float) -> bytes:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        cid = uuid.uuid4().hex
        reply = self._pending[cid] = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout):
                await self._publish_request(target, body, cid, deadline)
                return await reply
        except TransportError as exc:
            raise MessagingTimeout(f"request not sent: {exc.message}") from None
        except TimeoutError:
            sent = "no reply" if self._ready.is_set() else "RabbitMQ unreachable; no reply"
            raise MessagingTimeout(f"{sent} from {target}") from None
        finally:
            self._pending.pop(cid, None)

    async def _publish_request(self, target: Target, body: bytes, cid: str,
                               deadline: float) -> None:
        while True:
            await self._wait_ready(deadline, f"call {target}")
            try:
                assert self._publish is not None
                ttl_ms = max(int((deadline - time.monotonic()) * 1000), 1)
                await _publish(self._publish, body, target.queue, delivery_mode=_TRANSIENT,
                               correlation_id=cid, reply_to=self.reply_queue,
                               expiration=str(ttl_ms))
                return
            except Exception as exc:  # noqa: BLE001 - not sent: try again while time remains
                log.info("publishing a call to %s failed (%s); retrying", target, exc)
                await asyncio.sleep(0.05)

    async def _on_reply(self, message: DeliveredMessage) -> None:
        reply = self._pending.get(message.header.properties.correlation_id or "")
        if reply is not None and not reply.done():
            reply.set_result(message.body)

    async def _send_reply(self, reply_to: str, cid: str | None, body: bytes) -> None:
        channel = self._publish
        if channel is None or channel.is_closed:
            log.warning("reply to %s lost: not connected", reply_to)
            return
        try:
            await _publish(channel, body, reply_to, correlation_id=cid, delivery_mode=_TRANSIENT)
        except Exception as exc:  # noqa: BLE001 - the caller will time out
            log.warning("reply to %s lost: %s", reply_to, exc)

    async def listen(self, target: Target, handler: Handler, *, max_in_flight: int) -> Listener:
        listener = _RabbitListener(self, target, handler, max_in_flight)
        self._listeners.add(listener)
        if self._conn is not None and self._ready.is_set():
            await listener.attach(self._conn)
        return listener

    async def close(self) -> None:
        self._closing = True
        for listener in list(self._listeners):
            await listener.stop()
        for reply in self._pending.values():
            reply.cancel()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self._drop_connection()


class _RabbitListener(Listener):
    def __init__(self, transport: RabbitTransport, target: Target, handler: Handler,
                 max_in_flight: int):
        self.transport = transport
        self.target = target
        self.handler = handler
        self.max_in_flight = max_in_flight
        self.channel: AbstractChannel | None = None
        self.consumers: list[tuple[aiormq.abc.AbstractChannel, str]] = []
        self.in_flight: set[asyncio.Task[None]] = set()
        self.stopped = False

    async def attach(self, conn: AbstractConnection) -> None:
        """Declare this listener's queues and consume them on a new channel."""
        channel = self.channel = await conn.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=self.max_in_flight)
        queues = []
        if not self.target.fanout:
            queues.append(await channel.declare_queue(self.target.topic, durable=True))
        if self.target.server:
            queues.append(await channel.declare_queue(self.target.queue, durable=True))
        fanout = await channel.declare_exchange(
            Target(self.target.topic, fanout=True).queue, aio_pika.ExchangeType.FANOUT,
            durable=True,
        )
        mine = await channel.declare_queue(
            f"{fanout.name}_{uuid.uuid4().hex[:12]}", exclusive=True, auto_delete=True
        )
        await mine.bind(fanout)
        queues.append(mine)
        # Consumed on aiormq's channel itself: aiormq already runs each delivery
        # in a task of its own, and aio-pika's wrapper would add another.
        raw = await channel.get_underlay_channel()
        self.consumers = [
            (raw, (await raw.basic_consume(q.name, self._on_message)).consumer_tag)
            for q in queues
        ]

    async def _on_message(self, message: DeliveredMessage) -> None:
        """Runs in its own task (aiormq makes one per delivery)."""
        tag = message.delivery.delivery_tag
        if self.stopped:  # delivered while we were cancelling: leave it to another server
            await _settle(message.channel.basic_nack(tag, requeue=True, wait=False))
            return
        task = asyncio.current_task()
        assert task is not None
        self.in_flight.add(task)
        try:
            await self._handle(message)
        finally:
            self.in_flight.discard(task)

    async def _handle(self, message: DeliveredMessage) -> None:
        props = message.header.properties
        is_call = props.reply_to is not None
        try:
            if is_call and message.delivery.redelivered:
                log.info("dropped a call to %s redelivered by the broker: it may have run "
                         "already, and its caller may have given up", self.target)
                return
            reply = await self.handler(message.body, is_call)
            if is_call and reply is not None:
                await self.transport._send_reply(props.reply_to, props.correlation_id, reply)
        except Exception:
            log.exception("RPC handler for %s failed", self.target)
        finally:
            # Acked once handled, so the prefetch bounds the requests in flight.
            await _settle(message.channel.basic_ack(message.delivery.delivery_tag, wait=False))

    async def _detach(self) -> None:
        self.stopped = True
        self.transport._listeners.discard(self)
        for raw, tag in self.consumers:
            with contextlib.suppress(Exception):
                await raw.basic_cancel(tag)
        self.consumers = []

    async def stop(self) -> None:
        await self._detach()
        while self.in_flight:
            await asyncio.gather(*list(self.in_flight), return_exceptions=True)
        await self._close_channel()

    async def abort(self) -> None:
        await self._detach()
        for task in list(self.in_flight):
            task.cancel()
        await asyncio.gather(*list(self.in_flight), return_exceptions=True)
        await self._close_channel()

    async def _close_channel(self) -> None:
        if self.channel is not None and not self.channel.is_closed:
            with contextlib.suppress(Exception):
                await self.channel.close()  # unacked casts go back to their queue
        self.channel = None


async def _settle(ack: Any) -> None:
    with contextlib.suppress(Exception):  # the channel is gone: the broker redelivers
        await ack
