"""The file store: one file per image under a directory of the state dir.

Data is written to a hidden temporary file in the same directory and renamed
into place on commit (after fsync), so a reader never sees a partial image
and an aborted upload leaves no file. Leftover temporaries from a crash are
removed when the store opens.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from pocketstack.image.stores import READ_CHUNK

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class FileWriter:
    def __init__(self, root: Path, key: str, fsync: bool):
        self.final = root / key
        self.temp = root / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
        self.fsync = fsync
        self.fd: int | None = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def commit(self) -> str:
        if self.fsync:
            os.fsync(self.fd)
        os.close(self.fd)
        self.fd = None
        os.replace(self.temp, self.final)
        return f"file://{self.final}"

    def abort(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.temp.unlink(missing_ok=True)


class FileStore:
    name = "file"

    def __init__(self, root: Path, fsync: bool = True):
        self.root = Path(root)
        self.fsync = fsync
        self.root.mkdir(parents=True, exist_ok=True)
        for leftover in self.root.glob(".tmp-*"):
            leftover.unlink(missing_ok=True)

    def writer(self, key: str) -> FileWriter:
        if not _SAFE_KEY.match(key):
            raise ValueError(f"unsafe store key {key!r}")
        return FileWriter(self.root, key, self.fsync)

    def _path(self, location: str) -> Path:
        path = Path(location.removeprefix("file://"))
        if path.parent != self.root:
            raise FileNotFoundError(location)
        return path

    async def read(self, location: str, offset: int = 0,
                   length: int | None = None) -> AsyncIterator[bytes]:
        f = await asyncio.to_thread(open, self._path(location), "rb", buffering=0)
        try:
            f.seek(offset)
            remaining = length
            while remaining is None or remaining > 0:
                want = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
                chunk = await asyncio.to_thread(f.read, want)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            f.close()

    async def delete(self, location: str) -> None:
        try:
            path = self._path(location)
        except FileNotFoundError:
            return
        await asyncio.to_thread(path.unlink, True)

    async def size(self, location: str) -> int:
        return (await asyncio.to_thread(os.stat, self._path(location))).st_size
