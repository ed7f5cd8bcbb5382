"""The transport contract: send / call / listen, bytes in and bytes out.

A transport moves opaque message bodies (made by codec.py) between a sender
and the servers of a Target; it knows nothing of methods or contexts.

Addressing. `Target(topic)` reaches one server of the topic; each message
goes to exactly one of the listeners of that topic (round robin).
`Target(topic, server=h)` reaches the listener(s) of that server only.
`Target(topic, fanout=True)` reaches every listener of the topic that is
listening when the message is sent; with no listener it is dropped.

send(target, body) — one way (a cast).
  Returns once the transport has taken responsibility for the message: the
  broker confirmed it (RabbitMQ, publisher confirms) or it is queued in the
  process (local). A message to a topic or server with no listener yet is
  kept until one listens (not for fanout). While the broker is unreachable
  send retries with backoff, up to `timeout` seconds, then raises
  TransportError. Delivery is at least once: a confirm lost in a broken
  connection means the message is sent again, and a server that dies while
  handling a cast gets it again after restart. Cast handlers must tolerate
  a duplicate (be idempotent).

call(target, body, timeout) -> reply body — request and reply.
  Blocks until the reply arrives or `timeout` seconds pass, then raises
  MessagingTimeout; it never waits longer, whatever the broker does. A
  request is sent at most once and is never redelivered (a server that dies
  while handling it leaves the caller to time out); a request not taken by
  a server within `timeout` is discarded, so an abandoned call never runs
  late. Calls are independent: many may be in flight at once.

listen(target, handler, max_in_flight) -> Listener.
  Consumes the target's queue(s): for Target(topic, server=h), the topic's
  shared queue, the server's own queue and the topic's fanout; for
  Target(topic), the shared queue and the fanout; for Target(topic,
  fanout=True), the fanout only. (So one server per host and topic receives
  all three kinds of message; serving the fanout again would get each
  fanout message twice.)
  `handler(body, expects_reply)` runs as its own task, at most
  `max_in_flight` at once per listener; its return value is the reply body
  of a call (ignored for a cast). A handler must not raise; if it does, the
  transport logs it and a call's caller times out. Messages of one queue
  start in the order they were sent, but with max_in_flight > 1 may finish
  in any order. After the connection to a broker is lost, a listener
  consumes again by itself once it is back.

Listener.stop() stops taking messages, then waits for the handlers in
flight to finish (graceful). Listener.abort() cancels them (a crash, for
tests). close() releases the transport; it is idempotent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from pocketstack.core.rpc.target import Target

Handler = Callable[[bytes, bool], Awaitable[bytes | None]]


class Listener(ABC):
    @abstractmethod
    async def stop(self) -> None:
        """Take no more messages; return when the handlers in flight are done."""

    @abstractmethod
    async def abort(self) -> None:
        """Take no more messages and cancel the handlers in flight."""


class Transport(ABC):
    @abstractmethod
    async def send(self, target: Target, body: bytes, *, timeout: float) -> None: ...  # noqa: ASYNC109

    @abstractmethod
    async def call(self, target: Target, body: bytes, *, timeout: float) -> bytes: ...  # noqa: ASYNC109

    @abstractmethod
    async def listen(self, target: Target, handler: Handler, *, max_in_flight: int) -> Listener:
        ...

    @abstractmethod
    async def close(self) -> None: ...
