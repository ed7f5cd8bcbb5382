"""Resource providers: trees (parent/root), generations, and the filtered list."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass

from sqlalchemy import Select, and_, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from pocketstack.core import exceptions as exc
from pocketstack.placement import errors
from pocketstack.placement.models import (
    Allocation,
    Inventory,
    ProviderAggregate,
    ProviderTrait,
    ResourceProvider,
)


@dataclass
class ProviderView:
    """A provider as the API shows it: its own row plus its parent's and root's uuids."""

    id: int
    uuid: str
    name: str
    generation: int
    parent_provider_uuid: str | None
    root_provider_uuid: str


_Parent = aliased(ResourceProvider)
_Root = aliased(ResourceProvider)


def _view_query() -> Select:
    rp = ResourceProvider
    return (select(rp.id, rp.uuid, rp.name, rp.generation, _Parent.uuid, _Root.uuid)
            .outerjoin(_Parent, _Parent.id == rp.parent_provider_id)
            .outerjoin(_Root, _Root.id == rp.root_provider_id))


def _views(rows) -> list[ProviderView]:  # noqa: ANN001
    return [ProviderView(*row) for row in rows]


async def get(s: AsyncSession, uuid: str) -> ResourceProvider:
    rp = await s.scalar(select(ResourceProvider).where(ResourceProvider.uuid == uuid))
    if rp is None:
        raise errors.provider_not_found(uuid)
    return rp


async def view(s: AsyncSession, uuid: str) -> ProviderView:
    rows = (await s.execute(_view_query().where(ResourceProvider.uuid == uuid))).all()
    if not rows:
        raise errors.provider_not_found(uuid)
    return _views(rows)[0]


def check_generation(rp: ResourceProvider, generation: int | None) -> None:
    if generation != rp.generation:
        raise errors.concurrent_update()


async def bump_generation(s: AsyncSession, rp: ResourceProvider) -> None:
    """Compare-and-swap the generation: a concurrent writer makes this a 409."""
    result = await s.execute(
        update(ResourceProvider)
        .where(ResourceProvider.id == rp.id, ResourceProvider.generation == rp.generation)
        .values(generation=ResourceProvider.generation + 1, updated_at=func.now())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise errors.concurrent_update()
    rp.generation += 1


async def create(s: AsyncSession, name: str, uuid: str | None,
                 parent_uuid: str | None) -> ProviderView:
    """A new provider (a root, or the child of `parent_uuid`). Two statements for a
    root: thousands of hosts register at once."""
    uuid = uuid or str(uuidlib.uuid4())
    parent = None
    if parent_uuid is not None:
        parent = await s.scalar(select(ResourceProvider)
                                .where(ResourceProvider.uuid == parent_uuid))
        if parent is None:
            raise exc.BadRequest(f"parent provider UUID {parent_uuid} does not exist.")
    t = ResourceProvider.__table__
    try:
        rp_id = await s.scalar(insert(t).values(
            uuid=uuid, name=name, generation=0,
            parent_provider_id=parent.id if parent else None,
            root_provider_id=parent.root_provider_id if parent else None).returning(t.c.id))
    except IntegrityError:
        raise _duplicate(name, uuid) from None
    if parent is not None:
        return await view(s, uuid)
    await s.execute(update(t).where(t.c.id == rp_id).values(root_provider_id=rp_id))
    return ProviderView(rp_id, uuid, name, 0, None, uuid)


async def _check_unique(s: AsyncSession, name: str, uuid: str,
                        except_id: int | None = None) -> None:
    rp = ResourceProvider
    q = select(rp.id).where((rp.name == name) | (rp.uuid == uuid))
    if except_id is not None:
        q = q.where(rp.id != except_id)
    if (await s.scalar(q.limit(1))) is not None:
        raise _duplicate(name, uuid)


def _duplicate(name: str, uuid: str) -> exc.Conflict:
    return exc.Conflict(f"Conflicting resource provider name: {name} already exists.",
                        code=errors.DUPLICATE_NAME)


async def update_provider(s: AsyncSession, rp: ResourceProvider, name: str,
                          parent_uuid: str | None, parent_given: bool) -> None:
    await _check_unique(s, name, rp.uuid, except_id=rp.id)
    rp.name = name
    if parent_given:
        await _reparent(s, rp, parent_uuid)
    try:
        await bump_generation(s, rp)
        await s.flush()
    except IntegrityError:
        raise _duplicate(name, rp.uuid) from None


async def _reparent(s: AsyncSession, rp: ResourceProvider, parent_uuid: str | None) -> None:
    current = None
    if rp.parent_provider_id is not None:
        current = await s.scalar(select(ResourceProvider.uuid)
                                 .where(ResourceProvider.id == rp.parent_provider_id))
    if parent_uuid == current:
        return
    if parent_uuid is None:
        raise exc.BadRequest("Un-parenting a provider is not currently allowed.")
    if current is not None:
        raise exc.BadRequest("Re-parenting a provider is not currently allowed.")
    parent = await s.scalar(select(ResourceProvider)
                            .where(ResourceProvider.uuid == parent_uuid))
    if parent is None:
        raise exc.BadRequest(f"parent provider UUID {parent_uuid} does not exist.")
    if parent.root_provider_id == rp.root_provider_id:
        raise exc.BadRequest("creating loop in the provider tree is not allowed.")
    old_root = rp.root_provider_id
    rp.parent_provider_id = parent.id
    await s.execute(update(ResourceProvider)
                    .where(ResourceProvider.root_provider_id == old_root)
                    .values(root_provider_id=parent.root_provider_id)
                    .execution_options(synchronize_session=False))
    rp.root_provider_id = parent.root_provider_id


async def delete_provider(s: AsyncSession, rp: ResourceProvider) -> None:
    used = await s.scalar(select(Allocation.id)
                          .where(Allocation.resource_provider_id == rp.id).limit(1))
    if used is not None:
        raise exc.Conflict(f"Unable to delete resource provider {rp.uuid}: Resource "
                           "provider has allocations.", code=errors.PROVIDER_IN_USE)
    child = await s.scalar(select(ResourceProvider.id)
                           .where(ResourceProvider.parent_provider_id == rp.id).limit(1))
    if child is not None:
        raise exc.Conflict(f"Unable to delete parent resource provider {rp.uuid}: It has "
                           "child resource providers.",
                           code=errors.PROVIDER_CANNOT_DELETE_PARENT)
    for table in (Inventory, ProviderTrait, ProviderAggregate):
        await s.execute(delete(table).where(table.resource_provider_id == rp.id))
    await s.delete(rp)


@dataclass
class ProviderFilter:
    """The filters of GET /resource_providers, already resolved to ids."""

    name: str | None = None
    uuid: str | None = None
    in_tree_root: int | None = None  # root provider id of the tree asked for
    resources: dict[int, int] | None = None  # class id -> amount that must fit
    required: list[list[int]] | None = None  # each inner list: any of these trait ids
    forbidden: list[int] | None = None
    member_of: list[list[int]] | None = None  # each inner list: any of these aggregates
    not_member_of: list[int] | None = None
    root_required: list[list[int]] | None = None  # traits of the provider's root
    root_forbidden: list[int] | None = None
    limit: int | None = None


async def list_providers(s: AsyncSession, f: ProviderFilter) -> list[ProviderView]:
    q = _view_query().where(*provider_conditions(f)).order_by(ResourceProvider.id)
    return _views((await s.execute(q)).all())



def provider_conditions(f: ProviderFilter, rp_id=ResourceProvider.id) -> list:  # noqa: ANN001
    """SQL conditions on a provider id column for the filter (shared with candidates)."""
    rp = ResourceProvider
    conds = []
    if f.name is not None:
        conds.append(rp.name == f.name)
    if f.uuid is not None:
        conds.append(rp.uuid == f.uuid)
    if f.in_tree_root is not None:
        conds.append(rp.root_provider_id == f.in_tree_root)
    for rc_id, amount in (f.resources or {}).items():
        inv = aliased(Inventory)
        conds.append(exists().where(fits(rc_id, amount, inv), inv.resource_provider_id == rp_id))
    for any_of in f.required or []:
        conds.append(exists().where(ProviderTrait.resource_provider_id == rp_id,
                                    ProviderTrait.trait_id.in_(any_of)))
    if f.forbidden:
        conds.append(~exists().where(ProviderTrait.resource_provider_id == rp_id,
                                     ProviderTrait.trait_id.in_(f.forbidden)))
    for any_of in f.member_of or []:
        conds.append(exists().where(ProviderAggregate.resource_provider_id == rp_id,
                                    ProviderAggregate.aggregate_id.in_(any_of)))
    if f.not_member_of:
        conds.append(~exists().where(ProviderAggregate.resource_provider_id == rp_id,
                                     ProviderAggregate.aggregate_id.in_(f.not_member_of)))
    root = rp.root_provider_id
    for any_of in f.root_required or []:
        conds.append(exists().where(ProviderTrait.resource_provider_id == root,
                                    ProviderTrait.trait_id.in_(any_of)))
    if f.root_forbidden:
        conds.append(~exists().where(ProviderTrait.resource_provider_id == root,
                                     ProviderTrait.trait_id.in_(f.root_forbidden)))
    return conds


def fits(rc_id: int, amount: int, inv=Inventory):  # noqa: ANN001
    """The inventory of class `rc_id` has room for `amount` more, in allowed units."""
    return and_(
        inv.resource_class_id == rc_id,
        (inv.total - inv.reserved) * inv.allocation_ratio - inv.used >= amount,
        inv.min_unit <= amount,
        inv.max_unit >= amount,
        amount % inv.step_size == 0,
    )
