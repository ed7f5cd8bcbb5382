"""`pocketstack dev migration SERVICE MESSAGE`: write a new Alembic revision
for SERVICE from the difference between its models and its migrations."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import tempfile
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="dev_command", required=True)
    m = sub.add_parser("migration", help="autogenerate a migration for a service")
    m.add_argument("service", help="service package name, e.g. identity")
    m.add_argument("message", help="what the revision does")


def run(args: argparse.Namespace) -> int:
    from pocketstack.core import migrations
    from pocketstack.core.db import Database

    models = importlib.import_module(f"pocketstack.{args.service}.models")
    directory = Path(models.__file__).parent / "migrations"

    async def go() -> Path:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite+aiosqlite:///{tmp}/scratch.db", directory)
            await db.start()
            async with db.engine.begin() as conn:
                path = await conn.run_sync(
                    migrations.autogenerate, directory, models.Base.metadata, args.message)
            await db.close()
            return path

    print(f"wrote {asyncio.run(go())}")
    return 0
