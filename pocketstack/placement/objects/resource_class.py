"""Resource classes: the standard ones (seeded with fixed ids) and CUSTOM_* ones."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.placement import standard
from pocketstack.placement.models import Inventory, ResourceClass


async def ensure_standard(s: AsyncSession) -> None:
    have = set((await s.scalars(select(ResourceClass.name))).all())
    rows = [{"id": i, "name": n} for i, n in enumerate(standard.RESOURCE_CLASSES)
            if n not in have]
    if rows:
        await s.execute(insert(ResourceClass), rows)


async def ids_for(s: AsyncSession, names: Iterable[str]) -> dict[str, int]:
    """Ids of the named classes that exist (the caller decides what a missing one means)."""
    names = set(names)
    if not names:
        return {}
    rows = await s.execute(select(ResourceClass.name, ResourceClass.id)
                           .where(ResourceClass.name.in_(names)))
    return dict(rows.all())


async def require_ids(s: AsyncSession, names: Iterable[str]) -> dict[str, int]:
    names = set(names)
    found = await ids_for(s, names)
    missing = sorted(names - found.keys())
    if missing:
        raise exc.BadRequest(f"Unknown resource class in request: {', '.join(missing)}")
    return found


async def names_by_id(s: AsyncSession) -> dict[int, str]:
    rows = await s.execute(select(ResourceClass.id, ResourceClass.name))
    return dict(rows.all())


async def list_names(s: AsyncSession) -> list[str]:
    return list((await s.scalars(select(ResourceClass.name).order_by(ResourceClass.id))).all())


async def exists(s: AsyncSession, name: str) -> bool:
    return bool(await ids_for(s, [name]))


async def create(s: AsyncSession, name: str) -> None:
    if not standard.is_custom(name):
        raise exc.BadRequest(f"JSON does not validate: {name!r} does not match "
                             "'^CUSTOM\\_[A-Z0-9_]+$'")
    if await exists(s, name):
        raise exc.Conflict(f"Conflicting resource provider name: {name} already exists.",
                           code="placement.duplicate_name")
    top = await s.scalar(select(func.max(ResourceClass.id)))
    new_id = max(standard.CUSTOM_ID_START, (top or 0) + 1)
    await s.execute(insert(ResourceClass).values(id=new_id, name=name))


async def delete(s: AsyncSession, name: str) -> None:
    found = await ids_for(s, [name])
    if not found:
        raise exc.NotFound(f"No such resource class {name}.")
    if not standard.is_custom(name):
        raise exc.BadRequest(f"Cannot delete standard resource class {name}.")
    rc_id = found[name]
    in_use = await s.scalar(select(Inventory.id).where(Inventory.resource_class_id == rc_id)
                            .limit(1))
    if in_use is not None:
        raise exc.Conflict(f"Unable to delete resource class {name}. Class is in use in "
                           "inventory.")
    row = await s.get(ResourceClass, rc_id)
    await s.delete(row)
