"""Receiving image data: one pass over the stream that writes it to a store
writer, hashes it (md5 `checksum`, sha512 multihash), counts it against a
byte limit and inspects its format.

Chunks are gathered into batches of `BATCH` bytes (kept as a list: joining
them cost more event-loop time than anything else); a batch is hashed and
written in worker threads (md5 in one, sha512 + write in another: hashlib
releases the GIL) while the next batch is being received, so the event loop
never blocks and memory stays at about two batches whatever the image size.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pocketstack.core import exceptions as exc
from pocketstack.image.inspector import Inspection, UnsafeImage
from pocketstack.image.stores import StoreWriter

BATCH = 8 << 20
HASH_ALGO = "sha512"


class StoreFailed(Exception):
    """The store (not the client) failed; `__cause__` is its OSError."""


@dataclass
class Received:
    location: str
    size: int
    checksum: str
    hash_value: str
    virtual_size: int | None


class _Pass:
    """The state of one pass: hashes, inspection and the writer."""

    def __init__(self, writer: StoreWriter, disk_format: str | None):
        self.writer, self.disk_format = writer, disk_format
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha = hashlib.new(HASH_ALGO)
        self.inspection = Inspection()
        self.checked = False

    def inspect(self, part: bytes) -> None:
        if self.inspection.settled:
            self.inspection.position += len(part)
            return
        self.inspection.feed(part)
        if self.inspection.settled and not self.checked:
            self.inspection.verdict(self.disk_format)  # refuse hostile data early
            self.checked = True

    def md5_all(self, parts: list[bytes]) -> None:
        for part in parts:
            self.md5.update(part)

    def hash_and_write(self, parts: list[bytes]) -> None:
        for part in parts:
            self.sha.update(part)
            try:
                self.writer.write(part)
            except OSError as e:
                raise StoreFailed(str(e)) from e

    async def process(self, parts: list[bytes]) -> None:
        """One batch: inspected here (cheap: only header bytes are kept),
        hashed and written in two threads, without joining the parts."""
        for part in parts:
            self.inspect(part)
        await asyncio.gather(
            asyncio.to_thread(self.md5_all, parts),
            asyncio.to_thread(self.hash_and_write, parts),
        )


async def receive(
    chunks: AsyncIterator[bytes],
    writer: StoreWriter,
    *,
    disk_format: str | None,
    limit: int,
    limit_error: exc.PocketstackError,
) -> Received:
    """Consume `chunks` into `writer` and commit it. On any failure (too big,
    refused format, client gone, store error) the writer is aborted and the
    error raised: UnsafeImage becomes a 400."""
    state = _Pass(writer, disk_format)
    total, pending, parts, gathered = 0, None, [], 0
    try:
        async for chunk in chunks:
            if not chunk:
                continue
            total += len(chunk)
            if total > limit:
                raise limit_error
            parts.append(chunk)
            gathered += len(chunk)
            if gathered >= BATCH:
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(state.process(parts))
                parts, gathered = [], 0
        if pending is not None:
            await pending
            pending = None
        if parts:
            await state.process(parts)
        virtual_size = state.inspection.verdict(disk_format)
        try:
            location = await asyncio.to_thread(writer.commit)
        except OSError as e:
            raise StoreFailed(str(e)) from e
    except UnsafeImage as e:
        await _abort(writer, pending)
        raise exc.BadRequest(str(e)) from None
    except BaseException:
        await _abort(writer, pending)
        raise
    return Received(location, total, state.md5.hexdigest(), state.sha.hexdigest(),
                    total if disk_format == "raw" else virtual_size)


async def _abort(writer: StoreWriter, pending: asyncio.Future | None) -> None:
    if pending is not None:
        try:
            await asyncio.shield(pending)
        except BaseException:  # noqa: BLE001 - the original error is what matters
            pass
    await asyncio.to_thread(writer.abort)
