"""The RPC contract (core/rpc/transport.py), the same on every transport."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from pocketstack.core import exceptions
from pocketstack.core.context import RequestContext
from pocketstack.core.rpc import (
    Client,
    MalformedMessage,
    MessageTooLarge,
    MessagingTimeout,
    NoSuchMethod,
    RemoteError,
    Target,
    propagation,
)

# -- a sample service, written as a manager.py and a messages.py are ----------

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


# -- the contract -------------------------------------------------------------

CTX = RequestContext(user_id="u1", project_id="p1", roles=["member", "reader"])


def topic() -> str:
    """A fresh topic per test, so a broker's leftovers never leak between tests."""
    return f"sample-{uuid.uuid4().hex[:8]}"


def client(rpc, name: str, **kw) -> SampleClient:
    stub = SampleClient(rpc, **kw)
    stub.target = Target(name, kw.get("server"))
    return stub


async def eventually(check, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_call_rebuilds_typed_arguments_and_result(rpc):
    name = topic()
    server = await rpc.serve(Target(name, server="host-1"), SampleManager("host-1"))
    iid, at = uuid.uuid4(), datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    placed = await client(rpc, name).place(CTX, iid, Flavor(name="m1", vcpus=1, ram_mb=512), at)
    assert placed == Placed(instance=iid, host="host-1", at=at,
                            flavor=Flavor(name="m1", vcpus=1, ram_mb=512))
    # without `returns` the caller gets the JSON value
    raw = await rpc.call(CTX, name, "echo", value={"a": [1, 2.5, None, "x"]})
    assert raw == {"a": [1, 2.5, None, "x"]}
    await server.stop()


async def test_context_and_trace_travel_with_the_message(rpc):
    name = topic()
    server = await rpc.serve(name, SampleManager())
    parent = {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}
    with propagation.activate(parent):
        seen = await client(rpc, name).whoami(CTX)
    assert (seen.user_id, seen.project_id, seen.request_id) == ("u1", "p1", CTX.request_id)
    assert seen.roles == ["member", "reader"]
    assert seen.trace == parent
    traced = CTX.model_copy(update={"trace_id": "c" * 32})
    seen = await client(rpc, name).whoami(traced)
    assert seen.trace["traceparent"].startswith("00-" + "c" * 32 + "-")
    await server.stop()


@pytest.mark.parametrize("kind", [
    "BadRequest", "ValidationError", "Unauthorized", "Forbidden", "NotFound",
    "MethodNotAllowed", "NotAcceptable", "Conflict", "Gone", "PayloadTooLarge",
    "UnsupportedMediaType", "RangeNotSatisfiable", "ServiceUnavailable", "PocketstackError",
])
async def test_remote_errors_come_back_as_the_same_class(rpc, kind):
    name = topic()
    server = await rpc.serve(name, SampleManager())
    with pytest.raises(exceptions.PocketstackError) as caught:
        await rpc.call(CTX, name, "fail", kind=kind, message=f"boom {kind}")
    assert type(caught.value) is getattr(exceptions, kind)
    assert caught.value.message == f"boom {kind}"
    assert caught.value.status == getattr(exceptions, kind).status
    await server.stop()


async def test_remote_error_keeps_status_and_extra(rpc):
    name = topic()
    server = await rpc.serve(name, SampleManager())
    with pytest.raises(exceptions.OverQuota) as caught:
        await rpc.call(CTX, name, "fail", kind="OverQuota", message="cores")
    assert (caught.value.status, caught.value.extra) == (403, {"quota": "cores"})
    await server.stop()


async def test_other_errors_come_back_as_remote_error(rpc):
    name = topic()
    server = await rpc.serve(name, SampleManager())
    with pytest.raises(RemoteError) as caught:
        await rpc.call(CTX, name, "fail", kind="ValueError", message="bad value")
    assert caught.value.exc_type == "ValueError"
    assert "bad value" in caught.value.message
    await server.stop()


async def test_unknown_private_or_sync_methods_are_refused(rpc):
    name = topic()
    server = await rpc.serve(name, SampleManager())
    for method in ("nope", "_private", "not_async", "__init__"):
        with pytest.raises(NoSuchMethod):
            await rpc.call(CTX, name, method)
    await server.stop()


async def test_bad_arguments_are_a_validation_error(rpc):
    name = topic()
    server = await rpc.serve(name, SampleManager())
    with pytest.raises(exceptions.ValidationError, match="instance"):
        await rpc.call(CTX, name, "place", instance="not-a-uuid", flavor={}, at="x")
    with pytest.raises(exceptions.ValidationError, match="surprise"):
        await rpc.call(CTX, name, "echo", value=1, surprise=2)
    # and the server still answers
    assert await rpc.call(CTX, name, "echo", value=3) == 3
    await server.stop()


async def test_what_json_cannot_carry_fails_on_every_transport(rpc):
    name = topic()
    server = await rpc.serve(name, SampleManager())
    with pytest.raises(MalformedMessage, match="JSON"):
        await rpc.call(CTX, name, "echo", value=object())
    with pytest.raises(MalformedMessage, match="JSON"):
        await rpc.call(CTX, name, "unserialisable")
    assert await rpc.call(CTX, name, "echo", value=(1, 2)) == [1, 2]  # as JSON has it
    await server.stop()


async def test_a_call_nobody_answers_times_out_naming_topic_and_method(rpc):
    name = topic()
    began = time.monotonic()
    with pytest.raises(MessagingTimeout) as caught:
        await rpc.call(CTX, name, "place", timeout=0.3)
    assert 0.25 < time.monotonic() - began < 2.0
    assert name in str(caught.value) and "place" in str(caught.value)
    assert isinstance(caught.value, TimeoutError)


async def test_a_slow_method_times_out_and_its_late_reply_is_dropped(rpc):
    name = topic()
    manager = SampleManager()
    server = await rpc.serve(name, manager)
    with pytest.raises(MessagingTimeout, match="slow"):
        await rpc.call(CTX, name, "slow", seconds=0.5, timeout=0.1)
    await eventually(lambda: manager.finished == 1)
    assert await rpc.call(CTX, name, "echo", value="next") == "next"
    await server.stop()


async def test_cast_is_delivered(rpc):
    name = topic()
    manager = SampleManager()
    server = await rpc.serve(name, manager)
    await client(rpc, name).record(CTX, "built", Flavor(name="m1", vcpus=2, ram_mb=64))
    await eventually(lambda: manager.casts)
    assert manager.casts == [("built", Flavor(name="m1", vcpus=2, ram_mb=64))]
    await server.stop()


async def test_a_cast_sent_before_the_server_starts_waits_for_it(rpc):
    name = topic()
    await rpc.cast(CTX, Target(name, server="late"), "record", event="early")
    manager = SampleManager()
    server = await rpc.serve(Target(name, server="late"), manager)
    await eventually(lambda: manager.casts)
    assert manager.casts == [("early", None)]
    await server.stop()


async def test_server_target_reaches_that_server_only(rpc):
    name = topic()
    managers = {h: SampleManager(h) for h in ("host-a", "host-b")}
    servers = [await rpc.serve(Target(name, server=h), m) for h, m in managers.items()]
    for _ in range(4):
        assert await rpc.call(CTX, f"{name}.host-b", "slow", seconds=0) == "host-b"
    assert (managers["host-a"].finished, managers["host-b"].finished) == (0, 4)
    for s in servers:
        await s.stop()


async def test_topic_target_spreads_over_the_servers(rpc):
    name = topic()
    managers = [SampleManager(h) for h in ("host-a", "host-b")]
    servers = [await rpc.serve(Target(name, server=m.host), m) for m in managers]
    hosts = await asyncio.gather(*(
        rpc.call(CTX, name, "slow", seconds=0.05) for _ in range(8)
    ))
    assert set(hosts) == {"host-a", "host-b"}
    for s in servers:
        await s.stop()


async def test_fanout_reaches_every_server(rpc):
    name = topic()
    managers = [SampleManager(h) for h in ("host-a", "host-b", "host-c")]
    servers = [await rpc.serve(Target(name, server=m.host), m) for m in managers]
    await client(rpc, name).record_everywhere(CTX, "refresh")
    await eventually(lambda: all(m.casts for m in managers))
    await asyncio.sleep(0.1)
    assert [m.casts for m in managers] == [[("refresh", None)]] * 3
    for s in servers:
        await s.stop()


async def test_calls_run_concurrently_up_to_the_bound(rpc):
    name = topic()
    manager = SampleManager()
    server = await rpc.serve(name, manager, max_in_flight=3)
    began = time.monotonic()
    await asyncio.gather(*(rpc.call(CTX, name, "slow", seconds=0.3) for _ in range(9)))
    elapsed = time.monotonic() - began
    assert manager.most_running == 3
    assert 0.85 < elapsed < 2.2  # three rounds of three, not nine in a row (2.7 s)
    await server.stop()


async def test_graceful_stop_finishes_the_requests_in_flight(rpc):
    name = topic()
    manager = SampleManager()
    manager.release.clear()
    server = await rpc.serve(name, manager)
    calls = [asyncio.create_task(rpc.call(CTX, name, "slow", seconds=0)) for _ in range(3)]
    await eventually(lambda: manager.running == 3)
    stopping = asyncio.create_task(server.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()  # waits for the three
    manager.release.set()
    await stopping
    assert await asyncio.gather(*calls) == ["host-1"] * 3
    with pytest.raises(MessagingTimeout):  # and takes nothing new
        await rpc.call(CTX, name, "echo", value=1, timeout=0.3)


async def test_malformed_messages_are_rejected_and_the_server_goes_on(rpc, caplog):
    name = topic()
    manager = SampleManager()
    server = await rpc.serve(name, manager)
    caplog.set_level(logging.WARNING, logger="pocketstack.core.rpc")
    for junk in (b"not json", b"{}", b'{"v": 9}', b"\xff\xfe", b"[1,2]"):
        await rpc.transport.send(Target(name), junk, timeout=5)
    reply = rpc.codec.decode_reply(await rpc.transport.call(Target(name), b"{}", timeout=5))
    assert reply.error["type"] == "MalformedMessage"
    assert await rpc.call(CTX, name, "echo", value="still here") == "still here"
    await eventually(lambda: sum("rejected" in r.message for r in caplog.records) >= 6)
    await server.stop()


async def test_oversized_messages_are_refused_on_both_sides(rpc, caplog):
    name = topic()
    server = await rpc.serve(name, SampleManager())
    big = "x" * (rpc.codec.max_size + 1)
    with pytest.raises(MessageTooLarge):  # the caller refuses to send it
        await rpc.call(CTX, name, "echo", value=big)
    with pytest.raises(MessageTooLarge):  # a result too large comes back as an error
        await rpc.call(CTX, name, "grow", size=rpc.codec.max_size + 1)
    caplog.set_level(logging.WARNING, logger="pocketstack.core.rpc")
    await rpc.transport.send(Target(name), big.encode(), timeout=5)  # a sender without limits
    await eventually(lambda: any("over the limit" in r.message for r in caplog.records))
    assert await rpc.call(CTX, name, "echo", value="ok") == "ok"
    await server.stop()


async def test_a_context_is_required(rpc):
    with pytest.raises(TypeError, match="RequestContext"):
        await rpc.call({"user": "x"}, topic(), "echo")


async def test_a_fanout_listener_takes_fanout_only(rpc):
    name = topic()
    everywhere, shared = SampleManager("fanout-only"), SampleManager("shared")
    servers = [await rpc.serve(Target(name, fanout=True), everywhere),
               await rpc.serve(Target(name), shared)]
    for _ in range(3):
        assert await rpc.call(CTX, name, "slow", seconds=0) == "shared"
    await rpc.fanout_cast(CTX, name, "record", event="both")
    await eventually(lambda: everywhere.casts and shared.casts)
    assert everywhere.finished == 0
    for s in servers:
        await s.stop()
