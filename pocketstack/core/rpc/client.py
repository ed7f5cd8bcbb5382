"""The caller's side: `RPC` (call / cast / fanout_cast over one transport) and
`Client`, the base of each service's typed stubs in its `messages.py`."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from pocketstack.core.context import RequestContext
from pocketstack.core.rpc import errors, propagation
from pocketstack.core.rpc.codec import Codec
from pocketstack.core.rpc.errors import MalformedMessage, MessagingTimeout
from pocketstack.core.rpc.server import RPCServer
from pocketstack.core.rpc.target import Target
from pocketstack.core.rpc.transport import Transport

_adapters: dict[Any, TypeAdapter[Any]] = {}


def _adapter(tp: Any) -> TypeAdapter[Any]:
    found = _adapters.get(tp)
    if found is None:
        found = _adapters[tp] = TypeAdapter(tp)
    return found


class RPC:
    """call, cast and fanout_cast with typed arguments, over one transport."""

    def __init__(
        self, transport: Transport, *, timeout: float = 60.0, codec: Codec | None = None,
        max_in_flight: int = 64,
    ):
        self.transport = transport
        self.timeout = timeout
        self.codec = codec or Codec()
        self.max_in_flight = max_in_flight

    async def call(
        self, ctxt: RequestContext, target: str | Target, method: str, /, *,
        timeout: float | None = None, returns: Any = None, **args: Any,  # noqa: ASYNC109
    ) -> Any:
        """Run `method(ctxt, **args)` on one server of `target`; its result, rebuilt
        as `returns` (a type) when given. Raises what the method raised, or
        MessagingTimeout after `timeout` seconds (default `rpc.response_timeout`)."""
        tgt = Target.parse(target)
        if tgt.fanout:
            raise ValueError("a call needs one server; use fanout_cast for every server")
        wait = self.timeout if timeout is None else timeout
        body = self._encode("call", ctxt, tgt, method, args)
        try:
            data = await self.transport.call(tgt, body, timeout=wait)
        except MessagingTimeout as exc:
            raise MessagingTimeout(
                f"timed out after {wait:g}s calling {method} on {tgt}: {exc.message}"
            ) from None
        reply = self.codec.decode_reply(data)
        if reply.error is not None:
            raise errors.rebuild(reply.error)
        if returns is None:
            return reply.result
        try:
            return _adapter(returns).validate_python(reply.result)
        except PydanticValidationError as exc:
            raise MalformedMessage(f"unexpected reply from {tgt} to {method}: {exc}") from None

    async def cast(
        self, ctxt: RequestContext, target: str | Target, method: str, /, **args: Any
    ) -> None:
        """Queue `method(ctxt, **args)` for one server of `target` (or every one,
        for a fanout target); returns once the transport has it (transport.py)."""
        tgt = Target.parse(target)
        body = self._encode("cast", ctxt, tgt, method, args)
        await self.transport.send(tgt, body, timeout=self.timeout)

    async def fanout_cast(
        self, ctxt: RequestContext, topic: str, method: str, /, **args: Any
    ) -> None:
        """Cast to every server of `topic` listening now."""
        await self.cast(ctxt, Target(topic, fanout=True), method, **args)

    async def serve(
        self, target: str | Target, manager: object, *, max_in_flight: int | None = None
    ) -> RPCServer:
        """A started server of `manager`'s public coroutine methods on `target`."""
        server = RPCServer(
            self.transport, self.codec, Target.parse(target), manager,
            max_in_flight=max_in_flight or self.max_in_flight,
        )
        await server.start()
        return server

    async def close(self) -> None:
        await self.transport.close()

    def _encode(
        self, kind: str, ctxt: RequestContext, target: Target, method: str, args: dict[str, Any]
    ) -> bytes:
        if not isinstance(ctxt, RequestContext):
            raise TypeError(f"RPC needs a RequestContext first, not {type(ctxt).__name__}")
        return self.codec.request(kind, str(target), method, args, ctxt,
                                  propagation.inject(ctxt))


class Client:
    """Base of a typed stub: one subclass per topic, one method per remote method.

        class SchedulerClient(Client):
            topic = "scheduler"

            async def select_destinations(self, ctxt, spec: RequestSpec) -> list[str]:
                return await self.call(ctxt, "select_destinations", spec=spec,
                                       returns=list[str])
    """

    topic: ClassVar[str]

    def __init__(self, rpc: RPC, *, server: str | None = None, timeout: float | None = None):
        self.rpc = rpc
        self.target = Target(self.topic, server)
        self.timeout = timeout

    def prepare(self, *, server: str | None = None, timeout: float | None = None) -> Self:
        """The same stub aimed at one server (`compute.<host>`) or with another timeout."""
        return type(self)(self.rpc, server=server or self.target.server,
                          timeout=timeout if timeout is not None else self.timeout)

    async def call(self, ctxt: RequestContext, method: str, /, *, returns: Any = None,
                   **args: Any) -> Any:
        return await self.rpc.call(ctxt, self.target, method, timeout=self.timeout,
                                   returns=returns, **args)

    async def cast(self, ctxt: RequestContext, method: str, /, **args: Any) -> None:
        await self.rpc.cast(ctxt, self.target, method, **args)

    async def fanout_cast(self, ctxt: RequestContext, method: str, /, **args: Any) -> None:
        await self.rpc.fanout_cast(ctxt, self.target.topic, method, **args)
