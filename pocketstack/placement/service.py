"""The Placement service object: its database and policy, handed to every handler
(the domain logic itself lives in `objects/`, one module per resource)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.placement.objects import resource_class, trait


class Placement:
    def __init__(self, db: Database, enforcer: Enforcer):
        self.db = db
        self.enforcer = enforcer
        # SQLite has one writer at a time anyway; queueing writers here instead of
        # in SQLite's busy handler (which sleeps up to 100 ms per retry) keeps claims fast.
        self._sqlite_writer = asyncio.Lock() if db.is_sqlite else None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction (committed at the end, rolled back on an error)."""
        if self._sqlite_writer is None:
            async with self.db.write() as s:
                yield s
            return
        async with self._sqlite_writer, self.db.write() as s:
            yield s

    async def start(self) -> None:
        await self.db.start()
        async with self.write() as s:
            await resource_class.ensure_standard(s)
            await trait.ensure_standard(s)

    async def stop(self) -> None:
        await self.db.close()
