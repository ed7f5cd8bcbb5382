"""A provider's inventories: replaced whole or one class at a time, always under
the provider's generation. A write that changes nothing changes nothing (no
generation bump), so periodic reports from many hosts stay cheap."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from pocketstack.core import exceptions as exc
from pocketstack.placement import errors
from pocketstack.placement.models import Inventory, ResourceClass, ResourceProvider
from pocketstack.placement.objects import resource_class, resource_provider

CHUNK = 5000  # ids per IN list, under SQLite's and PostgreSQL's parameter limits
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



def _same(inv: Inventory, rec: InventoryRecord) -> bool:
    return all(getattr(inv, f) == getattr(rec, f) for f in FIELDS)


async def unchanged(s: AsyncSession, rp: ResourceProvider, generation: int | None,
                    wanted: dict[str, InventoryRecord]) -> bool:
    """The provider already has exactly `wanted` at `generation` (a read-only check,
    so periodic reports that change nothing never queue for the write lock)."""
    if generation != rp.generation:
        return False
    current = await of_provider(s, rp.id)
    return current.keys() == wanted.keys() and all(
        _same(current[n], r) for n, r in wanted.items())


async def replace(s: AsyncSession, rp: ResourceProvider, generation: int | None,
                  wanted: dict[str, InventoryRecord]) -> bool:
    """Make the provider's inventory exactly `wanted`; False when it already was."""
    return bool(await replace_many(s, {rp: (generation, wanted)}))


async def replace_many(s: AsyncSession, wanted_by_rp: dict[ResourceProvider, tuple[
        int | None, dict[str, InventoryRecord]]]) -> set[int]:
    """`replace` for many providers at once (PUT inventories is one, POST /reshaper
    many): their current rows in one query, the changes as bulk statements, one
    generation bump for those that changed. Returns the ids of the changed ones."""
    for rp, (generation, _) in wanted_by_rp.items():
        resource_provider.check_generation(rp, generation)
    names = {n for _, wanted in wanted_by_rp.values() for n in wanted}
    ids = await resource_class.ids_for(s, names)
    unknown = sorted(names - ids.keys())
    if unknown:
        rp = next(rp for rp, (_, w) in wanted_by_rp.items() if set(w) & set(unknown))
        raise exc.BadRequest(f"Unknown resource class in inventory for resource provider "
                             f"{rp.uuid}: {', '.join(unknown)}")
    current = await _of_providers(s, [rp.id for rp in wanted_by_rp])
    drop, updates, inserts, changed = [], [], [], set()
    for rp, (_, wanted) in wanted_by_rp.items():
        have = current.get(rp.id, {})
        removed = [n for n in have if n not in wanted]
        in_use = [n for n in removed if have[n].used > 0]
        if in_use:
            raise exc.Conflict(f"update conflict: Inventory for '{', '.join(in_use)}' on "
                               f"resource provider '{rp.uuid}' in use.",
                               code=errors.INVENTORY_INUSE)
        drop += [have[n].id for n in removed]
        for name, rec in wanted.items():
            if name not in have:
                inserts.append({"resource_provider_id": rp.id, "resource_class_id": ids[name],
                                "used": 0, **rec.as_dict()})
            elif not _same(have[name], rec):
                updates.append({"_id": have[name].id, **rec.as_dict()})
            else:
                continue
            changed.add(rp.id)
        if removed:
            changed.add(rp.id)
    await _write(s, drop, updates, inserts)
    await _bump([rp for rp in wanted_by_rp if rp.id in changed], s)
    return changed


async def _of_providers(s: AsyncSession, rp_ids: list[int]) -> dict[int, dict[str, Inventory]]:
    out: dict[int, dict[str, Inventory]] = {}
    for i in range(0, len(rp_ids), CHUNK):
        q = (select(ResourceClass.name, Inventory)
             .join(ResourceClass, ResourceClass.id == Inventory.resource_class_id)
             .where(Inventory.resource_provider_id.in_(rp_ids[i:i + CHUNK])))
        for name, inv in (await s.execute(q)).all():
            out.setdefault(inv.resource_provider_id, {})[name] = inv
    return out


async def _write(s: AsyncSession, drop: list[int], updates: list[dict],
                 inserts: list[dict]) -> None:
    """Deletes, then updates and inserts in (provider, class) order, as claims lock them."""
    for i in range(0, len(drop), CHUNK):
        await s.execute(delete(Inventory).where(Inventory.id.in_(drop[i:i + CHUNK])))
    if updates:
        t = Inventory.__table__
        await s.execute(update(t).where(t.c.id == bindparam("_id")),
                        sorted(updates, key=lambda u: u["_id"]))
    if inserts:
        await s.execute(insert(Inventory), sorted(inserts, key=lambda r: (
            r["resource_provider_id"], r["resource_class_id"])))


async def _bump(rps: list[ResourceProvider], s: AsyncSession) -> None:
    if len(rps) == 1:
        await resource_provider.bump_generation(s, rps[0])  # compare-and-swap
        return
    rp_ids = [rp.id for rp in rps]
    for i in range(0, len(rp_ids), CHUNK):
        await s.execute(update(ResourceProvider)
                        .where(ResourceProvider.id.in_(rp_ids[i:i + CHUNK]))
                        .values(generation=ResourceProvider.generation + 1,
                                updated_at=func.now())
                        .execution_options(synchronize_session=False))
    for rp in rps:  # as loaded, not as a change to flush over later bumps
        set_committed_value(rp, "generation", rp.generation + 1)


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
