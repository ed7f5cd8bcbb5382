"""Moving image data: upload (PUT /file), staging and the glance-direct
import, download (GET /file, with byte ranges) and recovery after a crash.

Status follows Glance's machine: queued -> saving -> active by upload;
queued -> uploading (staged) -> importing -> active by import. A failed or
refused transfer returns the image to queued with no data; a transfer that
finishes on an image deleted meanwhile removes its data again.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.image import store
from pocketstack.image.ingest import HASH_ALGO, Received, StoreFailed, receive
from pocketstack.image.models import Image
from pocketstack.image.service import ImageService, now, target
from pocketstack.image.stores import ImageStore

log = logging.getLogger(__name__)
IMPORT_METHODS = ["glance-direct"]


@dataclass
class Download:
    image: Image
    size: int
    start: int
    length: int
    chunks: AsyncIterator[bytes]

    @property
    def partial(self) -> bool:
        return self.length != self.size


class Transfers:
    def __init__(self, images: ImageService):
        self.images = images
        self.db, self.config = images.db, images.config
        self.tasks: set[asyncio.Task] = set()

    # -- upload ------------------------------------------------------------------

    async def upload(self, ctx: RequestContext, image_id: str, chunks: AsyncIterator[bytes],
                     declared: int | None) -> None:
        image = await self._begin(ctx, image_id, "image:upload_image", "saving")
        try:
            limit, error = await self._limit(image.owner, declared, staged=False)
            got = await receive(chunks, self.images.data_store.writer(image_id),
                                disk_format=image.disk_format, limit=limit, limit_error=error)
        except BaseException as e:
            await self._revert(image_id, "saving")
            if isinstance(e, StoreFailed):
                raise store_error(e) from None
            raise
        await self._finish(image_id, "saving", got, self.images.data_store)

    async def _begin(self, ctx: RequestContext, image_id: str, action: str, to: str) -> Image:
        async with self.db.write() as s:
            image = await self.images._writable(s, ctx, image_id, action)
            if image.status != "queued":
                raise exc.Conflict(f"Image status transition from {image.status} to {to} "
                                   "is not allowed")
            if not image.disk_format or not image.container_format:
                raise exc.BadRequest("Properties disk_format, container_format must be set "
                                     "prior to saving data.")
            image.status, image.updated_at = to, now()
            return image

    async def _limit(self, owner: str | None, declared: int | None,
                     staged: bool) -> tuple[int, exc.PocketstackError]:
        """How many bytes this transfer may take, and the error past that."""
        cap = self.config.image_size_cap
        async with self.db.read() as s:
            _, stored, staging = await store.usage(s, owner)
        total = self.config.image_stage_total if staged else self.config.image_size_total
        used = staging if staged else stored
        room = cap if total < 0 else min(cap, max(total - used, 0))
        if room < cap:
            what = "staging" if staged else "storage"
            error: exc.PocketstackError = exc.OverQuota(
                f"Denying attempt to upload image because it exceeds the {what} quota: "
                f"project {owner} has {max(total - used, 0)} bytes left.")
        else:
            error = exc.PayloadTooLarge(f"Image exceeds the maximum image size of {cap} bytes.")
        if declared is not None and declared > room:
            raise error
        return room, error

    async def _finish(self, image_id: str, was: str, got: Received,
                      where: ImageStore) -> None:
        async with self.db.write() as s:
            image = await s.get(Image, image_id, with_for_update=True)
            if image is None or image.status != was:
                orphan = True
            else:
                orphan = False
                image.status, image.updated_at = "active", now()
                image.location, image.store = got.location, where.name
                image.size, image.virtual_size = got.size, got.virtual_size
                image.checksum, image.os_hash_value = got.checksum, got.hash_value
                image.os_hash_algo = HASH_ALGO
        if orphan:
            await where.delete(got.location)
            raise exc.Conflict(f"Image {image_id} was deleted or changed during the upload.")

    async def _revert(self, image_id: str, was: str) -> None:
        async with self.db.write() as s:
            image = await s.get(Image, image_id, with_for_update=True)
            if image is not None and image.status == was:
                image.status, image.updated_at = "queued", now()

    # -- staging and import --------------------------------------------------------

    async def stage(self, ctx: RequestContext, image_id: str, chunks: AsyncIterator[bytes],
                    declared: int | None) -> None:
        image = await self._begin(ctx, image_id, "image:stage_image", "uploading")
        try:
            limit, error = await self._limit(image.owner, declared, staged=True)
            got = await receive(chunks, self.images.staging.writer(image_id),
                                disk_format=image.disk_format, limit=limit, limit_error=error)
        except BaseException as e:
            await self._revert(image_id, "uploading")
            if isinstance(e, StoreFailed):
                raise store_error(e) from None
            raise
        async with self.db.write() as s:
            image = await s.get(Image, image_id, with_for_update=True)
            if image is None or image.status != "uploading":
                await self.images.staging.delete(got.location)
                raise exc.Conflict(f"Image {image_id} was deleted during staging.")
            image.staged_location, image.staged_size = got.location, got.size

    async def import_(self, ctx: RequestContext, image_id: str, body: object) -> None:
        method = body.get("method") if isinstance(body, dict) else None
        name = method.get("name") if isinstance(method, dict) else None
        if not name:
            raise exc.BadRequest("Import request requires a 'method' field with a 'name'.")
        if name not in IMPORT_METHODS:
            raise exc.BadRequest(f"Import method {name} is not supported by this cloud; "
                                 f"available: {', '.join(IMPORT_METHODS)}.")
        async with self.db.write() as s:
            image = await self.images._writable(s, ctx, image_id, "image:import_image")
            if image.status != "uploading" or not image.staged_location:
                raise exc.Conflict("Image needs to be staged before 'glance-direct' method "
                                   "can be used")
            image.status, image.updated_at = "importing", now()
            staged, disk_format = image.staged_location, image.disk_format
            owner = image.owner
        task = asyncio.create_task(self._import(image_id, owner, staged, disk_format))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _import(self, image_id: str, owner: str | None, staged: str,
                      disk_format: str | None) -> None:
        data_store, staging = self.images.data_store, self.images.staging
        try:
            try:
                limit, error = await self._limit(owner, None, staged=False)
                got = await receive(staging.read(staged), data_store.writer(image_id),
                                    disk_format=disk_format, limit=limit, limit_error=error)
            finally:  # copied to the store or refused: gone before the status says so
                await staging.delete(staged)
            await self._finish(image_id, "importing", got, data_store)
        except Exception as e:  # noqa: BLE001 - reported in the log, image back to queued
            log.warning("import of image %s failed: %s", image_id, e)
            await self._revert(image_id, "importing")
        finally:
            async with self.db.write() as s:
                image = await s.get(Image, image_id, with_for_update=True)
                if image is not None:
                    image.staged_location, image.staged_size = None, None

    # -- download ----------------------------------------------------------------

    async def download(self, ctx: RequestContext, image_id: str,
                       byte_range: tuple[int | None, int | None] | None) -> Download | None:
        """None when the image has no data (a 204)."""
        image = await self.images.get(ctx, image_id)
        self.images.enforcer.enforce(ctx, "image:download_image", target(image))
        if image.status == "deactivated":
            try:
                self.images.enforcer.enforce(ctx, "image:download_deactivated", target(image))
            except exc.Forbidden:
                raise exc.Forbidden("The requested image has been deactivated. Image data "
                                    "download is forbidden.") from None
        if not image.location:
            return None
        data_store = self.images.data_store
        try:
            size = await data_store.size(image.location)
        except FileNotFoundError:
            raise exc.NotFound(f"Image {image_id} has no data in the store.") from None
        start, length = resolve_range(byte_range, size)
        return Download(image, size, start, length,
                        data_store.read(image.location, start, length))

    # -- life cycle ----------------------------------------------------------------

    async def recover(self) -> None:
        """After a crash: transfers that were running are gone; back to queued."""
        async with self.db.write() as s:
            for image in await store.stuck(s):
                if image.staged_location:
                    await self.images.staging.delete(image.staged_location)
                image.status, image.updated_at = "queued", now()
                image.staged_location, image.staged_size = None, None

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def store_error(e: StoreFailed) -> exc.PocketstackError:
    """What a client is told when the store fails under an upload."""
    log.error("image store failed: %s", e)
    if getattr(e.__cause__, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
        return exc.PayloadTooLarge("Image storage media is full.")
    return exc.ServiceUnavailable("The image store failed to write the data.")


def resolve_range(byte_range: tuple[int | None, int | None] | None,
                  size: int) -> tuple[int, int]:
    """(start, length) of a `bytes=first-last` range over `size` bytes, or 416."""
    if byte_range is None:
        return 0, size
    first, last = byte_range
    if first is None:  # suffix: the last `last` bytes
        if not last:
            raise _unsatisfiable(size)
        length = min(last, size)
        return size - length, length
    if first >= size or (last is not None and last < first):
        raise _unsatisfiable(size)
    end = size - 1 if last is None else min(last, size - 1)
    return first, end - first + 1


def _unsatisfiable(size: int) -> exc.RangeNotSatisfiable:
    return exc.RangeNotSatisfiable("Requested range not satisfiable",
                                   headers={"Content-Range": f"bytes */{size}"})
