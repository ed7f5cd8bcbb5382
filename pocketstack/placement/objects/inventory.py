"""A provider's inventories: replaced whole or one class at a time, always under
the provider's generation. A write that changes nothing changes nothing (no
generation bump), so periodic reports from many hosts stay cheap."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.placement import errors
from pocketstack.placement.models import Inventory, ResourceClass, ResourceProvider
from pocketstack.placement.objects import resource_class, resource_provider

FIELDS = ("total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio")


@dataclass
class InventoryRecord:
    total: int
    reserved: int = 0
    min_unit: int = 1
    max_unit: int = 2147483647
    step_size: int = 1
    allocation_ratio: float = 1.0

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in FIELDS}

    def check(self, rc: str, allow_reserved_equal_total: bool) -> None:
        if self.reserved > self.total or (
                self.reserved == self.total and not allow_reserved_equal_total):
            raise exc.BadRequest(f"Unable to update inventory for resource provider: Invalid "
                                 f"inventory for '{rc}': reserved {self.reserved} is greater "
                                 f"than or equal to total {self.total}.")
        if self.min_unit > self.max_unit:
            raise exc.BadRequest(f"Invalid inventory for '{rc}': min_unit {self.min_unit} is "
                                 f"greater than max_unit {self.max_unit}.")


def capacity(inv: Inventory) -> int:
    return int((inv.total - inv.reserved) * inv.allocation_ratio)


async def of_provider(s: AsyncSession, rp_id: int) -> dict[str, Inventory]:
    q = (select(ResourceClass.name, Inventory)
         .join(ResourceClass, ResourceClass.id == Inventory.resource_class_id)
         .where(Inventory.resource_provider_id == rp_id).order_by(ResourceClass.name))
    return dict((await s.execute(q)).all())


async def of_providers(s: AsyncSession, rp_ids: list[int],
                       class_ids: list[int] | None = None) -> dict[int, list[Inventory]]:
    out: dict[int, list[Inventory]] = {}
    for i in range(0, len(rp_ids), 900):
        q = select(Inventory).where(Inventory.resource_provider_id.in_(rp_ids[i:i + 900]))
        if class_ids is not None:
            q = q.where(Inventory.resource_class_id.in_(class_ids))
        for inv in (await s.scalars(q)).all():
            out.setdefault(inv.resource_provider_id, []).append(inv)
    return out


def _same(inv: Inventory, rec: InventoryRecord) -> bool:
    return all(getattr(inv, f) == getattr(rec, f) for f in FIELDS)


async def replace(s: AsyncSession, rp: ResourceProvider, generation: int | None,
                  wanted: dict[str, InventoryRecord]) -> bool:
    """Make the provider's inventory exactly `wanted`; False when it already was."""
    resource_provider.check_generation(rp, generation)
    ids = await resource_class.ids_for(s, wanted)
    unknown = sorted(set(wanted) - ids.keys())
    if unknown:
        raise exc.BadRequest(f"Unknown resource class in inventory for resource provider "
                             f"{rp.uuid}: {', '.join(unknown)}")
    current = await of_provider(s, rp.id)
    removed = [name for name in current if name not in wanted]
    changed = {n: r for n, r in wanted.items() if n not in current or not _same(current[n], r)}
    if not removed and not changed:
        return False
    in_use = [n for n in removed if current[n].used > 0]
    if in_use:
        raise exc.Conflict(f"update conflict: Inventory for '{', '.join(in_use)}' on resource "
                           f"provider '{rp.uuid}' in use.", code=errors.INVENTORY_INUSE)
    if removed:
        await s.execute(delete(Inventory).where(Inventory.id.in_(
            [current[n].id for n in removed])))
    # In class order: claims lock inventory rows in (provider, class) order too.
    for name, rec in sorted(changed.items(), key=lambda item: ids[item[0]]):
        if name in current:
            await s.execute(update(Inventory).where(Inventory.id == current[name].id)
                            .values(**rec.as_dict()))
        else:
            await s.execute(insert(Inventory).values(
                resource_provider_id=rp.id, resource_class_id=ids[name], used=0,
                **rec.as_dict()))
    await resource_provider.bump_generation(s, rp)
    return True


async def set_one(s: AsyncSession, rp: ResourceProvider, generation: int | None, name: str,
                  rec: InventoryRecord, create: bool) -> None:
    """PUT (update an existing class) or POST (create a new one) a single inventory."""
    resource_provider.check_generation(rp, generation)
    current = await of_provider(s, rp.id)
    if create and name in current:
        raise exc.Conflict(f"Update to resource provider {rp.uuid} failed: inventory for "
                           f"{name} already exists.")
    if not create and name not in current:
        raise exc.BadRequest(f"No inventory record with resource class for resource "
                             f"provider {rp.uuid}")
    wanted = {n: InventoryRecord(**{f: getattr(i, f) for f in FIELDS})
              for n, i in current.items()}
    wanted[name] = rec
    await replace(s, rp, generation, wanted)


async def delete_one(s: AsyncSession, rp: ResourceProvider, generation: int | None,
                     name: str) -> None:
    current = await of_provider(s, rp.id)
    if name not in current:
        raise exc.NotFound(f"No inventory of class {name} found for delete")
    wanted = {n: InventoryRecord(**{f: getattr(i, f) for f in FIELDS})
              for n, i in current.items() if n != name}
    await replace(s, rp, generation if generation is not None else rp.generation, wanted)
