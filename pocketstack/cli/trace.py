"""`pocketstack trace SERVER_ID`: a server's launch as the numbered steps of the
architecture's table, each with its service and duration, read from the spans
the compute service stored (its database, in the state directory)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from pocketstack import config as configuration

STEPS = ["1-2", "3", "4-5", "6-7", "8", "9", "10", "11", "12", "13", "14-18", "19-21",
         "22-24", "25-27", "28"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("server_id", help="the server whose launch to show")
    p.add_argument("--state-dir", type=Path, help="the cloud's state directory")
    p.add_argument("--all", action="store_true", help="also the spans outside the table")


def run(args: argparse.Namespace) -> int:
    cfg = configuration.load(state_dir=args.state_dir)
    try:
        lines = asyncio.run(render(cfg, args.server_id, args.all))
    except LookupError as err:
        print(err)
        return 1
    print("\n".join(lines))
    return 0


async def render(cfg: configuration.Config, server_id: str, show_all: bool = False) -> list[str]:
    from sqlalchemy import select

    from pocketstack.compute.models import InstanceAction
    from pocketstack.compute.store import Store
    from pocketstack.core.db import Database
    from pocketstack.core.tracing import trace_id_for

    db = Database(cfg.database_for("compute"))
    await db.start()
    try:
        async with db.read() as s:
            action = await s.scalar(select(InstanceAction).where(
                InstanceAction.instance_id == server_id, InstanceAction.action == "create"))
        if action is None:
            raise LookupError(f"No launch of server {server_id} is recorded.")
        spans = await Store(db).spans(trace_id_for(action.request_id))
    finally:
        await db.close()
    return table(server_id, action.request_id, spans, show_all)


def table(server_id: str, request_id: str, spans: list, show_all: bool) -> list[str]:
    shown = [s for s in spans if show_all or s.step]
    if not shown:
        return [f"No spans recorded for the launch of {server_id} (request {request_id})."]
    t0 = min(s.start for s in spans)
    total = (max(s.end for s in spans) - t0) * 1000
    out = [f"Launch of server {server_id} (request {request_id}), {total:.1f} ms in all",
           f"{'step':>6}  {'service':<14} {'at ms':>8} {'took ms':>8}  what"]
    for s in sorted(shown, key=lambda s: (s.start, STEPS.index(s.step) if s.step in STEPS
                                          else 99)):
        what = s.name + (f"  [{s.status}: {s.attributes.get('error', '')}]"
                         if s.status != "ok" else "")
        out.append(f"{s.step or '':>6}  {s.service:<14} {(s.start - t0) * 1000:8.1f} "
                   f"{(s.end - s.start) * 1000:8.1f}  {what}")
    missing = [step for step in STEPS if not any(s.step == step for s in spans)]
    out.append("all 28 steps recorded" if not missing else
               "steps not recorded: " + ", ".join(missing))
    return out
