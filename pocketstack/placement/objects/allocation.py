"""Allocations: what consumers hold on providers. Writing them is the claim.

`replace` is the one write path. Inside one transaction it checks consumer
generations, validates amounts against each inventory's units, rewrites the
consumers' allocation rows, then adds the net change to `inventories.used`
with `UPDATE ... RETURNING` in a fixed (provider, class) order and refuses the
whole write when any increased inventory goes over its capacity. The UPDATE
holds the row lock (PostgreSQL) or the database write lock (SQLite, BEGIN
IMMEDIATE) until commit, so concurrent claims serialise per inventory and
can never overcommit; the fixed order keeps them free of deadlocks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.placement import errors
from pocketstack.placement.models import (
    Allocation,
    Consumer,
    Inventory,
    ResourceClass,
    ResourceProvider,
)
from pocketstack.placement.objects import resource_class

INCOMPLETE_CONSUMER = "00000000-0000-0000-0000-000000000000"

# rp uuid -> resource class name -> amount
Amounts = dict[str, dict[str, int]]


@dataclass
class ConsumerAllocations:
    consumer_uuid: str
    allocations: Amounts
    project_id: str | None = None
    user_id: str | None = None
    consumer_generation: int | None = None
    check_generation: bool = False  # microversion 1.28+
    consumer_type: str | None = None


@dataclass
class ConsumerView:
    generation: int | None
    project_id: str | None
    user_id: str | None
    consumer_type: str | None
    allocations: dict[str, dict]  # rp uuid -> {"generation": g, "resources": {...}}


async def replace(s: AsyncSession, items: list[ConsumerAllocations]) -> None:
    rps = await _providers(s, {u for it in items for u in it.allocations})
    rcs = await resource_class.require_ids(
        s, {rc for it in items for res in it.allocations.values() for rc in res})
    new = {(it.consumer_uuid, rps[u].id, rcs[rc]): amount
           for it in items for u, res in it.allocations.items() for rc, amount in res.items()}
    await _check_units(s, new, rps)
    consumers = await _consumers(s, [it.consumer_uuid for it in items])
    old = await _allocations_of(s, [c.id for c in consumers.values()])
    ids = {}
    for it in items:
        ids[it.consumer_uuid] = await _write_consumer(s, it, consumers.get(it.consumer_uuid))
    await s.execute(delete(Allocation).where(Allocation.consumer_id.in_(list(ids.values()))))
    rows = [{"consumer_id": ids[c], "resource_provider_id": rp, "resource_class_id": rc,
             "used": amount} for (c, rp, rc), amount in new.items()]
    if rows:
        await s.execute(insert(Allocation), rows)
    delta: dict[tuple[int, int], int] = defaultdict(int)
    for (_, rp, rc), amount in new.items():
        delta[rp, rc] += amount
    for (rp, rc), amount in old.items():
        delta[rp, rc] -= amount
    await _apply_usage(s, delta, {p.id: u for u, p in rps.items()}, rcs)
    touched = {rp for rp, _ in delta} | {p.id for p in rps.values()}
    await _bump_generations(s, touched)
    empty = [ids[it.consumer_uuid] for it in items if not it.allocations]
    if empty:
        await s.execute(delete(Consumer).where(Consumer.id.in_(empty)))


async def remove(s: AsyncSession, consumer_uuid: str) -> None:
    consumer = (await _consumers(s, [consumer_uuid])).get(consumer_uuid)
    old = await _allocations_of(s, [consumer.id]) if consumer else {}
    if not old:
        raise exc.NotFound(f"No allocations for consumer '{consumer_uuid}'")
    await s.execute(delete(Allocation).where(Allocation.consumer_id == consumer.id))
    await _apply_usage(s, {k: -v for k, v in old.items()}, {}, {})
    await _bump_generations(s, {rp for rp, _ in old})
    await s.execute(delete(Consumer).where(Consumer.id == consumer.id))


async def _providers(s: AsyncSession, uuids: set[str]) -> dict[str, ResourceProvider]:
    if not uuids:
        return {}
    found = {rp.uuid: rp for rp in (await s.scalars(
        select(ResourceProvider).where(ResourceProvider.uuid.in_(uuids)))).all()}
    for u in sorted(uuids - found.keys()):
        raise exc.BadRequest(f"Allocation for resource provider '{u}' that does not exist.",
                             code=errors.RESOURCE_PROVIDER_NOT_FOUND)
    return found


async def _check_units(s: AsyncSession, new: dict[tuple[str, int, int], int],
                       rps: dict[str, ResourceProvider]) -> None:
    """Every amount has an inventory and honours its min_unit, max_unit and step_size."""
    pairs = {(rp, rc) for _, rp, rc in new}
    if not pairs:
        return
    invs = {(i.resource_provider_id, i.resource_class_id): i for i in (await s.scalars(
        select(Inventory).where(tuple_(Inventory.resource_provider_id,
                                       Inventory.resource_class_id).in_(list(pairs))))).all()}
    names = {p.id: u for u, p in rps.items()}
    rc_names = await resource_class.names_by_id(s)
    for (_, rp, rc), amount in sorted(new.items()):
        inv = invs.get((rp, rc))
        where = f"'{rc_names[rc]}' on resource provider '{names[rp]}'"
        if inv is None:
            raise exc.Conflict(f"Unable to allocate inventory: Inventory for {where} invalid.")
        if amount < inv.min_unit or amount > inv.max_unit or amount % inv.step_size:
            raise exc.Conflict(f"Unable to allocate inventory: Unable to create allocation "
                               f"for {where}. The requested amount would violate inventory "
                               f"constraints.")


async def _apply_usage(s: AsyncSession, delta: dict[tuple[int, int], int],
                       rp_uuids: dict[int, str], rcs: dict[str, int]) -> None:
    rc_names = {v: k for k, v in rcs.items()}
    for (rp, rc), change in sorted(delta.items()):
        if change == 0:
            continue
        row = (await s.execute(
            update(Inventory)
            .where(Inventory.resource_provider_id == rp, Inventory.resource_class_id == rc)
            .values(used=Inventory.used + change)
            .returning(Inventory.used, Inventory.total, Inventory.reserved,
                       Inventory.allocation_ratio)
            .execution_options(synchronize_session=False))).first()
        if row is None or change < 0:
            continue
        used, total, reserved, ratio = row
        if used > (total - reserved) * ratio:
            raise exc.Conflict(
                f"Unable to allocate inventory: Unable to create allocation for "
                f"'{rc_names.get(rc, rc)}' on resource provider '{rp_uuids.get(rp, rp)}'. "
                "The requested amount would exceed the capacity.")


async def _bump_generations(s: AsyncSession, rp_ids: set[int]) -> None:
    if rp_ids:
        await s.execute(update(ResourceProvider)
                        .where(ResourceProvider.id.in_(sorted(rp_ids)))
                        .values(generation=ResourceProvider.generation + 1)
                        .execution_options(synchronize_session=False))


async def _consumers(s: AsyncSession, uuids: list[str]) -> dict[str, Consumer]:
    rows = await s.scalars(select(Consumer).where(Consumer.uuid.in_(uuids)))
    return {c.uuid: c for c in rows.all()}


async def _allocations_of(s: AsyncSession, consumer_ids: list[int]) -> dict[tuple[int, int], int]:
    if not consumer_ids:
        return {}
    q = (select(Allocation.resource_provider_id, Allocation.resource_class_id,
                func.sum(Allocation.used))
         .where(Allocation.consumer_id.in_(consumer_ids))
         .group_by(Allocation.resource_provider_id, Allocation.resource_class_id))
    return {(rp, rc): int(n) for rp, rc, n in (await s.execute(q))}


async def _write_consumer(s: AsyncSession, it: ConsumerAllocations,
                          consumer: Consumer | None) -> int:
    """Create or update the consumer under its generation; returns its id."""
    project = it.project_id or (consumer.project_id if consumer else INCOMPLETE_CONSUMER)
    user = it.user_id or (consumer.user_id if consumer else INCOMPLETE_CONSUMER)
    ctype = it.consumer_type or (consumer.consumer_type if consumer else None)
    if consumer is None:
        if it.check_generation and it.consumer_generation is not None:
            raise _consumer_conflict(it.consumer_uuid, None, it.consumer_generation)
        try:
            result = await s.execute(insert(Consumer).values(
                uuid=it.consumer_uuid, project_id=project, user_id=user,
                consumer_type=ctype, generation=1).returning(Consumer.id))
            return result.scalar_one()
        except IntegrityError:
            raise _consumer_conflict(it.consumer_uuid, None, None) from None
    if it.check_generation and it.consumer_generation != consumer.generation:
        raise _consumer_conflict(it.consumer_uuid, consumer.generation, it.consumer_generation)
    result = await s.execute(
        update(Consumer).where(Consumer.id == consumer.id,
                               Consumer.generation == consumer.generation)
        .values(generation=Consumer.generation + 1, project_id=project, user_id=user,
                consumer_type=ctype, updated_at=func.now())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise _consumer_conflict(it.consumer_uuid, None, it.consumer_generation)
    return consumer.id


def _consumer_conflict(uuid: str, expected: int | None, got: int | None) -> exc.Conflict:
    return exc.Conflict(
        f"consumer generation conflict - expected {expected} but got {got} for consumer "
        f"{uuid}", code=errors.CONCURRENT_UPDATE)


async def of_consumer(s: AsyncSession, consumer_uuid: str) -> ConsumerView:
    consumer = (await _consumers(s, [consumer_uuid])).get(consumer_uuid)
    if consumer is None:
        return ConsumerView(None, None, None, None, {})
    q = (select(ResourceProvider.uuid, ResourceProvider.generation, ResourceClass.name,
                Allocation.used)
         .join(ResourceProvider, ResourceProvider.id == Allocation.resource_provider_id)
         .join(ResourceClass, ResourceClass.id == Allocation.resource_class_id)
         .where(Allocation.consumer_id == consumer.id))
    out: dict[str, dict] = {}
    for rp, gen, rc, used in (await s.execute(q)):
        out.setdefault(rp, {"generation": gen, "resources": {}})["resources"][rc] = used
    return ConsumerView(consumer.generation, consumer.project_id, consumer.user_id,
                        consumer.consumer_type, out)


async def of_provider(s: AsyncSession, rp_id: int) -> dict[str, dict[str, int]]:
    q = (select(Consumer.uuid, ResourceClass.name, Allocation.used)
         .join(Consumer, Consumer.id == Allocation.consumer_id)
         .join(ResourceClass, ResourceClass.id == Allocation.resource_class_id)
         .where(Allocation.resource_provider_id == rp_id))
    out: dict[str, dict[str, int]] = {}
    for consumer, rc, used in (await s.execute(q)):
        out.setdefault(consumer, {})[rc] = used
    return out
