"""SQLite for SQLAlchemy's aiosqlite dialect, without a thread hop per statement.

aiosqlite runs every call on a thread of its own and hands the result back
through the event loop: a short transaction of five statements waits for
five loop turns, and on a busy loop each turn is milliseconds while the work
is microseconds (WAL, `synchronous=NORMAL`: a commit does not fsync). This
module is a connection with aiosqlite's shape whose calls run at once on the
calling thread, so a transaction holds the database's write lock for its own
work only.

The one wait SQLite can impose is a lock held by another process (a writer
elsewhere, WAL recovery): the connections here have no busy timeout, and a
statement that meets SQLITE_BUSY is retried after an asyncio sleep that
grows to 50 ms, for up to BUSY_TIMEOUT seconds, so the loop never blocks on it.

    engine = create_async_engine("sqlite+aiosqlite:///x.db",
                                 async_creator=lambda: connect("x.db"))
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any

BUSY_PAUSES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
BUSY_TIMEOUT = 30.0


async def connect(database: str, **kw: Any) -> Connection:
    """A connection in autocommit mode (SQLAlchemy issues BEGIN itself)."""
    return Connection(sqlite3.connect(database, timeout=0, isolation_level=None,
                                      check_same_thread=False, **kw))


async def _retry_busy(call: Callable[[], Any]) -> Any:
    deadline, attempt = time.monotonic() + BUSY_TIMEOUT, 0
    while True:
        try:
            return call()
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(BUSY_PAUSES[min(attempt, len(BUSY_PAUSES) - 1)])
        attempt += 1


class Cursor:
    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> Cursor:
        await _retry_busy(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        rows = list(parameters)  # a retry must see them all again
        await _retry_busy(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    def __aiter__(self) -> Cursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class Connection:
    """What SQLAlchemy's aiosqlite adapter uses of an aiosqlite.Connection."""

    def __init__(self, conn: sqlite3.Connection):
        self._connection = conn

    def cursor(self) -> Cursor:
        return Cursor(self._connection.cursor())

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> Cursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        await _retry_busy(self._connection.commit)

    async def rollback(self) -> None:
        self._connection.rollback()

    async def close(self) -> None:
        self._connection.close()

    def stop(self) -> None:
        self._connection.close()

    async def create_function(self, name: str, num_params: int, func: Callable[..., Any],
                              deterministic: bool = False) -> None:
        self._connection.create_function(name, num_params, func, deterministic=deterministic)

    @property
    def in_transaction(self) -> bool:
        return self._connection.in_transaction

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level
