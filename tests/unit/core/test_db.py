import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import DateTime, Integer, String, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pocketstack.core import exceptions as exc
from pocketstack.core import paging, sqlite_inline
from pocketstack.core.db import Database

MIGRATION = '''
import sqlalchemy as sa
from alembic import op

revision = "r1"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
'''


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


@pytest.fixture
async def db(tmp_path: Path):
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "migrations" / "versions" / "0000_items.py").write_text(MIGRATION)
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/t.db", tmp_path / "migrations")
    await database.start()
    yield database
    await database.close()


async def test_migrations_run_and_wal_is_on(db):
    async with db.read() as s:
        assert (await s.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await s.execute(text("SELECT version_num FROM alembic_version"))).scalar() == "r1"


async def test_restart_is_idempotent(db, tmp_path):
    again = Database(str(db.url), tmp_path / "migrations")
    await again.start()
    await again.close()


async def test_concurrent_read_modify_write_never_loses_an_update(db):
    async with db.write() as s:
        s.add(Item(id="counter", n=0, created_at=dt.datetime(2026, 1, 1)))

    async def bump():
        async with db.write() as s:
            item = (await s.execute(select(Item).where(Item.id == "counter"))).scalar_one()
            await asyncio.sleep(0)
            item.n += 1

    await asyncio.gather(*(bump() for _ in range(40)))
    async with db.read() as s:
        assert (await s.execute(select(Item.n))).scalar() == 40


async def test_write_rolls_back_on_error(db):
    with pytest.raises(RuntimeError):
        async with db.write() as s:
            s.add(Item(id="x", n=1, created_at=dt.datetime(2026, 1, 1)))
            await s.flush()
            raise RuntimeError("no")
    async with db.read() as s:
        assert (await s.execute(select(func.count()).select_from(Item))).scalar() == 0


async def test_keyset_paging_walks_every_row_once(db):
    base = dt.datetime(2026, 1, 1)
    async with db.write() as s:
        for i in range(25):
            # Pairs share a timestamp, so the id must break ties.
            s.add(Item(id=f"i{i:02d}", n=i, created_at=base + dt.timedelta(seconds=i // 2)))
    seen, marker = [], None
    async with db.read() as s:
        while True:
            rows = await paging.page(s, select(Item), Item, limit=4, marker=marker,
                                     sort=[("created_at", "desc")])
            seen += [r.id for r in rows]
            if len(rows) < 4:
                break
            marker = rows[-1].id
        assert sorted(seen) == [f"i{i:02d}" for i in range(25)] and len(seen) == 25
        with pytest.raises(exc.NotFound):
            await paging.page(s, select(Item), Item, limit=4, marker="nope")


def test_limit_parsing():
    assert paging.parse_limit(None) is None
    assert paging.parse_limit("5") == 5
    assert paging.parse_limit("100000") == paging.MAX_LIMIT
    for bad in ("-1", "x"):
        with pytest.raises(exc.BadRequest):
            paging.parse_limit(bad)


async def test_a_lock_held_elsewhere_is_waited_for_without_blocking_the_loop(db):
    """Statements run on the loop's thread; SQLite's lock held by another
    connection (another process) is polled with asyncio sleeps, so other tasks
    keep running meanwhile, and the write goes through once it is released."""
    other = sqlite3.connect(db.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    async def write():
        async with db.write() as s:
            s.add(Item(id="late", n=1, created_at=dt.datetime(2026, 1, 1)))

    tick_task = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.2)
    assert not writing.done() and ticks >= 10
    other.execute("ROLLBACK")
    other.close()
    await asyncio.wait_for(writing, 5)
    tick_task.cancel()
    async with db.read() as s:
        assert (await s.execute(select(Item.n).where(Item.id == "late"))).scalar() == 1


async def test_a_lock_never_released_fails_after_the_timeout(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    await database.start()
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    original, sqlite_inline.BUSY_TIMEOUT = sqlite_inline.BUSY_TIMEOUT, 0.1
    try:
        with pytest.raises(OperationalError, match="locked"):
            async with database.write() as s:
                await s.execute(text("SELECT 1"))
    finally:
        sqlite_inline.BUSY_TIMEOUT = original
        other.close()
        await database.close()
