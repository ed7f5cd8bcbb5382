"""The image service (Glance v2), as compute uses it: image metadata and data
(steps 19-21), and the images a server snapshot makes (createImage)."""

from __future__ import annotations

import uuid
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

    async def create(self, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """A new (queued) image record."""
        ...

    async def set_formats(self, token: str | None, image_id: str, disk_format: str,
                          container_format: str) -> None:
        """Change a queued image's formats (to what the hypervisor produced)."""
        ...

    async def upload(self, token: str | None, image_id: str,
                     data: AsyncIterator[bytes]) -> None:
        """Stream a queued image's data; it is active once this returns."""
        ...

    async def delete(self, token: str | None, image_id: str) -> None:
        """Delete the image (no error when already gone)."""
        ...

    def location(self, image_id: str) -> str:
        """The image's URL (the Location of a snapshot before microversion 2.45)."""
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

    async def create(self, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        return await self.request(token, "POST", "/v2/images", json=body)

    async def set_formats(self, token: str | None, image_id: str, disk_format: str,
                          container_format: str) -> None:
        ops = [{"op": "replace", "path": "/disk_format", "value": disk_format},
               {"op": "replace", "path": "/container_format", "value": container_format}]
        await self.request(token, "PATCH", f"/v2/images/{image_id}", json=ops, headers={
            "Content-Type": "application/openstack-images-v2.1-json-patch"})

    async def upload(self, token: str | None, image_id: str,
                     data: AsyncIterator[bytes]) -> None:
        await self.request(token, "PUT", f"/v2/images/{image_id}/file", content=data,
                           headers={"Content-Type": "application/octet-stream"}, timeout=None)

    async def delete(self, token: str | None, image_id: str) -> None:
        await self.request(token, "DELETE", f"/v2/images/{image_id}", ok=(204, 404))

    def location(self, image_id: str) -> str:
        return f"{self.base}/v2/images/{image_id}"


class FakeImageAPI:
    def __init__(self, images: list[dict[str, Any]] | None = None):
        self.images = {i["id"]: i for i in images or []}
        self.uploaded: dict[str, bytes] = {}

    async def get(self, token: str | None, image_id: str) -> dict[str, Any]:
        if image_id not in self.images:
            raise exc.NotFound(f"No image found with ID {image_id}")
        return dict(self.images[image_id])

    async def data(self, token: str | None, image_id: str) -> AsyncIterator[bytes]:
        await self.get(token, image_id)
        yield b"fake image data"

    async def create(self, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        image = {"id": str(uuid.uuid4()), "status": "queued", **body}
        self.images[image["id"]] = image
        return dict(image)

    async def set_formats(self, token: str | None, image_id: str, disk_format: str,
                          container_format: str) -> None:
        await self.get(token, image_id)
        self.images[image_id].update(disk_format=disk_format,
                                     container_format=container_format)

    async def upload(self, token: str | None, image_id: str,
                     data: AsyncIterator[bytes]) -> None:
        await self.get(token, image_id)
        self.uploaded[image_id] = b"".join([chunk async for chunk in data])
        self.images[image_id].update(status="active", size=len(self.uploaded[image_id]))

    async def delete(self, token: str | None, image_id: str) -> None:
        self.images.pop(image_id, None)
        self.uploaded.pop(image_id, None)

    def location(self, image_id: str) -> str:
        return f"http://image.test/v2/images/{image_id}"
