"""The image service (Glance v2), as compute uses it: image metadata (steps 19-21)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from pocketstack.compute.remote.rest import RestClient
from pocketstack.core import exceptions as exc


class ImageAPI(Protocol):
    async def get(self, token: str | None, image_id: str) -> dict[str, Any]:
        """The image's metadata; NotFound when the caller cannot see it."""
        ...

    def data(self, token: str | None, image_id: str) -> AsyncIterator[bytes]:
        """The image's bytes, streamed."""
        ...


class RestImageAPI(RestClient):
    async def get(self, token: str | None, image_id: str) -> dict[str, Any]:
        return await self.request(token, "GET", f"/v2/images/{image_id}")

    async def data(self, token: str | None, image_id: str) -> AsyncIterator[bytes]:
        url = f"{self.base}/v2/images/{image_id}/file"
        async with self.http.stream("GET", url, headers={"X-Auth-Token": token or ""}) as r:
            if r.status_code != 200:
                raise exc.for_status(r.status_code, f"image {image_id} data: {r.status_code}")
            async for chunk in r.aiter_bytes(1 << 20):
                yield chunk


class FakeImageAPI:
    def __init__(self, images: list[dict[str, Any]] | None = None):
        self.images = {i["id"]: i for i in images or []}

    async def get(self, token: str | None, image_id: str) -> dict[str, Any]:
        if image_id not in self.images:
            raise exc.NotFound(f"No image found with ID {image_id}")
        return dict(self.images[image_id])

    async def data(self, token: str | None, image_id: str) -> AsyncIterator[bytes]:
        await self.get(token, image_id)
        yield b"fake image data"
