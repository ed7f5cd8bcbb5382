"""The Placement service object: its database and policy, handed to every handler
(the domain logic itself lives in `objects/`, one module per resource)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.placement import errors
from pocketstack.placement.objects import resource_class, trait
from pocketstack.placement.objects.names import Vocabulary


class Placement:
    def __init__(self, db: Database, enforcer: Enforcer):
        self.db = db
        self.enforcer = enforcer
        self.vocabulary = Vocabulary()
        # SQLite has one writer at a time anyway; queueing writers here instead of
        # in SQLite's busy handler (which sleeps up to 100 ms per retry) keeps claims fast.
        self._sqlite_writer = asyncio.Lock() if db.is_sqlite else None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction (committed at the end, rolled back on an error). A
        PostgreSQL deadlock or serialization failure between concurrent writers
        is the concurrent update it is: a 409 the client retries."""
        try:
            if self._sqlite_writer is None:
                async with self.db.write() as s:
                    yield s
                return
            async with self._sqlite_writer, self.db.write() as s:
                yield s
        except DBAPIError as err:
            if _sqlstate(err) in ("40P01", "40001", "23505"):
                raise errors.concurrent_update() from err
            raise

    async def start(self) -> None:
        await self.db.start()
        async with self.write() as s:
            await resource_class.ensure_standard(s)
            await trait.ensure_standard(s)

    async def stop(self) -> None:
        await self.db.close()


def _sqlstate(err: DBAPIError) -> str | None:
    orig = err.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
