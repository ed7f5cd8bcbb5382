"""Alembic migrations without alembic.ini or env.py.

Each service keeps its revisions in `pocketstack/<service>/migrations/versions/`.
`upgrade` brings a database to head on start; `autogenerate` writes a new
revision from the difference between the models and a database at head
(`pocketstack dev migration SERVICE MESSAGE`).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.config import Config as AlembicConfig
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection


def _script(directory: Path) -> tuple[AlembicConfig, ScriptDirectory]:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(directory))
    return cfg, ScriptDirectory.from_config(cfg)


def upgrade(conn: Connection, directory: Path) -> None:
    """Upgrade the database behind `conn` to the newest revision in `directory`."""
    cfg, script = _script(directory)

    def _revs(rev, _context):  # noqa: ANN001
        return script._upgrade_revs("heads", rev)

    with EnvironmentContext(cfg, script, fn=_revs, destination_rev="heads") as env:
        env.configure(connection=conn, render_as_batch=True)
        with env.begin_transaction():
            env.run_migrations()


def autogenerate(conn: Connection, directory: Path, metadata: MetaData, message: str) -> Path:
    """Write a revision file for what `metadata` has and the database at head lacks."""
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
