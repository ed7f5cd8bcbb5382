"""An in-memory fake of image/client.py's ImageClient (metadata and data), for
the services that use it: compute runs its launch and snapshot tests, and the
all-in-one without an image service, on it. Tokens are not checked."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext


class FakeImageClient:
    def __init__(self, images: list[dict[str, Any]] | None = None):
        self.images = {i["id"]: i for i in images or []}
        self.uploaded: dict[str, bytes] = {}

    async def get(self, ctx: RequestContext | None, image_id: str) -> dict[str, Any]:
        if image_id not in self.images:
            raise exc.NotFound(f"No image found with ID {image_id}")
        return dict(self.images[image_id])

    async def data(self, ctx: RequestContext | None, image_id: str) -> AsyncIterator[bytes]:
        await self.get(ctx, image_id)
        yield b"fake image data"

    async def create(self, ctx: RequestContext | None, **attrs: Any) -> dict[str, Any]:
        image = {"id": str(uuid.uuid4()), "status": "queued", **attrs}
        self.images[image["id"]] = image
        return dict(image)

    async def set_formats(self, ctx: RequestContext | None, image_id: str, disk_format: str,
                          container_format: str) -> None:
        await self.get(ctx, image_id)
        self.images[image_id].update(disk_format=disk_format,
                                     container_format=container_format)

    async def upload(self, ctx: RequestContext | None, image_id: str,
                     data: AsyncIterator[bytes]) -> None:
        await self.get(ctx, image_id)
        self.uploaded[image_id] = b"".join([chunk async for chunk in data])
        self.images[image_id].update(status="active", size=len(self.uploaded[image_id]))

    async def delete(self, ctx: RequestContext | None, image_id: str) -> None:
        await self.get(ctx, image_id)
        del self.images[image_id]
        self.uploaded.pop(image_id, None)

    def location(self, image_id: str) -> str:
        return f"http://image.test/v2/images/{image_id}"
