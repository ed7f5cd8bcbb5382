"""Usages: what a provider has handed out, and what a project (or user) holds."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.placement.models import Allocation, Consumer, Inventory, ResourceClass


async def of_provider(s: AsyncSession, rp_id: int) -> dict[str, int]:
    """Every inventoried class of the provider, with what is allocated of it."""
    q = (select(ResourceClass.name, Inventory.used)
         .join(ResourceClass, ResourceClass.id == Inventory.resource_class_id)
         .where(Inventory.resource_provider_id == rp_id))
    return dict((await s.execute(q)).all())


async def of_project(s: AsyncSession, project_id: str, user_id: str | None,
                     consumer_type: str | None) -> dict[str | None, dict[str, int]]:
    """{consumer_type: {class: used, ..., "consumer_count": n}} for the project (and user)."""
    conds = [Consumer.project_id == project_id]
    if user_id is not None:
        conds.append(Consumer.user_id == user_id)
    if consumer_type not in (None, "all"):
        conds.append(Consumer.consumer_type.is_(None) if consumer_type == "unknown"
                     else Consumer.consumer_type == consumer_type)
    sums = (select(Consumer.consumer_type, ResourceClass.name, func.sum(Allocation.used))
            .join(Consumer, Consumer.id == Allocation.consumer_id)
            .join(ResourceClass, ResourceClass.id == Allocation.resource_class_id)
            .where(*conds).group_by(Consumer.consumer_type, ResourceClass.name))
    out: dict[str | None, dict[str, int]] = {}
    for ctype, rc, used in (await s.execute(sums)):
        out.setdefault(ctype, {})[rc] = int(used)
    counts = (select(Consumer.consumer_type, func.count(func.distinct(Consumer.id)))
              .join(Allocation, Allocation.consumer_id == Consumer.id)
              .where(*conds).group_by(Consumer.consumer_type))
    for ctype, n in (await s.execute(counts)):
        out.setdefault(ctype, {})["consumer_count"] = int(n)
    return out
