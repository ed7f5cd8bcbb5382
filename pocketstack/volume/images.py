"""What the block storage service needs of the image service, with the user's
token: an image's record, its data on a local path, and uploading a volume
as a new image.

An image whose location is a `file://` path (the image service's file store
on this host, shown as `direct_url`) is read in place when `file` is in
`volume.allowed_direct_url_schemes`, as Cinder does; otherwise its data is
downloaded to a temporary file next to the volumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import httpx

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.volume.backends.base import BackendError

CHUNK = 1 << 20


class ImageService:
    def __init__(self, http: httpx.AsyncClient, image_url: str, scratch_dir: Path,
                 direct_schemes: tuple[str, ...] = ("file",)):
        self.http = http
        self.url = image_url.rstrip("/")
        self.scratch = scratch_dir
        self.direct_schemes = direct_schemes

    def _headers(self, ctx: RequestContext) -> dict[str, str]:
        if not ctx.auth_token:
            raise exc.Unauthorized("no token to reach the image service with")
        return {"X-Auth-Token": ctx.auth_token, "X-Openstack-Request-Id": ctx.request_id}

    async def get(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        """The image record; NotFound (for the API: 400 on create) if it is not visible."""
        try:
            resp = await self.http.get(f"{self.url}/v2/images/{image_id}",
                                       headers=self._headers(ctx))
        except httpx.HTTPError as err:
            raise exc.ServiceUnavailable(f"image service unreachable: {err}") from None
        if resp.status_code == 404:
            raise exc.NotFound(f"Image {image_id} could not be found.")
        if resp.status_code != 200:
            raise exc.for_status(resp.status_code, f"image service answered "
                                 f"{resp.status_code} for image {image_id}")
        return resp.json()

    @contextlib.asynccontextmanager
    async def local_data(self, ctx: RequestContext, image: dict[str, Any]) -> AsyncIterator[Path]:
        """A path holding the image's data for the time of the `async with`."""
        direct = self._direct_path(image)
        if direct is not None:
            yield direct
            return
        self.scratch.mkdir(parents=True, exist_ok=True)
        tmp = self.scratch / f".image-{image['id']}-{uuid.uuid4().hex[:8]}.tmp"
        try:
            await self._download(ctx, image["id"], tmp)
            yield tmp
        finally:
            tmp.unlink(missing_ok=True)

    def _direct_path(self, image: dict[str, Any]) -> Path | None:
        urls = [image.get("direct_url")] + [loc.get("url") for loc in image.get("locations") or []]
        for url in filter(None, urls):
            parsed = urlparse(url)
            if parsed.scheme in self.direct_schemes and parsed.scheme == "file":
                path = Path(unquote(parsed.path))
                if path.is_file():
                    return path
        return None

    async def _download(self, ctx: RequestContext, image_id: str, dest: Path) -> None:
        url = f"{self.url}/v2/images/{image_id}/file"
        try:
            async with self.http.stream("GET", url, headers=self._headers(ctx)) as resp:
                if resp.status_code != 200:
                    raise BackendError(f"downloading image {image_id} failed: "
                                       f"image service answered {resp.status_code}")
                f = await asyncio.to_thread(open, dest, "wb")
                try:
                    async for chunk in resp.aiter_bytes(CHUNK):
                        await asyncio.to_thread(f.write, chunk)
                finally:
                    await asyncio.to_thread(f.close)
        except httpx.HTTPError as err:
            raise BackendError(f"downloading image {image_id} failed: {err}") from None

    async def create(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        resp = await self.http.post(f"{self.url}/v2/images", json=body,
                                    headers=self._headers(ctx))
        if resp.status_code != 201:
            message = _message(resp)
            raise exc.for_status(resp.status_code if resp.status_code < 500 else 503,
                                 f"creating the image failed: {message}")
        return resp.json()

    async def upload(self, ctx: RequestContext, image_id: str, path: Path) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            f = await asyncio.to_thread(open, path, "rb")
            try:
                while block := await asyncio.to_thread(f.read, CHUNK):
                    yield block
            finally:
                await asyncio.to_thread(f.close)

        headers = self._headers(ctx) | {"Content-Type": "application/octet-stream"}
        resp = await self.http.put(f"{self.url}/v2/images/{image_id}/file", content=chunks(),
                                   headers=headers)
        if resp.status_code not in (200, 204):
            raise BackendError(f"uploading image {image_id} failed: {_message(resp)}")

    async def delete(self, ctx: RequestContext, image_id: str) -> None:
        with contextlib.suppress(httpx.HTTPError, exc.PocketstackError):
            await self.http.delete(f"{self.url}/v2/images/{image_id}", headers=self._headers(ctx))


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return f"{resp.status_code} {resp.text[:200]}"
    return str(body.get("message") or body)[:300]
