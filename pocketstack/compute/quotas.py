"""Quotas: per-project limits (defaults unless set) and usage counted from the
instances themselves, checked in the same transaction that creates them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.compute.models import Instance, KeyPair, Quota, ServerGroup
from pocketstack.core import exceptions as exc
from pocketstack.core.db import Database

DEFAULTS = {
    "instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128,
    "key_pairs": 100, "server_groups": 10, "server_group_members": 10,
}
LEGACY = {"injected_files": 5, "injected_file_content_bytes": 10240,
          "injected_file_path_bytes": 255}  # shown before microversion 2.57


async def limits(s: AsyncSession, project_id: str) -> dict[str, int]:
    rows = await s.execute(select(Quota.resource, Quota.hard_limit).where(
        Quota.project_id == project_id))
    return {**DEFAULTS, **LEGACY, **dict(rows.all())}


async def usage(s: AsyncSession, project_id: str, user_id: str | None = None) -> dict[str, int]:
    count, cores, ram = (await s.execute(select(
        func.count(), func.coalesce(func.sum(Instance.vcpus), 0),
        func.coalesce(func.sum(Instance.memory_mb), 0)).where(
        Instance.project_id == project_id, Instance.deleted.is_(False)))).one()
    groups = await s.scalar(select(func.count()).select_from(ServerGroup).where(
        ServerGroup.project_id == project_id))
    keys = 0
    if user_id is not None:
        keys = await s.scalar(select(func.count()).select_from(KeyPair).where(
            KeyPair.user_id == user_id))
    return {"instances": count, "cores": cores, "ram": ram, "server_groups": groups,
            "key_pairs": keys}


async def check_instances(s: AsyncSession, project_id: str, count: int, flavor: dict) -> None:
    """Raise 403 the way Nova words it if `count` more servers of `flavor` exceed quota."""
    limit, used = await limits(s, project_id), await usage(s, project_id)
    wanted = {"instances": count, "cores": count * flavor["vcpus"], "ram": count * flavor["ram"]}
    over = [r for r, n in wanted.items() if limit[r] >= 0 and used[r] + n > limit[r]]
    if over:
        r = over[0]
        raise exc.Forbidden(
            f"Quota exceeded for {', '.join(over)}: Requested {wanted[r]}, but already used "
            f"{used[r]} of {limit[r]} {r}")


class Quotas:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, project_id: str) -> dict[str, int]:
        async with self.db.read() as s:
            return await limits(s, project_id)

    async def detail(self, project_id: str, user_id: str | None) -> dict[str, dict]:
        async with self.db.read() as s:
            limit, used = await limits(s, project_id), await usage(s, project_id, user_id)
        return {r: {"limit": n, "in_use": used.get(r, 0), "reserved": 0}
                for r, n in limit.items()}

    async def usage(self, project_id: str, user_id: str | None) -> dict[str, int]:
        async with self.db.read() as s:
            return await usage(s, project_id, user_id)

    async def set(self, project_id: str, values: dict[str, int]) -> dict[str, int]:
        async with self.db.write() as s:
            for resource, hard_limit in values.items():
                row = await s.get(Quota, (project_id, resource))
                if row is None:
                    s.add(Quota(project_id=project_id, resource=resource,
                                hard_limit=hard_limit))
                else:
                    row.hard_limit = hard_limit
        return await self.get(project_id)

    async def reset(self, project_id: str) -> None:
        async with self.db.write() as s:
            for row in await s.scalars(select(Quota).where(Quota.project_id == project_id)):
                await s.delete(row)
