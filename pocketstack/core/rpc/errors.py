"""The errors of RPC itself, and how a remote exception crosses the wire.

    PocketstackError (core/exceptions.py)
     +-- RPCError (500)
          +-- MessagingTimeout      no reply within the timeout (names topic and method)
          +-- RemoteError           the remote raised something outside the error tree
          +-- NoSuchMethod          the server's manager has no such public method
          +-- MalformedMessage      not a message we can decode (bad JSON, bad envelope)
          +-- MessageTooLarge       over `rpc.max_message_size`
          +-- TransportError        the broker could not be reached in time

An exception raised by a remote method comes back as the same class when it
is a PocketstackError subclass this process knows (the whole core tree and
any service's subclasses), with its message, status and extra; anything else
comes back as RemoteError carrying the remote type's name.
"""

from __future__ import annotations

from typing import Any

from pocketstack.core.exceptions import PocketstackError


class RPCError(PocketstackError):
    pass


class MessagingTimeout(RPCError, TimeoutError):
    title = "Messaging Timeout"


class RemoteError(RPCError):
    def __init__(self, exc_type: str, message: str | None = None, **extra: Any):
        self.exc_type = exc_type
        super().__init__(f"{exc_type}: {message}" if message else exc_type, **extra)


class NoSuchMethod(RPCError):
    status = 400


class MalformedMessage(RPCError):
    status = 400


class MessageTooLarge(MalformedMessage):
    status = 413


class TransportError(RPCError):
    status = 503


def describe(exc: BaseException) -> dict[str, Any]:
    """The wire form of an exception raised by a remote method."""
    cls = type(exc)
    info: dict[str, Any] = {"type": cls.__name__, "module": cls.__module__}
    if isinstance(exc, PocketstackError):
        info.update(message=exc.message, status=exc.status, extra=exc.extra)
    else:
        info["message"] = str(exc)
    if isinstance(exc, RemoteError):
        info["type"] = exc.exc_type
        info["message"] = exc.message.removeprefix(f"{exc.exc_type}: ")
    return info


def rebuild(info: dict[str, Any]) -> Exception:
    """The exception `describe` gave the wire form of, as far as this process knows it."""
    cls = _known().get((info.get("module"), info.get("type")))
    message = info.get("message")
    if cls is None or cls is RemoteError:
        return RemoteError(str(info.get("type", "Exception")), message)
    exc = cls.__new__(cls)
    PocketstackError.__init__(exc, message, status=info.get("status"), **(info.get("extra") or {}))
    return exc


def _known() -> dict[tuple[str, str], type[PocketstackError]]:
    """Every PocketstackError subclass imported so far (no import from the wire)."""
    found: dict[tuple[str, str], type[PocketstackError]] = {}
    todo: list[type[PocketstackError]] = [PocketstackError]
    while todo:
        cls = todo.pop()
        found[(cls.__module__, cls.__name__)] = cls
        todo.extend(cls.__subclasses__())
    return found
