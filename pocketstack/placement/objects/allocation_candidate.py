"""Allocation candidates: providers that can take a whole request right now.

The narrowing happens in one SQL query: the inventory of the first requested
class must have room (capacity minus the maintained `used`), and EXISTS
clauses test the other classes, traits, aggregates and tree; `LIMIT` stops
the scan early. Each candidate is a single provider that satisfies every
requested class by itself (no sharing providers or spreading over a tree).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from pocketstack.placement.models import Inventory, ProviderTrait, ResourceProvider
from pocketstack.placement.objects import resource_provider
from pocketstack.placement.objects.names import Vocabulary
from pocketstack.placement.objects.resource_provider import ProviderFilter


@dataclass
class Summary:
    uuid: str
    parent_provider_uuid: str | None
    root_provider_uuid: str
    resources: dict[str, dict[str, int]]  # class -> {"capacity", "used"}
    traits: list[str]


_Parent = aliased(ResourceProvider)
_Root = aliased(ResourceProvider)
CHUNK = 5000  # ids per IN list, under SQLite's and PostgreSQL's parameter limits


async def find(s: AsyncSession, f: ProviderFilter) -> list[int]:
    """Ids of the providers that fit every requested class, in id order, at most f.limit."""
    resources = dict(f.resources or {})
    if not resources:
        return []
    first_rc, first_amount = next(iter(resources.items()))
    rest = ProviderFilter(**{**f.__dict__, "resources": {
        rc: n for rc, n in resources.items() if rc != first_rc}})
    # Ordered by the inventory's own column, so SQLite walks the (class, provider)
    # index in order and LIMIT ends the scan early (no sort of every match).
    q = (select(Inventory.resource_provider_id)
         .join(ResourceProvider, Inventory.resource_provider_id == ResourceProvider.id)
         .where(resource_provider.fits(first_rc, first_amount),
                *resource_provider.provider_conditions(rest))
         .order_by(Inventory.resource_provider_id))
    if f.limit is not None:
        q = q.limit(f.limit)
    return list((await s.scalars(q)).all())


def _packed(*cols) -> object:  # noqa: ANN002
    """cols joined with ':' as one SQL string expression."""
    out = cast(cols[0], String)
    for col in cols[1:]:
        out = out + ":" + cast(col, String)
    return out


async def summaries(s: AsyncSession, rp_ids: list[int], vocab: Vocabulary,
                    only_classes: list[int] | None) -> list[Summary]:
    """The candidates' inventories (capacity, used), traits and tree, in rp_ids order.
    One row per provider: its inventories and traits come packed in two strings."""
    rp, inv, pt = ResourceProvider, Inventory, ProviderTrait
    inv_where = [inv.resource_provider_id == rp.id]
    if only_classes is not None:
        inv_where.append(inv.resource_class_id.in_(only_classes))
    inventories = (select(func.aggregate_strings(_packed(
        inv.resource_class_id, inv.total, inv.reserved, inv.allocation_ratio, inv.used), ","))
        .where(*inv_where).scalar_subquery())
    traits = (select(func.aggregate_strings(cast(pt.trait_id, String), ","))
              .where(pt.resource_provider_id == rp.id).scalar_subquery())
    rows = []
    for i in range(0, len(rp_ids), CHUNK):
        q = (select(rp.id, rp.uuid, _Parent.uuid, _Root.uuid, inventories, traits)
             .outerjoin(_Parent, _Parent.id == rp.parent_provider_id)
             .join(_Root, _Root.id == rp.root_provider_id)
             .where(rp.id.in_(rp_ids[i:i + CHUNK])))
        rows.extend((await s.execute(q)).all())
    if not _known(rows, vocab.classes.by_id, vocab.traits.by_id):
        await vocab.classes.reload(s)
        await vocab.traits.reload(s)
    classes, trait_names = vocab.classes.by_id, vocab.traits.by_id
    out = {}
    for rp_id, uuid, parent, root, packed_inv, packed_traits in rows:
        resources = {}
        for item in (packed_inv or "").split(","):
            if item:
                rc, total, reserved, ratio, used = item.split(":")
                resources[classes[int(rc)]] = {
                    "capacity": int((int(total) - int(reserved)) * float(ratio)),
                    "used": int(used)}
        names = sorted(trait_names[int(t)] for t in (packed_traits or "").split(",") if t)
        out[rp_id] = Summary(uuid, parent, root, resources, names)
    return [out[i] for i in rp_ids if i in out]


def _known(rows: list, classes: dict[int, str], traits: dict[int, str]) -> bool:
    """Every class and trait id in the packed rows is in the caches."""
    for *_, packed_inv, packed_traits in rows:
        for item in (packed_inv or "").split(","):
            if item and int(item.split(":", 1)[0]) not in classes:
                return False
        for t in (packed_traits or "").split(","):
            if t and int(t) not in traits:
                return False
    return True
