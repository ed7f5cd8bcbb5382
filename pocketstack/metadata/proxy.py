"""The metadata proxy: answers 169.254.169.254 inside one network's DHCP
namespace (the agent creates the listening socket there and hands it over)
and forwards each guest request to the metadata service, adding who asks:
X-Forwarded-For (the guest's address), X-Neutron-Network-ID and their
signature (signature.py). A small HTTP/1.1 forwarder: GET, HEAD and POST,
one request per connection, the answer streamed back as it comes.

    proxy = MetadataProxy(runtime.http, runtime.url("metadata"),
                          signature.shared_secret(runtime.config))
    await proxy.serve(sock, network_id)   # returns once serving; stop() ends it
"""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx

from pocketstack.metadata import signature

log = logging.getLogger(__name__)

MAX_HEAD = 16 * 1024  # request line + headers
MAX_BODY = 64 * 1024  # a password POST is at most 1 KiB
READ_TIMEOUT = 30.0  # seconds a guest may take to send its request
METHODS = ("GET", "HEAD", "POST")
# Never forwarded in either direction: hop-by-hop, or what only the proxy may say.
DROPPED = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
           "proxy-connection", "host", "content-length", "accept-encoding", "content-encoding",
           "expect",
           *(h.lower() for h in signature.headers("", "", ""))}
REASONS = {400: "Bad Request", 405: "Method Not Allowed", 413: "Payload Too Large",
           502: "Bad Gateway"}


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class MetadataProxy:
    def __init__(self, http: httpx.AsyncClient, upstream_url: str, secret: str):
        """`upstream_url` is the metadata service's root (e.g. BASE_URL/metadata)."""
        self.http, self.upstream, self.secret = http, upstream_url.rstrip("/"), secret
        self._servers: dict[str, asyncio.Server] = {}

    async def serve(self, sock: socket.socket, network_id: str) -> None:
        """Start answering on `sock` (bound and listening) for `network_id`, and return.
        Serving another socket for the same network replaces the previous one."""
        await self.stop(network_id)
        sock.setblocking(False)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._connection(reader, writer, network_id)

        self._servers[network_id] = await asyncio.start_server(handle, sock=sock)

    async def stop(self, network_id: str) -> None:
        """Close the network's socket; requests in flight finish. No error if not served."""
        server = self._servers.pop(network_id, None)
        if server is not None:
            server.close()
            await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                          network_id: str) -> None:
        peer = writer.get_extra_info("peername")
        try:
            try:
                async with asyncio.timeout(READ_TIMEOUT):
                    method, target, headers, body = await _read_request(reader, writer)
            except TimeoutError:
                return
            except BadRequest as e:
                await _reply(writer, e.status, str(e))
                return
            added = signature.headers(self.secret, network_id, peer[0])
            await self._forward(writer, method, target, headers | added, body)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the guest went away
        except Exception:  # noqa: BLE001 - one bad exchange never stops the proxy
            log.exception("metadata proxy: request from %s on %s failed", peer, network_id)
        finally:
            writer.close()

    async def _forward(self, writer: asyncio.StreamWriter, method: str, target: str,
                       headers: dict[str, str], body: bytes) -> None:
        headers["Accept-Encoding"] = "identity"  # what comes back is what the guest gets
        request = self.http.build_request(method, self.upstream + target, headers=headers,
                                          content=body if method == "POST" else None)
        try:
            resp = await self.http.send(request, stream=True)
        except httpx.HTTPError as e:
            await _reply(writer, 502, f"The metadata service did not answer: {e}")
            return
        try:
            head = [f"HTTP/1.1 {resp.status_code} {resp.reason_phrase}"]
            head += [f"{k}: {v}" for k, v in resp.headers.multi_items()
                     if k.lower() not in DROPPED or k.lower() == "content-length"]
            head.append("Connection: close")
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            async for chunk in resp.aiter_bytes():
                writer.write(chunk)
                await writer.drain()
            await writer.drain()
        finally:
            await resp.aclose()


async def _read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        ) -> tuple[str, str, dict[str, str], bytes]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise BadRequest(400, "Request headers too large.") from None
    if len(head) > MAX_HEAD:
        raise BadRequest(400, "Request headers too large.")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1].startswith("/"):
        raise BadRequest(400, "Malformed request line.")
    method, target = parts[0], parts[1]
    if method not in METHODS:
        raise BadRequest(405, f"{method} is not supported.")
    headers: dict[str, str] = {}
    for line in filter(None, lines[1:]):
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise BadRequest(400, "Malformed header.")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest(400, "Chunked request bodies are not supported.")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise BadRequest(400, "Bad Content-Length.") from None
    if length < 0 or length > MAX_BODY:
        raise BadRequest(413, "Request body too large.")
    if length and headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    body = await reader.readexactly(length) if length else b""
    return method, target, {k: v for k, v in headers.items() if k not in DROPPED}, body


async def _reply(writer: asyncio.StreamWriter, status: int, message: str) -> None:
    body = message.encode()
    writer.write(f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
                 f"Content-Type: text/plain; charset=UTF-8\r\nContent-Length: {len(body)}\r\n"
                 "Connection: close\r\n\r\n".encode() + body)
    await writer.drain()
