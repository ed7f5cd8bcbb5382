"""An in-memory fake of image/client.py's ImageClient (metadata and data), for
the services that use it: compute runs its launch tests, and the all-in-one
without an image service, on it. Tokens are not checked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext


class FakeImageClient:
    def __init__(self, images: list[dict[str, Any]] | None = None):
        self.images = {i["id"]: i for i in images or []}

    async def get(self, ctx: RequestContext | None, image_id: str) -> dict[str, Any]:
        if image_id not in self.images:
            raise exc.NotFound(f"No image found with ID {image_id}")
        return dict(self.images[image_id])

    async def data(self, ctx: RequestContext | None, image_id: str) -> AsyncIterator[bytes]:
        await self.get(ctx, image_id)
        yield b"fake image data"
