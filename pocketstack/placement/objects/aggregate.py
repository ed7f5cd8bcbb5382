"""Aggregates: the aggregate uuids a provider is a member of."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.placement.models import Aggregate, ProviderAggregate, ResourceProvider
from pocketstack.placement.objects import resource_provider


async def of_provider(s: AsyncSession, rp_id: int) -> list[str]:
    q = (select(Aggregate.uuid)
         .join(ProviderAggregate, ProviderAggregate.aggregate_id == Aggregate.id)
         .where(ProviderAggregate.resource_provider_id == rp_id).order_by(Aggregate.uuid))
    return list((await s.scalars(q)).all())


async def ids_for(s: AsyncSession, uuids: Iterable[str]) -> list[int]:
    """Ids of the aggregates that exist; an unknown aggregate matches no provider."""
    uuids = set(uuids)
    if not uuids:
        return []
    return list((await s.scalars(select(Aggregate.id).where(Aggregate.uuid.in_(uuids)))).all())


async def _ensure(s: AsyncSession, uuids: set[str]) -> list[int]:
    rows = await s.execute(select(Aggregate.uuid, Aggregate.id).where(Aggregate.uuid.in_(uuids)))
    found = dict(rows.all())
    missing = [{"uuid": u} for u in sorted(uuids - found.keys())]
    if missing:
        await s.execute(insert(Aggregate), missing)
        return await ids_for(s, uuids)
    return list(found.values())


async def set_for_provider(s: AsyncSession, rp: ResourceProvider, uuids: list[str],
                           generation: int | None) -> None:
    """Replace the provider's aggregates; `generation` None skips the check (< 1.19)."""
    if generation is not None:
        resource_provider.check_generation(rp, generation)
    if set(await of_provider(s, rp.id)) == set(uuids):
        return
    await s.execute(delete(ProviderAggregate)
                    .where(ProviderAggregate.resource_provider_id == rp.id))
    if uuids:
        ids = await _ensure(s, set(uuids))
        await s.execute(insert(ProviderAggregate),
                        [{"resource_provider_id": rp.id, "aggregate_id": i} for i in ids])
    await resource_provider.bump_generation(s, rp)
