"""Allocation candidates: providers that can take a whole request right now.

The narrowing happens in one SQL query: the inventory of the first requested
class must have room (capacity minus the maintained `used`), and EXISTS
clauses test the other classes, traits, aggregates and tree; `LIMIT` stops
the scan early. Each candidate is a single provider that satisfies every
requested class by itself (no sharing providers or spreading over a tree).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.placement.models import Inventory, ResourceProvider
from pocketstack.placement.objects import inventory, resource_provider, trait
from pocketstack.placement.objects.resource_provider import ProviderFilter, ProviderView


@dataclass
class Summary:
    provider: ProviderView
    resources: dict[str, dict[str, int]]  # class -> {"capacity", "used"}
    traits: list[str]


async def find(s: AsyncSession, f: ProviderFilter) -> list[int]:
    """Ids of the providers that fit every requested class, in id order, at most f.limit."""
    resources = dict(f.resources or {})
    if not resources:
        return []
    first_rc, first_amount = next(iter(resources.items()))
    rest = ProviderFilter(**{**f.__dict__, "resources": {
        rc: n for rc, n in resources.items() if rc != first_rc}})
    q = (select(ResourceProvider.id)
         .join(Inventory, and_(Inventory.resource_provider_id == ResourceProvider.id,
                               resource_provider.fits(first_rc, first_amount)))
         .where(*resource_provider.provider_conditions(rest))
         .order_by(ResourceProvider.id))
    if f.limit is not None:
        q = q.limit(f.limit)
    return list((await s.scalars(q)).all())


async def summaries(s: AsyncSession, rp_ids: list[int], class_names: dict[int, str],
                    only_classes: list[int] | None) -> list[Summary]:
    views = await resource_provider.views_by_id(s, rp_ids)
    invs = await inventory.of_providers(s, rp_ids, only_classes)
    traits = await trait.of_providers(s, rp_ids)
    out = []
    for rp_id in rp_ids:
        resources = {class_names[i.resource_class_id]: {"capacity": inventory.capacity(i),
                                                        "used": i.used}
                     for i in invs.get(rp_id, [])}
        out.append(Summary(views[rp_id], resources, sorted(traits.get(rp_id, []))))
    return out
