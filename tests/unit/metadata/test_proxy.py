"""The metadata proxy on a loopback socket, forwarding to a fake upstream."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from pocketstack.metadata import signature
from pocketstack.metadata.proxy import MetadataProxy

SECRET = "s3cret"


def upstream(request: httpx.Request) -> httpx.Response:
    """Echoes what the metadata service would see."""
    if request.url.path.endswith("/big"):
        return httpx.Response(200, content=b"x" * 200_000,
                              headers={"Content-Type": "application/octet-stream"})
    return httpx.Response(200, json={
        "method": request.method, "path": request.url.path, "query": request.url.query.decode(),
        "headers": dict(request.headers), "body": request.content.decode()})


def listening() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


@pytest.fixture
async def proxy():
    http = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    p = MetadataProxy(http, "http://metadata.test/metadata/", SECRET)
    sock = listening()
    await p.serve(sock, "net-1")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}") as c:
        yield p, c
    await p.stop("net-1")
    await http.aclose()


async def test_get_is_forwarded_with_the_signed_caller(proxy):
    _, client = proxy
    resp = await client.get("/openstack/latest/meta_data.json?x=1", headers={
        "X-Forwarded-For": "10.9.9.9", "X-Neutron-Network-ID": "forged",
        "X-Metadata-Signature": "forged"})
    assert resp.status_code == 200 and resp.headers["connection"] == "close"
    seen = resp.json()
    assert seen["path"] == "/metadata/openstack/latest/meta_data.json"
    assert seen["query"] == "x=1"
    h = seen["headers"]
    assert h["x-forwarded-for"] == "127.0.0.1" and h["x-neutron-network-id"] == "net-1"
    assert signature.valid(SECRET, "net-1", "127.0.0.1", h["x-metadata-signature"])


async def test_post_body_is_forwarded(proxy):
    _, client = proxy
    resp = await client.post("/openstack/latest/password", content=b"secret!")
    assert resp.json()["method"] == "POST" and resp.json()["body"] == "secret!"


async def test_large_answers_stream_through(proxy):
    _, client = proxy
    resp = await client.get("/big")
    assert resp.status_code == 200 and resp.content == b"x" * 200_000


async def test_other_methods_and_garbage_get_4xx(proxy):
    _, client = proxy
    assert (await client.delete("/openstack")).status_code == 405
    port = int(str(client.base_url).rsplit(":", 1)[1].rstrip("/"))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"NONSENSE\r\n\r\n")
    assert (await reader.read()).startswith(b"HTTP/1.1 400")
    writer.close()


async def test_upstream_down_is_502_and_stop_closes_the_socket():
    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    p = MetadataProxy(http, "http://metadata.test/metadata", SECRET)
    sock = listening()
    port = sock.getsockname()[1]
    await p.serve(sock, "net-2")
    async with httpx.AsyncClient() as client:
        resp = await client.get(f"http://127.0.0.1:{port}/")
        assert resp.status_code == 502
        await p.stop("net-2")
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")
    await p.stop("net-2")  # idempotent
    await http.aclose()


async def test_expect_100_continue_and_idle_guests(proxy, monkeypatch):
    from pocketstack.metadata import proxy as module

    p, client = proxy
    port = int(str(client.base_url).rsplit(":", 1)[1].rstrip("/"))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /openstack/latest/password HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Length: 3\r\nExpect: 100-continue\r\n\r\n")
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"abc")
    answer = await reader.read()
    assert answer.startswith(b"HTTP/1.1 200") and b'"body":"abc"' in answer.replace(b" ", b"")
    writer.close()

    monkeypatch.setattr(module, "READ_TIMEOUT", 0.2)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\n")  # and nothing more
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, not left hanging
    writer.close()
