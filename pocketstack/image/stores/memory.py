"""The in-memory store: the fake every test can use, with failure options."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from pocketstack.image.stores import READ_CHUNK


class MemoryWriter:
    def __init__(self, store: MemoryStore, key: str):
        self.store, self.key = store, key
        self.parts: list[bytes] = []

    def write(self, data: bytes | memoryview) -> None:
        if self.store.fail_write_after is not None and \
                sum(map(len, self.parts)) + len(data) > self.store.fail_write_after:
            raise OSError("memory store: simulated write failure")
        self.parts.append(bytes(data))

    def commit(self) -> str:
        location = f"memory://{self.key}/{uuid.uuid4().hex}"
        self.store.blobs[location] = b"".join(self.parts)
        self.parts = []
        return location

    def abort(self) -> None:
        self.parts = []


class MemoryStore:
    name = "memory"

    def __init__(self, fail_write_after: int | None = None):
        self.blobs: dict[str, bytes] = {}
        self.fail_write_after = fail_write_after  # bytes; then writes raise OSError

    def writer(self, key: str) -> MemoryWriter:
        return MemoryWriter(self, key)

    async def read(self, location: str, offset: int = 0,
                   length: int | None = None) -> AsyncIterator[bytes]:
        if location not in self.blobs:
            raise FileNotFoundError(location)
        blob = self.blobs[location]
        end = len(blob) if length is None else min(len(blob), offset + length)
        for i in range(offset, end, READ_CHUNK):
            yield blob[i:min(i + READ_CHUNK, end)]

    async def delete(self, location: str) -> None:
        self.blobs.pop(location, None)

    async def size(self, location: str) -> int:
        if location not in self.blobs:
            raise FileNotFoundError(location)
        return len(self.blobs[location])
