"""Allocations: what consumers hold on providers. Writing them is the claim.

`replace` is the one write path. Inside one transaction it checks consumer
generations, validates amounts against each inventory's units, rewrites the
consumers' allocation rows, then adds the net change to `inventories.used`
with one `UPDATE ... RETURNING` (so a batch of claims costs the statements
of one) and refuses the whole write when any increased inventory goes over
its capacity. The rows are
locked first in (provider, class) order (PostgreSQL, SELECT ... FOR UPDATE)
or under the database write lock (SQLite, BEGIN IMMEDIATE) until commit, so
concurrent claims serialise per inventory, never overcommit and never
deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Row, case, delete, func, insert, select, tuple_, update
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
    units = await _inventories(s, {(u, rc) for it in items
                                   for u, res in it.allocations.items() for rc in res})
    new: dict[tuple[str, int, int], int] = {}
    for it in items:
        for u, res in it.allocations.items():
            for rc, amount in res.items():
                inv = units[u, rc]
                _check_units(inv, amount, rc, u)
                new[it.consumer_uuid, inv.resource_provider_id, inv.resource_class_id] = amount
    consumers = await _consumers(s, [it.consumer_uuid for it in items])
    old = await _allocations_of(s, [c.id for c in consumers.values()])
    ids = await _create_consumers(s, [it for it in items if it.consumer_uuid not in consumers])
    for it in items:
        if it.consumer_uuid in consumers:
            ids[it.consumer_uuid] = await _write_consumer(s, it, consumers[it.consumer_uuid])
    if consumers:
        await s.execute(delete(Allocation).where(
            Allocation.consumer_id.in_([c.id for c in consumers.values()])))
    rows = [{"consumer_id": ids[c], "resource_provider_id": rp, "resource_class_id": rc,
             "used": amount} for (c, rp, rc), amount in new.items()]
    if rows:
        await s.execute(insert(Allocation), rows)
    delta: dict[tuple[int, int], int] = defaultdict(int)
    for (_, rp, rc), amount in new.items():
        delta[rp, rc] += amount
    for (rp, rc), amount in old.items():
        delta[rp, rc] -= amount
    names = {(i.resource_provider_id, i.resource_class_id): (u, rc)
             for (u, rc), i in units.items()}
    await _apply_usage(s, delta, names)
    await _bump_generations(s, {rp for rp, _ in delta} | {rp for _, rp, _ in new})
    empty = [ids[it.consumer_uuid] for it in items if not it.allocations]
    if empty:
        await s.execute(delete(Consumer).where(Consumer.id.in_(empty)))


async def remove(s: AsyncSession, consumer_uuid: str) -> None:
    consumer = (await _consumers(s, [consumer_uuid])).get(consumer_uuid)
    old = await _allocations_of(s, [consumer.id]) if consumer else {}
    if not old:
        raise exc.NotFound(f"No allocations for consumer '{consumer_uuid}'")
    await s.execute(delete(Allocation).where(Allocation.consumer_id == consumer.id))
    await _apply_usage(s, {k: -v for k, v in old.items()}, {})
    await _bump_generations(s, {rp for rp, _ in old})
    await s.execute(delete(Consumer).where(Consumer.id == consumer.id))


async def _inventories(s: AsyncSession, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Row]:
    """The inventory row of each (provider uuid, class name) asked for, in one query;
    a missing one is a 400 (unknown provider or class) or a 409 (no such inventory)."""
    if not pairs:
        return {}
    uuids, classes = {u for u, _ in pairs}, {rc for _, rc in pairs}
    q = (select(ResourceProvider.uuid, ResourceClass.name, Inventory.resource_provider_id,
                Inventory.resource_class_id, Inventory.min_unit, Inventory.max_unit,
                Inventory.step_size)
         .join(ResourceProvider, ResourceProvider.id == Inventory.resource_provider_id)
         .join(ResourceClass, ResourceClass.id == Inventory.resource_class_id)
         .where(ResourceProvider.uuid.in_(uuids), ResourceClass.name.in_(classes)))
    found = {(row[0], row[1]): row for row in (await s.execute(q)).all()}
    missing = sorted(pairs - found.keys())
    if missing:
        await _explain_missing(s, missing[0])
    return found


async def _explain_missing(s: AsyncSession, pair: tuple[str, str]) -> None:
    uuid, rc = pair
    if await s.scalar(select(ResourceProvider.id).where(ResourceProvider.uuid == uuid)) is None:
        raise exc.BadRequest(f"Allocation for resource provider '{uuid}' that does not exist.",
                             code=errors.RESOURCE_PROVIDER_NOT_FOUND)
    await resource_class.require_ids(s, [rc])
    raise exc.Conflict(f"Unable to allocate inventory: Inventory for '{rc}' on resource "
                       f"provider '{uuid}' invalid.")


def _check_units(inv: Row, amount: int, rc: str, uuid: str) -> None:
    """The amount honours the inventory's min_unit, max_unit and step_size."""
    min_unit, max_unit, step = inv[4], inv[5], inv[6]
    if amount < min_unit or amount > max_unit or amount % step:
        raise exc.Conflict(f"Unable to allocate inventory: Unable to create allocation for "
                           f"'{rc}' on resource provider '{uuid}'. The requested amount "
                           "would violate inventory constraints.")


