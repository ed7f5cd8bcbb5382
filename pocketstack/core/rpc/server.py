"""The server side: decode a request, run the manager's method, encode the reply.

A manager is a plain object; every public coroutine method is callable over
RPC as `method(ctxt, **args)`. Arguments are rebuilt from the method's
annotations (a pydantic model, a list of them, a UUID...), so the manager
gets typed values, never raw JSON. What the method raises goes back to the
caller (errors.py); a malformed request is logged and answered with an
error when the sender waits for one; the server goes on serving.
"""

from __future__ import annotations

import inspect
import logging
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model
from pydantic import ValidationError as PydanticValidationError

from pocketstack.core.exceptions import PocketstackError, ValidationError
from pocketstack.core.rpc import errors, propagation
from pocketstack.core.rpc.codec import Codec, Request
from pocketstack.core.rpc.errors import MalformedMessage, NoSuchMethod
from pocketstack.core.rpc.target import Target
from pocketstack.core.rpc.transport import Listener, Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Method:
    func: Any
    args: type[BaseModel]


class Dispatcher:
    """Finds and calls a manager's public coroutine methods with typed arguments."""

    def __init__(self, manager: object):
        self.manager = manager
        self._methods: dict[str, _Method] = {}

    def method(self, name: str) -> _Method:
        found = self._methods.get(name)
        if found is None:
            found = self._methods[name] = self._inspect(name)
        return found

    def _inspect(self, name: str) -> _Method:
        func = None if name.startswith("_") else getattr(self.manager, name, None)
        if func is None or not inspect.iscoroutinefunction(func):
            raise NoSuchMethod(f"{type(self.manager).__name__} has no RPC method {name!r}")
        hints = typing.get_type_hints(func)
        params = list(inspect.signature(func).parameters.values())[1:]  # after ctxt
        fields = {
            p.name: (hints.get(p.name, Any), ... if p.default is p.empty else p.default)
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        model = create_model(
            f"{name}_args", __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
            **fields,
        )
        return _Method(func, model)

    async def dispatch(self, request: Request) -> Any:
        method = self.method(request.method)
        try:
            parsed = method.args.model_validate(request.args)
        except PydanticValidationError as exc:
            raise ValidationError(f"invalid arguments for {request.method}: {exc}") from None
        kwargs = {name: getattr(parsed, name) for name in method.args.model_fields}
        with propagation.activate(request.trace):
            return await method.func(request.context, **kwargs)


class RPCServer:
    """Serves one manager on one target, at most `max_in_flight` requests at once."""

    def __init__(
        self, transport: Transport, codec: Codec, target: Target, manager: object,
        *, max_in_flight: int = 64,
    ):
        self.transport = transport
        self.codec = codec
        self.target = target
        self.dispatcher = Dispatcher(manager)
        self.max_in_flight = max_in_flight
        self._listener: Listener | None = None

    async def start(self) -> None:
        self._listener = await self.transport.listen(
            self.target, self.handle, max_in_flight=self.max_in_flight
        )

    async def stop(self) -> None:
        """Take no new request, finish those in flight, then return."""
        if self._listener is not None:
            listener, self._listener = self._listener, None
            await listener.stop()

    async def abort(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            await listener.abort()

    async def handle(self, body: bytes, expects_reply: bool) -> bytes | None:
        try:
            request = self.codec.decode_request(body)
        except MalformedMessage as exc:
            log.warning("rejected a message to %s: %s", self.target, _short(exc))
            return self._error_reply(exc) if expects_reply else None
        try:
            result = await self.dispatcher.dispatch(request)
        except Exception as exc:  # noqa: BLE001 - every error goes back to the caller
            self._log_failure(request, exc)
            return self._error_reply(exc) if expects_reply else None
        if not expects_reply:
            return None
        try:
            return self.codec.reply(result=result)
        except PocketstackError as exc:
            log.error("cannot send the result of %s.%s: %s", self.target, request.method, exc)
            return self._error_reply(exc)

    def _error_reply(self, exc: BaseException) -> bytes:
        try:
            return self.codec.reply(error=errors.describe(exc))
        except PocketstackError:  # e.g. extra that JSON cannot carry
            return self.codec.reply(error={"type": type(exc).__name__, "message": _short(exc)})

    def _log_failure(self, request: Request, exc: Exception) -> None:
        where = f"{self.target}.{request.method} [{request.context.request_id}]"
        if isinstance(exc, PocketstackError):
            log.info("%s raised %s: %s", where, type(exc).__name__, exc)
        else:
            log.exception("%s failed", where, exc_info=exc)


def _short(exc: BaseException, limit: int = 500) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."
