"""What the block storage service needs of the image service (through its
client, image/client.py), with the user's token: an image's record, its data
on a local path (downloads are verified against the image's hashes), and
uploading a volume as a new image.

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
from pocketstack.image.client import ImageClient
from pocketstack.volume.backends.base import BackendError


class ImageService:
    def __init__(self, http: httpx.AsyncClient, image_url: str, scratch_dir: Path,
                 direct_schemes: tuple[str, ...] = ("file",)):
        self.client = ImageClient(http, image_url)
        self.scratch = scratch_dir
        self.direct_schemes = direct_schemes

    async def get(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        """The image record; NotFound if the user cannot see it."""
        try:
            return await self.client.get(ctx, image_id)
        except httpx.HTTPError as err:
            raise exc.ServiceUnavailable(f"image service unreachable: {err}") from None

    @contextlib.asynccontextmanager
    async def local_data(self, ctx: RequestContext, image: dict[str, Any]) -> AsyncIterator[Path]:
        """A path holding the image's data for the time of the `async with`."""
        direct = self._direct_path(image)
        if direct is not None:
            yield direct
            return
        await asyncio.to_thread(self.scratch.mkdir, parents=True, exist_ok=True)
        tmp = self.scratch / f".image-{image['id']}-{uuid.uuid4().hex[:8]}"
        try:
            try:
                await self.client.download(ctx, image["id"], tmp)
            except (httpx.HTTPError, exc.PocketstackError) as err:
                message = err.message if isinstance(err, exc.PocketstackError) else str(err)
                raise BackendError(f"downloading image {image['id']} failed: {message}") from None
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

    async def create(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        return await self.client.create(ctx, **body)

    async def upload(self, ctx: RequestContext, image_id: str, path: Path) -> None:
        try:
            await self.client.upload(ctx, image_id, path)
        except (httpx.HTTPError, exc.PocketstackError) as err:
            message = err.message if isinstance(err, exc.PocketstackError) else str(err)
            raise BackendError(f"uploading image {image_id} failed: {message}") from None

    async def delete(self, ctx: RequestContext, image_id: str) -> None:
        with contextlib.suppress(httpx.HTTPError, exc.PocketstackError):
            await self.client.delete(ctx, image_id)
