"""Where image data lives: the store contract, and the stores by name.

A store keeps opaque blobs under a location string it chooses. Writing goes
through a `StoreWriter`, whose data stays invisible until `commit` (an
interrupted or refused upload calls `abort` and leaves nothing behind).
`StoreWriter` methods block and are called from a worker thread, one call at
a time, in order; the store's other methods are async and safe to call
concurrently. `memory.py` is the fake; `file.py` the default.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class StoreWriter(Protocol):
    def write(self, data: bytes | memoryview) -> None:
        """Append data (blocking)."""

    def commit(self) -> str:
        """Make everything written visible at once; returns the location (blocking)."""

    def abort(self) -> None:
        """Forget everything written; idempotent, also after commit fails (blocking)."""


class ImageStore(Protocol):
    name: str

    def writer(self, key: str) -> StoreWriter:
        """A writer for a new blob named after `key` (an image id)."""

    def read(self, location: str, offset: int = 0,
             length: int | None = None) -> AsyncIterator[bytes]:
        """The blob's bytes [offset, offset+length) in chunks; raises
        FileNotFoundError before the first chunk if the blob is gone."""

    async def delete(self, location: str) -> None:
        """Remove the blob; a missing blob is not an error."""

    async def size(self, location: str) -> int:
        """The blob's length; FileNotFoundError if it is gone."""


READ_CHUNK = 1 << 20
