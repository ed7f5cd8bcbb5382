"""POST /reshaper: inventories of many providers and the allocations of many
consumers replaced in one transaction, so that inventory can move (from a
root provider to a new child) together with what is allocated from it.

In order: the named consumers' allocations are removed (under their
generations), the inventories are replaced (under the providers'
generations), then the consumers' new allocations are written as new
consumers; if anything fails the whole transaction rolls back.
"""

from __future__ import annotations

from dataclasses import replace as copy

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.placement import errors
from pocketstack.placement.models import ResourceProvider
from pocketstack.placement.objects import allocation, inventory
from pocketstack.placement.objects.allocation import ConsumerAllocations
from pocketstack.placement.objects.inventory import CHUNK, InventoryRecord

Inventories = dict[str, tuple[int, dict[str, InventoryRecord]]]  # uuid -> (generation, ...)


async def reshape(s: AsyncSession, inventories: Inventories,
                  items: list[ConsumerAllocations]) -> None:
    providers = await _providers(s, list(inventories))
    if items:
        await allocation.replace(s, [copy(it, allocations={}) for it in items])
    await inventory.replace_many(s, {providers[u]: inv for u, inv in inventories.items()})
    if items:
        # The consumers were removed with their allocations: they come back new.
        await allocation.replace(s, [copy(it, consumer_generation=None) for it in items])


async def _providers(s: AsyncSession, uuids: list[str]) -> dict[str, ResourceProvider]:
    found: dict[str, ResourceProvider] = {}
    for i in range(0, len(uuids), CHUNK):
        rows = await s.scalars(select(ResourceProvider)
                               .where(ResourceProvider.uuid.in_(uuids[i:i + CHUNK])))
        found.update((rp.uuid, rp) for rp in rows)
    missing = [u for u in uuids if u not in found]
    if missing:
        raise exc.BadRequest(f"Resource provider {missing[0]} in inventories not found",
                             code=errors.RESOURCE_PROVIDER_NOT_FOUND)
    return found