async def _apply_usage(s: AsyncSession, delta: dict[tuple[int, int], int],
                       names: dict[tuple[int, int], tuple[str, str]]) -> None:
    """Add each net change to `inventories.used` in one UPDATE (a CASE picks each
    row's change: a claim, or a batch of fifty, is one statement); an increase
    past the capacity refuses the whole write."""
    changes = {key: change for key, change in sorted(delta.items()) if change}
    if not changes:
        return
    inv = Inventory
    row = tuple_(inv.resource_provider_id, inv.resource_class_id)
    if s.get_bind().dialect.name != "sqlite":
        # Row locks first, in one (provider, class) order for every writer: no
        # deadlocks (SQLite's write lock already serialises the writers).
        await s.execute(select(inv.id).where(row.in_(list(changes)))
                        .order_by(inv.resource_provider_id, inv.resource_class_id)
                        .with_for_update())
    amount = case(*[((inv.resource_provider_id == rp) & (inv.resource_class_id == rc), n)
                    for (rp, rc), n in changes.items()], else_=0)
    rows = (await s.execute(
        update(inv).where(row.in_(list(changes))).values(used=inv.used + amount)
        .returning(inv.resource_provider_id, inv.resource_class_id, inv.used, inv.total,
                   inv.reserved, inv.allocation_ratio)
        .execution_options(synchronize_session=False))).all()
    for rp, rc, used, total, reserved, ratio in sorted(rows):
        if changes[rp, rc] > 0 and used > (total - reserved) * ratio:
            uuid, name = names.get((rp, rc), (rp, rc))
            raise exc.Conflict(
                f"Unable to allocate inventory: Unable to create allocation for '{name}' on "
                f"resource provider '{uuid}'. The requested amount would exceed the capacity.")


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


async def _create_consumers(s: AsyncSession, items: list[ConsumerAllocations],
                            ) -> dict[str, int]:
    """The new consumers, in one statement; their ids by uuid."""
    for it in items:
        if it.check_generation and it.consumer_generation is not None:
            raise _consumer_conflict(it.consumer_uuid, None, it.consumer_generation)
    if not items:
        return {}
    rows = [{"uuid": it.consumer_uuid, "project_id": it.project_id or INCOMPLETE_CONSUMER,
             "user_id": it.user_id or INCOMPLETE_CONSUMER, "consumer_type": it.consumer_type,
             "generation": 1} for it in items]
    try:
        result = await s.execute(insert(Consumer).returning(Consumer.uuid, Consumer.id), rows)
    except IntegrityError:  # created meanwhile
        raise _consumer_conflict(items[0].consumer_uuid, None, None) from None
    return dict(result.all())


async def _write_consumer(s: AsyncSession, it: ConsumerAllocations, consumer: Consumer) -> int:
    """Update an existing consumer under its generation; returns its id."""
    project = it.project_id or consumer.project_id
    user = it.user_id or consumer.user_id
    ctype = it.consumer_type or consumer.consumer_type
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
