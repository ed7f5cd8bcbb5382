"""The per-host image cache (Nova's `_base`): each image downloaded once, keyed by id.

A download is verified against the image's checksums (Glance's md5 `checksum`
and its `os_hash_algo`/`os_hash_value`) and its declared format: a "raw"
image must not be a qcow2 file, a qcow2 one must be qcow2 without a backing
or data file. It is then kept as it came, or converted to raw when images_type is "raw".
Concurrent spawns of one image wait for one download.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from pocketstack.compute.virt.driver import DriverError
from pocketstack.compute.virt.libvirt import qemu_img

QCOW2_MAGIC = b"QFI\xfb"


def _safe_id(image_id: str) -> str:
    if not image_id or "/" in image_id or image_id.startswith("."):
        raise DriverError(f"Invalid image id {image_id!r}.")
    return image_id


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(4)


class ImageCache:
    def __init__(self, base_dir: Path, images_type: str = "qcow2"):
        self.base_dir = base_dir
        self.images_type = images_type
        self._locks: dict[str, asyncio.Lock] = {}

    def path(self, image_id: str) -> Path:
        return self.base_dir / _safe_id(image_id)

    async def fetch(self, image: dict[str, Any],
                    data: Callable[[], AsyncIterator[bytes]]) -> tuple[Path, str]:
        """The cached disk of image (downloading it if needed) and its format."""
        image_id = image["id"]
        lock = self._locks.setdefault(image_id, asyncio.Lock())
        async with lock:
            for fmt in ("qcow2", "raw"):
                cached = self.path(image_id).with_suffix("." + fmt)
                if cached.exists():
                    return cached, fmt
            return await self._download(image, data)

    async def fetch_file(self, image: dict[str, Any],
                         data: Callable[[], AsyncIterator[bytes]]) -> Path:
        """A kernel or ramdisk image, kept as it is (verified, not converted)."""
        image_id = image["id"]
        async with self._locks.setdefault(image_id, asyncio.Lock()):
            path = self.path(image_id).with_suffix(".file")
            if not path.exists():
                part = await self._receive(image, data)
                os.replace(part, path)
            return path

    async def _receive(self, image: dict[str, Any],
                       data: Callable[[], AsyncIterator[bytes]]) -> Path:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        part = self.path(image["id"]).with_suffix(".part")
        md5 = hashlib.md5(usedforsecurity=False)
        algo = image.get("os_hash_algo")
        multi = hashlib.new(algo) if algo and image.get("os_hash_value") else None
        try:
            f = await asyncio.to_thread(open, part, "wb")
            try:
                async for chunk in data():
                    await asyncio.to_thread(f.write, chunk)
                    md5.update(chunk)
                    if multi:
                        multi.update(chunk)
            finally:
                f.close()
            if image.get("checksum") and md5.hexdigest() != image["checksum"]:
                raise DriverError(f"Image {image['id']} failed its checksum check.")
            if multi and multi.hexdigest() != image["os_hash_value"]:
                raise DriverError(f"Image {image['id']} failed its {algo} check.")
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return part

    async def _download(self, image: dict[str, Any],
                        data: Callable[[], AsyncIterator[bytes]]) -> tuple[Path, str]:
        declared = image.get("disk_format") or "raw"
        if declared not in qemu_img.FORMATS:
            raise DriverError(f"Image {image['id']} has disk_format {declared}; "
                              "this host boots raw and qcow2 images.")
        part = await self._receive(image, data)
        try:
            await self._check_format(part, declared, image["id"])
            fmt = "raw" if self.images_type == "raw" else declared  # "qcow2": keep as is
            final = self.path(image["id"]).with_suffix("." + fmt)
            if fmt == declared:
                os.replace(part, final)
            else:
                tmp = final.with_suffix(".converting")
                await qemu_img.convert(part, declared, tmp, fmt)
                os.replace(tmp, final)
        finally:
            part.unlink(missing_ok=True)
        return final, fmt

    async def _check_format(self, path: Path, declared: str, image_id: str) -> None:
        is_qcow2 = await asyncio.to_thread(_head, path) == QCOW2_MAGIC
        if declared == "raw" and is_qcow2:
            raise DriverError(f"Image {image_id} says raw but is a qcow2 file.")
        if declared == "qcow2":
            if not is_qcow2:
                raise DriverError(f"Image {image_id} says qcow2 but is not a qcow2 file.")
            info = await qemu_img.info(path, "qcow2")
            if "backing-filename" in info or info.get("format-specific", {}).get(
                    "data", {}).get("data-file"):
                raise DriverError(f"Image {image_id} has a backing or data file; refused.")
