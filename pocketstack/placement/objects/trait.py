"""Traits (standard and CUSTOM_*) and the traits of a provider."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.placement import standard
from pocketstack.placement.models import ProviderTrait, ResourceProvider, Trait
from pocketstack.placement.objects import resource_provider


async def ensure_standard(s: AsyncSession) -> None:
    have = set((await s.scalars(select(Trait.name))).all())
    rows = [{"name": n} for n in standard.TRAITS if n not in have]
    if rows:
        await s.execute(insert(Trait), rows)


async def require_ids(s: AsyncSession, names: Iterable[str]) -> dict[str, int]:
    names = set(names)
    if not names:
        return {}
    rows = await s.execute(select(Trait.name, Trait.id).where(Trait.name.in_(names)))
    found = dict(rows.all())
    missing = sorted(names - found.keys())
    if missing:
        raise exc.BadRequest(f"No such trait(s): {', '.join(missing)}")
    return found


async def list_names(s: AsyncSession, names: list[str] | None = None,
                     prefix: str | None = None, associated: bool | None = None) -> list[str]:
    q = select(Trait.name).order_by(Trait.name)
    if names is not None:
        q = q.where(Trait.name.in_(names))
    if prefix is not None:
        q = q.where(Trait.name.startswith(prefix, autoescape=True))
    used = select(ProviderTrait.trait_id)
    if associated is True:
        q = q.where(Trait.id.in_(used))
    elif associated is False:
        q = q.where(Trait.id.not_in(used))
    return list((await s.scalars(q)).all())


async def exists(s: AsyncSession, name: str) -> bool:
    return await s.scalar(select(Trait.id).where(Trait.name == name)) is not None


async def create(s: AsyncSession, name: str) -> bool:
    """Creates a custom trait; False if it already existed."""
    if not standard.is_custom(name):
        raise exc.BadRequest(f"The trait is invalid. A valid trait must be no longer than "
                             f"255 characters, start with the prefix \"CUSTOM_\" and use "
                             f"following characters: \"A\"-\"Z\", \"0\"-\"9\" and \"_\": {name}")
    if await exists(s, name):
        return False
    await s.execute(insert(Trait).values(name=name))
    return True


async def delete_trait(s: AsyncSession, name: str) -> None:
    trait_id = await s.scalar(select(Trait.id).where(Trait.name == name))
    if trait_id is None:
        raise exc.NotFound(f"No such trait(s): {name}.")
    if not standard.is_custom(name):
        raise exc.BadRequest(f"Cannot delete standard trait {name}.")
    used = await s.scalar(select(ProviderTrait.resource_provider_id)
                          .where(ProviderTrait.trait_id == trait_id).limit(1))
    if used is not None:
        raise exc.Conflict(f"The trait {name} is in use by a resource provider.")
    await s.execute(delete(Trait).where(Trait.id == trait_id))


async def of_provider(s: AsyncSession, rp_id: int) -> list[str]:
    q = (select(Trait.name).join(ProviderTrait, ProviderTrait.trait_id == Trait.id)
         .where(ProviderTrait.resource_provider_id == rp_id).order_by(Trait.name))
    return list((await s.scalars(q)).all())


async def of_providers(s: AsyncSession, rp_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for chunk in _chunks(rp_ids):
        q = (select(ProviderTrait.resource_provider_id, Trait.name)
             .join(Trait, ProviderTrait.trait_id == Trait.id)
             .where(ProviderTrait.resource_provider_id.in_(chunk)))
        for rp_id, name in (await s.execute(q)):
            out.setdefault(rp_id, []).append(name)
    return out


async def set_for_provider(s: AsyncSession, rp: ResourceProvider, names: list[str],
                           generation: int) -> None:
    """Replace a provider's traits, checking and bumping its generation."""
    ids = await require_ids(s, names)
    resource_provider.check_generation(rp, generation)
    current = set(await of_provider(s, rp.id))
    if current == set(names):
        return
    await s.execute(delete(ProviderTrait).where(ProviderTrait.resource_provider_id == rp.id))
    if ids:
        await s.execute(insert(ProviderTrait),
                        [{"resource_provider_id": rp.id, "trait_id": i} for i in ids.values()])
    await resource_provider.bump_generation(s, rp)


def _chunks(ids: list[int], size: int = 900) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]
