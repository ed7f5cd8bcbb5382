"""Alembic migrations without alembic.ini or env.py.

Each service keeps its revisions in `pocketstack/<service>/migrations/versions/`.
`upgrade` brings a database to head on start; `autogenerate` writes a new
revision from the difference between the models and a database at head
(`pocketstack dev migration SERVICE MESSAGE`).
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.M)


def heads(directory: Path) -> set[str]:
    """The head revisions in `directory`, read from the files (no alembic import)."""
    revisions, downs = set(), set()
    for path in (directory / "versions").glob("*.py"):
        source = path.read_text()
        found = _REVISION.search(source)
        if found:
            revisions.add(found.group(1))
        down = _DOWN.search(source)
        if down:
            downs.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    return revisions - downs


def at_head(conn: Connection, directory: Path) -> bool:
    """Whether the database is already at the newest revision: lets a start on
    an up-to-date database skip importing alembic (a good part of start-up)."""
    if not inspect(conn).has_table("alembic_version"):
        return False
    current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return current == heads(directory)


def _script(directory: Path) -> tuple[AlembicConfig, ScriptDirectory]:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(directory))
    return cfg, ScriptDirectory.from_config(cfg)


def upgrade(conn: Connection, directory: Path) -> None:
    """Upgrade the database behind `conn` to the newest revision in `directory`."""
    if at_head(conn, directory):
        return
    from alembic.runtime.environment import EnvironmentContext

    cfg, script = _script(directory)

    def _revs(rev, _context):  # noqa: ANN001
        return script._upgrade_revs("heads", rev)

    with EnvironmentContext(cfg, script, fn=_revs, destination_rev="heads") as env:
        env.configure(connection=conn, render_as_batch=True)
        with env.begin_transaction():
            env.run_migrations()


def autogenerate(conn: Connection, directory: Path, metadata: MetaData, message: str) -> Path:
    """Write a revision file for what `metadata` has and the database at head lacks."""
    from alembic.autogenerate import produce_migrations, render_python_code

    _, script = _script(directory)
    ctx_opts = {"target_metadata": metadata, "render_as_batch": True}
    from alembic.runtime.migration import MigrationContext

    mc = MigrationContext.configure(conn, opts=ctx_opts)
    diff = produce_migrations(mc, metadata)
    body = render_python_code(diff.upgrade_ops, migration_context=mc)
    head = script.get_current_head()
    rev = uuid.uuid4().hex[:12]
    slug = "".join(c if c.isalnum() else "_" for c in message.lower())[:40]
    versions = directory / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    seq = len(list(versions.glob("*.py")))
    path = versions / f"{seq:04d}_{slug}.py"
    path.write_text(
        f'"""{message}\n\nRevision ID: {rev}\nCreated: {time.strftime("%Y-%m-%d")}\n"""\n\n'
        "import sqlalchemy as sa  # noqa: F401\nfrom alembic import op  # noqa: F401\n\n"
        f"revision = {rev!r}\ndown_revision = {head!r}\n\n\n"
        f"def upgrade() -> None:\n{body}\n"
    )
    return path
