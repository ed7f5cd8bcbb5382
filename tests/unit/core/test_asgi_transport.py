"""The in-process transport streams both ways and keeps memory bounded."""

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from pocketstack.core.asgi_transport import StreamingASGITransport

CHUNK = 64 * 1024
produced = {"n": 0}


async def big(request: Request) -> StreamingResponse:
    count = int(request.query_params["chunks"])

    async def gen():
        for _ in range(count):
            produced["n"] += 1
            yield b"x" * CHUNK

    return StreamingResponse(gen(), media_type="application/octet-stream")


async def upload(request: Request) -> JSONResponse:
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
    return JSONResponse({"received": total}, status_code=201)


async def boom(request: Request) -> JSONResponse:
    raise RuntimeError("broken app")


APP = Starlette(routes=[Route("/big", big), Route("/upload", upload, methods=["POST"]),
                        Route("/boom", boom)])


@pytest.fixture
def client():
    return httpx.AsyncClient(transport=StreamingASGITransport(APP), base_url="http://svc")


async def test_plain_requests_work(client):
    r = await client.get("/big", params={"chunks": 3})
    assert r.status_code == 200 and len(r.content) == 3 * CHUNK


async def test_response_streams_without_the_app_running_ahead(client):
    produced["n"] = 0
    async with client.stream("GET", "/big", params={"chunks": 1000}) as r:
        first = await r.aiter_bytes().__anext__()
        assert first
        await asyncio.sleep(0.05)
        # The app is held back by the bounded queue, not run to the end.
        assert produced["n"] < 50
    await asyncio.sleep(0)
    assert produced["n"] < 50


async def test_request_body_streams_in(client):
    async def gen():
        for _ in range(100):
            yield b"y" * CHUNK

    r = await client.post("/upload", content=gen())
    assert r.status_code == 201 and r.json() == {"received": 100 * CHUNK}


async def test_head_has_no_body(client):
    r = await client.head("/big", params={"chunks": 2})
    assert r.status_code == 200 and r.content == b""


async def test_an_app_error_is_a_500_as_over_the_network(client):
    r = await client.get("/boom")
    assert r.status_code == 500


async def test_a_slow_reader_gets_the_end_of_a_full_queue():
    """The last body message finds the queue full: the app's disconnect listener
    (Starlette's StreamingResponse) must not cancel the end-of-body hand-over, or
    the reader waits forever (seen as image downloads hanging under load)."""
    transport = StreamingASGITransport(APP, queue_chunks=1)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as c:
        async with c.stream("GET", "/big", params={"chunks": 4}) as r:
            got = 0
            async with asyncio.timeout(5):
                async for chunk in r.aiter_raw():
                    got += len(chunk)
                    await asyncio.sleep(0.02)  # a slow reader: the queue stays full
    assert got == 4 * CHUNK
