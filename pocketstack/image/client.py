"""The image API's REST client for other services (the compute agent,
volume-from-image): metadata, data streamed (or to a file, verified against
the image's hashes), uploads — always with the calling user's token. An
unreachable image service is a ServiceUnavailable; Glance's errors come back
as core.exceptions with its message. image/fake_client.py is a fake of it for
other services' tests.

    images = ImageClient.from_runtime(runtime)
    meta = await images.get(ctx, image_id)
    await images.download(ctx, image_id, Path("/var/lib/.../disk"))
    async with images.local_data(ctx, meta, scratch_dir) as path: ...

An image whose location is a `file://` path (the image service's file store
on this host, shown as `direct_url`) is read in place by `local_data` when
`file` is in the client's `direct_schemes` (Cinder's
allowed_direct_url_schemes); otherwise its data is downloaded to a temporary
file in the scratch directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import httpx

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext

CHUNK = 8 << 20


class ImageCorrupt(exc.PocketstackError):
    """The data received does not match the image's recorded hash."""

    status, title = 502, "Bad Gateway"


@dataclass
class Downloaded:
    path: Path
    size: int
    checksum: str
    hash_value: str


class ImageClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str,
                 direct_schemes: tuple[str, ...] = ()):
        self.http, self.base = http, base_url.rstrip("/") + "/v2"
        self.direct_schemes = direct_schemes

    @classmethod
    def from_runtime(cls, runtime: Any) -> ImageClient:
        return cls(runtime.http, runtime.url("image"))

    def _headers(self, ctx: RequestContext, **extra: str) -> dict[str, str]:
        if not ctx.auth_token:
            raise exc.Unauthorized("A user token is needed to reach the image service.")
        headers = {"X-Auth-Token": ctx.auth_token, **extra}
        if ctx.request_id:
            headers["X-OpenStack-Request-ID"] = ctx.request_id
        return headers

    async def _send(self, ctx: RequestContext, method: str, path: str,
                    **kw: Any) -> httpx.Response:
        headers = self._headers(ctx, **kw.pop("headers", {}))
        try:
            r = await self.http.request(method, self.base + path, headers=headers, **kw)
        except httpx.HTTPError as err:
            raise exc.ServiceUnavailable(f"image service unreachable: {err}") from None
        raise_for(r)
        return r

    async def get(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        return (await self._send(ctx, "GET", f"/images/{image_id}")).json()

    async def data(self, ctx: RequestContext, image_id: str,
                   chunk: int = 1 << 20) -> AsyncIterator[bytes]:
        """The image's bytes as they arrive, unverified (the caller checks the
        hashes, as the compute agent's image cache does)."""
        url = f"{self.base}/images/{image_id}/file"
        async with self.http.stream("GET", url, headers=self._headers(ctx), timeout=None) as r:
            if r.status_code >= 400:
                await r.aread()
            raise_for(r)
            async for part in r.aiter_bytes(chunk):
                yield part

    async def create(self, ctx: RequestContext, **attrs: Any) -> dict[str, Any]:
        return (await self._send(ctx, "POST", "/images", json=attrs)).json()

    async def delete(self, ctx: RequestContext, image_id: str) -> None:
        await self._send(ctx, "DELETE", f"/images/{image_id}")

    async def set_formats(self, ctx: RequestContext, image_id: str, disk_format: str,
                          container_format: str) -> None:
        """Change a queued image's formats (a snapshot: to what the hypervisor made)."""
        ops = [{"op": "replace", "path": "/disk_format", "value": disk_format},
               {"op": "replace", "path": "/container_format", "value": container_format}]
        r = await self.http.patch(f"{self.base}/images/{image_id}", json=ops, headers=self._headers(
            ctx, **{"Content-Type": "application/openstack-images-v2.1-json-patch"}))
        raise_for(r)

    def location(self, image_id: str) -> str:
        """The image's URL (a snapshot's Location header before compute 2.45)."""
        return f"{self.base}/images/{image_id}"

    async def upload(self, ctx: RequestContext, image_id: str,
                     data: Path | bytes | AsyncIterator[bytes]) -> None:
        headers = {"Content-Type": "application/octet-stream"}
        if isinstance(data, Path):
            headers["X-OpenStack-Image-Size"] = str((await asyncio.to_thread(data.stat)).st_size)
            data = read_file(data)
        await self._send(ctx, "PUT", f"/images/{image_id}/file", content=data,
                         headers=headers, timeout=None)

    @contextlib.asynccontextmanager
    async def local_data(self, ctx: RequestContext, image: dict[str, Any],
                         scratch: Path) -> AsyncIterator[Path]:
        """A path holding the image's data for the time of the `async with`: the
        image service's own file when `direct_schemes` allow it, else a verified
        download into `scratch` (removed at the end)."""
        direct = self._direct_path(image)
        if direct is not None:
            yield direct
            return
        await asyncio.to_thread(scratch.mkdir, parents=True, exist_ok=True)
        tmp = scratch / f".image-{image['id']}-{uuid.uuid4().hex[:8]}"
        try:
            try:
                await self.download(ctx, image["id"], tmp)
            except httpx.HTTPError as err:
                raise exc.ServiceUnavailable(
                    f"downloading image {image['id']} failed: {err}") from None
            yield tmp
        finally:
            tmp.unlink(missing_ok=True)

    def _direct_path(self, image: dict[str, Any]) -> Path | None:
        if "file" not in self.direct_schemes:
            return None
        urls = [image.get("direct_url")] + [loc.get("url") for loc in image.get("locations") or []]
        for url in filter(None, urls):
            parsed = urlparse(url)
            if parsed.scheme == "file" and Path(unquote(parsed.path)).is_file():
                return Path(unquote(parsed.path))
        return None

    async def download(self, ctx: RequestContext, image_id: str, dest: Path) -> Downloaded:
        """Stream the image's data into `dest` (replaced only when complete and
        verified); ImageCorrupt if it does not match the recorded hashes."""
        meta = await self.get(ctx, image_id)
        if meta.get("status") != "active":
            raise exc.Conflict(f"Image {image_id} is {meta.get('status')}, not active.")
        temp = dest.with_name(f".{dest.name}.part")
        try:
            got = await self._fetch(ctx, image_id, temp)
            expected = meta.get("os_hash_value"), meta.get("checksum")
            if (expected[0] and expected[0] != got.hash_value) or \
                    (expected[1] and expected[1] != got.checksum):
                raise ImageCorrupt(f"Image {image_id}: the data received does not match "
                                   "its recorded hash.")
            os.replace(temp, dest)
        finally:
            temp.unlink(missing_ok=True)
        got.path = dest
        return got

    async def _fetch(self, ctx: RequestContext, image_id: str, temp: Path) -> Downloaded:
        md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha512()
        size = 0
        url = f"{self.base}/images/{image_id}/file"
        async with self.http.stream("GET", url, headers=self._headers(ctx),
                                    timeout=None) as r:
            if r.status_code >= 400:
                await r.aread()
            raise_for(r)
            out = await asyncio.to_thread(open, temp, "wb")
            try:
                async for batch in batches(r.aiter_raw()):
                    size += len(batch)
                    await asyncio.gather(asyncio.to_thread(md5.update, batch),
                                         asyncio.to_thread(_hash_and_write, sha, out, batch))
            finally:
                await asyncio.to_thread(out.close)
        return Downloaded(temp, size, md5.hexdigest(), sha.hexdigest())


def _hash_and_write(sha: Any, out: Any, batch: bytes) -> None:
    sha.update(batch)
    out.write(batch)


async def batches(chunks: AsyncIterator[bytes], size: int = CHUNK) -> AsyncIterator[bytes]:
    parts, gathered = [], 0
    async for chunk in chunks:
        parts.append(chunk)
        gathered += len(chunk)
        if gathered >= size:
            yield b"".join(parts)
            parts, gathered = [], 0
    if parts:
        yield b"".join(parts)


async def read_file(path: Path, size: int = CHUNK) -> AsyncIterator[bytes]:
    f = await asyncio.to_thread(open, path, "rb", buffering=0)
    try:
        while chunk := await asyncio.to_thread(f.read, size):
            yield chunk
    finally:
        f.close()


def raise_for(r: httpx.Response) -> None:
    """A core error for a failed answer, with Glance's message."""
    if r.status_code < 400:
        return
    try:
        message = r.json().get("message")
    except ValueError:
        message = None
    raise exc.for_status(r.status_code, message or f"image service answered {r.status_code}")
