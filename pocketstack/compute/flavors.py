"""Flavors: the sizes servers are built with, public or shared with listed projects.

The m1.* defaults are DevStack's, plus m1.nano (128 MiB) for real-VM tests.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select

from pocketstack.compute.models import Flavor, FlavorAccess
from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.core.paging import page

DEFAULT_FLAVORS = [
    # id, name, vcpus, ram MB, disk GB
    ("1", "m1.tiny", 1, 512, 1),
    ("2", "m1.small", 1, 2048, 20),
    ("3", "m1.medium", 2, 4096, 40),
    ("4", "m1.large", 4, 8192, 80),
    ("5", "m1.xlarge", 8, 16384, 160),
    ("42", "m1.nano", 1, 128, 1),
]

SORT_KEYS = {"flavorid": "id", "id": "id", "name": "name", "memory_mb": "ram", "ram": "ram",
             "vcpus": "vcpus", "root_gb": "disk", "disk": "disk", "created_at": "created_at"}


def as_dict(f: Flavor) -> dict:
    return {"id": f.id, "name": f.name, "vcpus": f.vcpus, "ram": f.ram, "disk": f.disk,
            "ephemeral": f.ephemeral, "swap": f.swap, "rxtx_factor": f.rxtx_factor,
            "is_public": f.is_public, "description": f.description,
            "extra_specs": dict(f.extra_specs or {})}


class Flavors:
    def __init__(self, db: Database):
        self.db = db

    async def create_defaults(self) -> None:
        async with self.db.write() as s:
            for fid, name, vcpus, ram, disk in DEFAULT_FLAVORS:
                if await s.get(Flavor, fid) is None:
                    s.add(Flavor(id=fid, name=name, vcpus=vcpus, ram=ram, disk=disk,
                                 extra_specs={}))

    async def create(self, values: dict) -> Flavor:
        async with self.db.write() as s:
            clash = await s.scalar(select(Flavor).where(
                or_(Flavor.id == values["id"], Flavor.name == values["name"])))
            if clash is not None:
                what = "id" if clash.id == values["id"] else "name"
                raise exc.Conflict(f"Flavor with {what} {values[what]} already exists.")
            flavor = Flavor(extra_specs={}, **values)
            s.add(flavor)
        return flavor

    async def get(self, ctx: RequestContext, flavor_id: str) -> Flavor:
        async with self.db.read() as s:
            flavor = await s.get(Flavor, flavor_id)
            if flavor is None or not await self._visible(s, ctx, flavor):
                raise exc.NotFound(f"Flavor {flavor_id} could not be found.")
            return flavor

    async def _visible(self, s, ctx: RequestContext, flavor: Flavor) -> bool:  # noqa: ANN001
        if flavor.is_public or ctx.is_admin:
            return True
        return await s.get(FlavorAccess, (flavor.id, ctx.project_id)) is not None

    async def list(self, ctx: RequestContext, *, is_public: bool | None, min_ram: int,
                   min_disk: int, limit: int | None, marker: str | None,
                   sort: tuple[str, str]) -> list[Flavor]:
        q = select(Flavor).where(Flavor.ram >= min_ram, Flavor.disk >= min_disk)
        if not ctx.is_admin:
            shared = select(FlavorAccess.flavor_id).where(
                FlavorAccess.project_id == ctx.project_id)
            q = q.where(or_(Flavor.is_public.is_(True), Flavor.id.in_(shared)))
        elif is_public is not None:
            q = q.where(Flavor.is_public.is_(is_public))
        async with self.db.read() as s:
            return await page(s, q, Flavor, limit=limit, marker=marker, sort=[sort])

    async def update(self, flavor_id: str, description: str | None) -> Flavor:
        async with self.db.write() as s:
            flavor = await self._get(s, flavor_id)
            flavor.description = description
        return flavor

    async def delete(self, flavor_id: str) -> None:
        async with self.db.write() as s:
            await s.delete(await self._get(s, flavor_id))

    async def _get(self, s, flavor_id: str) -> Flavor:  # noqa: ANN001
        flavor = await s.get(Flavor, flavor_id)
        if flavor is None:
            raise exc.NotFound(f"Flavor {flavor_id} could not be found.")
        return flavor

    # -- extra specs ------------------------------------------------------------

    async def set_extra_specs(self, flavor_id: str, specs: dict[str, str]) -> dict[str, str]:
        async with self.db.write() as s:
            flavor = await self._get(s, flavor_id)
            flavor.extra_specs = {**(flavor.extra_specs or {}), **specs}
            return dict(flavor.extra_specs)

    async def delete_extra_spec(self, flavor_id: str, key: str) -> None:
        async with self.db.write() as s:
            flavor = await self._get(s, flavor_id)
            specs = dict(flavor.extra_specs or {})
            if key not in specs:
                raise exc.NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
            del specs[key]
            flavor.extra_specs = specs

    # -- access lists -------------------------------------------------------------

    async def access(self, flavor_id: str) -> list[str]:
        async with self.db.read() as s:
            flavor = await self._get(s, flavor_id)
            if flavor.is_public:
                raise exc.NotFound("Access list not available for public flavors.")
            rows = await s.scalars(select(FlavorAccess.project_id).where(
                FlavorAccess.flavor_id == flavor_id))
            return list(rows)

    async def add_access(self, flavor_id: str, project_id: str) -> list[str]:
        async with self.db.write() as s:
            flavor = await self._get(s, flavor_id)
            if flavor.is_public:
                raise exc.Conflict("Can not add access to a public flavor.")
            if await s.get(FlavorAccess, (flavor_id, project_id)) is not None:
                raise exc.Conflict(f"Flavor access already exists for flavor {flavor_id} "
                                   f"and project {project_id} combination.")
            s.add(FlavorAccess(flavor_id=flavor_id, project_id=project_id))
        return await self.access(flavor_id)

    async def remove_access(self, flavor_id: str, project_id: str) -> list[str]:
        async with self.db.write() as s:
            await self._get(s, flavor_id)
            gone = await s.execute(delete(FlavorAccess).where(
                FlavorAccess.flavor_id == flavor_id, FlavorAccess.project_id == project_id))
            if gone.rowcount == 0:
                raise exc.NotFound(f"Flavor access not found for {flavor_id} / "
                                   f"{project_id} combination.")
        return await self.access(flavor_id)
