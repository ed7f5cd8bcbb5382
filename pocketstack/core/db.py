"""One service's database: the async engine, its sessions and its migrations.

SQLite (the default) runs in WAL mode, its statements on the event loop's
thread (core/sqlite_inline.py: cheaper than a thread hop each); write
sessions take the write lock at BEGIN (`BEGIN IMMEDIATE`) so that two writers
queue instead of failing with "database is locked" halfway through. PostgreSQL is
reached through asyncpg; its database is created on first start if missing.
Each service keeps its Alembic revisions in `<service>/migrations/`; `start()`
upgrades to head.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from pocketstack.core import migrations, sqlite_inline

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    """Services declare their own base: `class Base(DeclarativeBase)` per service,
    so each metadata holds only that service's tables."""


class Database:
    def __init__(self, url: str, migrations_dir: Path | None = None):
        self.url = make_url(url)
        self.migrations_dir = migrations_dir
        self.engine: AsyncEngine | None = None
        self._read: async_sessionmaker[AsyncSession] | None = None
        self._write: async_sessionmaker[AsyncSession] | None = None
        self._write_lock: asyncio.Lock | contextlib.nullcontext = contextlib.nullcontext()

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    async def start(self) -> None:
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(self.url, async_creator=self._sqlite_connect)
            _configure_sqlite(engine)
        else:
            await _create_pg_database_if_missing(self.url)
            engine = create_async_engine(self.url, pool_size=10, max_overflow=20)
        self.engine = engine
        if self.is_sqlite:
            self._write_lock = asyncio.Lock()
        write_engine = engine.execution_options(pocketstack_write=True)
        self._read = async_sessionmaker(engine, expire_on_commit=False)
        self._write = async_sessionmaker(write_engine, expire_on_commit=False)
        if self.migrations_dir is not None:
            async with engine.begin() as conn:
                await conn.run_sync(migrations.upgrade, self.migrations_dir)

    async def _sqlite_connect(self) -> sqlite_inline.Connection:
        uri = self.url.query.get("uri") in ("true", "1")
        return await sqlite_inline.connect(self.url.database or ":memory:", uri=uri)

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries; its transaction is rolled back at the end."""
        assert self._read is not None, "database not started"
        async with self._session(self._read) as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits at the end, or rolls back on error.

        On SQLite the writers of one process queue on an asyncio lock, so that
        they wait for each other without polling for SQLite's lock; the lock is
        held from BEGIN to COMMIT only (not while the session closes). A write
        session must not open another on the same database (on SQLite it never
        could: the second BEGIN IMMEDIATE waits for the first)."""
        assert self._write is not None, "database not started"
        async with self._session(self._write) as session:
            async with self._write_lock, session.begin():
                yield session

    @asynccontextmanager
    async def _session(self, maker: async_sessionmaker[AsyncSession],
                       ) -> AsyncIterator[AsyncSession]:
        """On SQLite the session is closed in place: SQLAlchemy's `async with`
        closes it in a task of its own (shielded from cancellation), a loop turn
        that SQLite's statements, which never wait, do not need."""
        if not self.is_sqlite:
            async with maker() as session:
                yield session
            return
        session = maker()
        try:
            yield session
        finally:
            await session.close()


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync = engine.sync_engine

    @event.listens_for(sync, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        # The connection is in autocommit mode (sqlite_inline.connect): SQLAlchemy's
        # "begin" event below issues BEGIN itself. No busy timeout: a lock held by
        # another process is waited for with asyncio sleeps, never blocking the loop.
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(sync, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # Straight to the driver's cursor: exec_driver_sql would run the whole
        # statement machinery (events, result) for a BEGIN, once per transaction.
        write = conn.get_execution_options().get("pocketstack_write", False)
        cur = conn.connection.dbapi_connection.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        finally:
            cur.close()


async def _create_pg_database_if_missing(url) -> None:  # noqa: ANN001
    admin_url = url.set(database="postgres")
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
            )
            if not found:
                log.info("creating database %s", url.database)
                await conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    finally:
        await engine.dispose()
