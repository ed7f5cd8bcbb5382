"""An httpx transport that calls an ASGI app in the same process, streaming.

httpx's own ASGITransport collects the whole response body before returning,
so a service downloading a 1 GiB image from another service of the same
all-in-one would hold 1 GiB in memory. Here the app runs in its own task and
hands each body chunk over a small bounded queue: the caller reads the
response as the app writes it, and a slow reader slows the app down instead
of growing memory. Request bodies stream in the same way. Closing the
response early cancels the app's task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

_END = object()


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, chunks: asyncio.Queue, task: asyncio.Task):
        self.chunks, self.task = chunks, task

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            chunk = await self.chunks.get()
            if chunk is _END:
                break
            if isinstance(chunk, BaseException):
                raise httpx.ReadError(f"in-process app failed mid-response: {chunk!r}")
            yield chunk

    async def aclose(self) -> None:
        if not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


class StreamingASGITransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp, client: tuple[str, int] = ("127.0.0.1", 0),
                 queue_chunks: int = 8):
        self.app, self.client, self.queue_chunks = app, client, queue_chunks

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self.client,
            "root_path": "",
        }
        body = request.stream.__aiter__()
        request_done = False
        response_done = asyncio.Event()
        started: asyncio.Future[tuple[int, list[Any]]] = asyncio.get_running_loop().create_future()
        chunks: asyncio.Queue = asyncio.Queue(self.queue_chunks)
        head = request.method == "HEAD"

        async def receive() -> Message:
            nonlocal request_done
            if request_done:
                await response_done.wait()
                return {"type": "http.disconnect"}
            try:
                chunk = await body.__anext__()
            except StopAsyncIteration:
                request_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.set_result((message["status"], message.get("headers", [])))
            elif message["type"] == "http.response.body":
                data = message.get("body", b"")
                if data and not head:
                    await chunks.put(data)
                if not message.get("more_body", False):
                    # _END first: once response_done is set, receive() says "disconnect"
                    # and an app listening for it (StreamingResponse) cancels this send.
                    await chunks.put(_END)
                    response_done.set()

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
                if not response_done.is_set():  # the app ended without finishing its body
                    await chunks.put(_END)
            except asyncio.CancelledError:
                if not started.done():
                    started.cancel()
                raise
            except Exception as err:
                if not started.done():
                    started.set_exception(err)
                elif not response_done.is_set():
                    await chunks.put(err)
                raise
            finally:
                response_done.set()

        task = asyncio.create_task(run())
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        try:
            status, headers = await started
        except BaseException:
            with contextlib.suppress(BaseException):
                await task
            raise
        return httpx.Response(status, headers=headers, stream=_ResponseStream(chunks, task))
