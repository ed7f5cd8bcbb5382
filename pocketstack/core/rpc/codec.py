"""The only serialisation path of RPC: typed envelopes to JSON bytes and back.

Every transport, the in-process one included, moves only the bytes this
module makes, so a value JSON cannot carry fails on one host exactly as it
would over RabbitMQ. Arguments and results are encoded by pydantic (models,
datetimes, UUIDs, enums, sets...) and rebuilt on the far side from the
receiving method's annotations (server.py) or the caller's `returns` type.
"""

from __future__ import annotations

from typing import Any, Literal

import pydantic_core
from pydantic import BaseModel, Field, ValidationError

from pocketstack.core.context import RequestContext
from pocketstack.core.rpc.errors import MalformedMessage, MessageTooLarge

VERSION = 1
DEFAULT_MAX_SIZE = 4 * 1024 * 1024


class Request(BaseModel):
    """A call or cast: which method, its arguments, who asks, the trace."""

    v: Literal[1] = VERSION
    kind: Literal["call", "cast"]
    target: str
    method: str = Field(min_length=1, max_length=255)
    args: dict[str, Any] = Field(default_factory=dict)
    context: RequestContext
    trace: dict[str, str] = Field(default_factory=dict)


class Reply(BaseModel):
    """The answer to a call: its result, or the error the method raised."""

    v: Literal[1] = VERSION
    result: Any = None
    error: dict[str, Any] | None = None


class Codec:
    def __init__(self, max_size: int = DEFAULT_MAX_SIZE):
        self.max_size = max_size

    def request(self, kind: str, target: str, method: str, args: dict[str, Any],
                context: RequestContext, trace: dict[str, str]) -> bytes:
        """A Request's bytes, built without validating it first (the far side does)."""
        return self._dump({"v": VERSION, "kind": kind, "target": target, "method": method,
                           "args": args, "context": context, "trace": trace})

    def reply(self, result: Any = None, error: dict[str, Any] | None = None) -> bytes:
        return self._dump({"v": VERSION, "result": result, "error": error})

    def encode(self, message: Request | Reply) -> bytes:
        return self._dump(message)

    def _dump(self, message: object) -> bytes:
        try:
            data = pydantic_core.to_json(message)
        except pydantic_core.PydanticSerializationError as exc:
            raise MalformedMessage(f"cannot encode RPC message as JSON: {exc}") from exc
        self._check_size(data)
        return data

    def decode_request(self, data: bytes) -> Request:
        return self._decode(Request, data)

    def decode_reply(self, data: bytes) -> Reply:
        return self._decode(Reply, data)

    def _decode(self, model: type[BaseModel], data: bytes) -> Any:
        self._check_size(data)
        try:
            return model.model_validate_json(data)
        except ValidationError as exc:
            raise MalformedMessage(f"malformed RPC {model.__name__.lower()}: {exc}") from exc

    def _check_size(self, data: bytes) -> None:
        if len(data) > self.max_size:
            raise MessageTooLarge(
                f"RPC message of {len(data)} bytes is over the limit of {self.max_size}"
            )
