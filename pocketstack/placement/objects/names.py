"""Resource class and trait names <-> ids, cached per service: both tables are
small and change rarely. A name not in the cache reloads it once (another
process may have created it); a deleted custom name lingers until then and
simply matches nothing."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.placement.models import ResourceClass, Trait


class Names:
    def __init__(self, model: type[ResourceClass] | type[Trait]):
        self.model = model
        self.by_name: dict[str, int] = {}
        self.by_id: dict[int, str] = {}

    async def reload(self, s: AsyncSession) -> None:
        rows = (await s.execute(select(self.model.name, self.model.id))).all()
        self.by_name = dict(rows)
        self.by_id = {i: n for n, i in rows}

    async def ids(self, s: AsyncSession, names: Iterable[str]) -> dict[str, int]:
        """Ids of the names that exist."""
        names = set(names)
        if not names <= self.by_name.keys():
            await self.reload(s)
        return {n: self.by_name[n] for n in names if n in self.by_name}

    async def names(self, s: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
        ids = set(ids)
        if not ids <= self.by_id.keys():
            await self.reload(s)
        return {i: self.by_id[i] for i in ids if i in self.by_id}

    def forget(self) -> None:
        self.by_name, self.by_id = {}, {}


class Vocabulary:
    """The two caches one Placement service keeps."""

    def __init__(self) -> None:
        self.classes = Names(ResourceClass)
        self.traits = Names(Trait)
