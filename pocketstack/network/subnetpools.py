"""Subnet pools and prefix allocation: a subnet created from a pool gets the
lowest free block of the requested prefix length (or the CIDR it asked for,
if that lies in the pool and is free)."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select

from pocketstack.core.context import RequestContext
from pocketstack.network import errors, query, schemas, views
from pocketstack.network.models import Subnet, SubnetPool
from pocketstack.network.resource import Resource, new_id, set_tags
from pocketstack.network.subnets import parse_cidr


def free_blocks(prefixes: list[str], used: list[str]) -> list[Any]:
    """The pool's prefixes minus the used subnets, as a sorted list of networks."""
    free = [ipaddress.ip_network(p) for p in prefixes]
    for u in (ipaddress.ip_network(x) for x in used):
        nxt = []
        for block in free:
            if block.version != u.version or not block.overlaps(u):
                nxt.append(block)
            elif u.subnet_of(block):
                nxt.extend(block.address_exclude(u))
            # else the used subnet covers the whole block
        free = nxt
    return sorted(free, key=lambda n: (n.version, int(n.network_address)))


class SubnetPools(Resource):
    resource, collection, model = "subnetpool", "subnetpools", SubnetPool
    listing = query.Listing(SubnetPool, renames={"tenant_id": "project_id"})

    def visible(self, ctx: RequestContext) -> Any | None:
        if ctx.is_admin:
            return None
        return (SubnetPool.project_id == ctx.project_id) | SubnetPool.shared

    def view(self, row: SubnetPool, tags: list[str], ctx: RequestContext) -> dict[str, Any]:
        return views.subnetpool(row, tags, ctx)

    async def create(self, ctx: RequestContext, body: dict) -> dict:
        req = schemas.parse(schemas.SubnetPoolCreate, body, "subnetpool")
        async with self.db.write() as s:
            project = self.owner_of(ctx, req)
            self.check_attrs(ctx, "create", req.given(), {"shared": "shared",
                                                          "is_default": "is_default"},
                             {"project_id": project})
            await self.check_quota(s, project)
            nets = [parse_cidr(p) for p in req.prefixes]
            versions = {n.version for n in nets}
            if len(versions) != 1:
                raise errors.invalid_input("Prefixes of a subnet pool share one IP version")
            version = versions.pop()
            width = 32 if version == 4 else 128
            lo = req.min_prefixlen if req.min_prefixlen is not None else (8 if version == 4
                                                                          else 64)
            hi = req.max_prefixlen if req.max_prefixlen is not None else width
            default = req.default_prefixlen if req.default_prefixlen is not None else lo
            if not (0 <= lo <= default <= hi <= width):
                raise errors.invalid_input("Prefix lengths must satisfy "
                                           "min_prefixlen <= default_prefixlen <= max_prefixlen")
            collapsed = [str(n) for n in ipaddress.collapse_addresses(nets)]
            row = SubnetPool(
                id=new_id(), project_id=project, name=req.name or "",
                description=req.description or "", ip_version=version, prefixes=collapsed,
                default_prefixlen=default, min_prefixlen=lo, max_prefixlen=hi,
                shared=bool(req.shared), is_default=bool(req.is_default),
                default_quota=req.default_quota, address_scope_id=req.address_scope_id)
            s.add(row)
            return await self.one_view(s, ctx, row)

    async def update(self, ctx: RequestContext, id_: str, body: dict) -> dict:
        req = schemas.parse(schemas.SubnetPoolUpdate, body, "subnetpool")
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "update")
            given = req.given()
            if req.prefixes is not None:
                old = [ipaddress.ip_network(p) for p in row.prefixes]
                new = [parse_cidr(p) for p in req.prefixes]
                if any(not any(o.subnet_of(n) for n in new if n.version == o.version)
                       for o in old):
                    raise errors.invalid_input("Existing prefixes must be a subset of the "
                                               "new prefixes")
                row.prefixes = [str(n) for n in ipaddress.collapse_addresses(new)]
            for field in ("name", "description", "default_prefixlen", "min_prefixlen",
                          "max_prefixlen", "is_default", "default_quota"):
                if given.get(field) is not None:
                    setattr(row, field, given[field])
            self.touch(row)
            return await self.one_view(s, ctx, row)

    async def delete(self, ctx: RequestContext, id_: str) -> None:
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "delete")
            if await s.scalar(select(Subnet.id).where(Subnet.subnetpool_id == id_).limit(1)):
                raise errors.conflict("SubnetPoolInUse",
                                      f"Unable to complete operation on subnet pool {id_}. "
                                      "Subnets are allocated from it.")
            await set_tags(s, id_, [])
            await s.delete(row)

    async def default_id(self, s, ip_version: int) -> str:  # noqa: ANN001
        found = await s.scalar(select(SubnetPool.id).where(
            SubnetPool.is_default, SubnetPool.ip_version == ip_version))
        if found is None:
            raise errors.bad_request(f"No default subnetpool found for IPv{ip_version}")
        return found

    async def allocate(self, s, pool: SubnetPool, cidr: str | None,  # noqa: ANN001
                       prefixlen: int | None) -> Any:
        """A free CIDR of the pool: the one asked for, or the lowest of that length."""
        used = list(await s.scalars(select(Subnet.cidr).where(Subnet.subnetpool_id == pool.id)))
        blocks = free_blocks(pool.prefixes, used)
        if cidr is not None:
            want = parse_cidr(cidr)
            self._check_len(pool, want.prefixlen)
            if not any(want.version == b.version and want.subnet_of(b) for b in blocks):
                raise errors.conflict("SubnetAllocationError",
                                      f"Failed to allocate subnet: {cidr} is not free in "
                                      f"subnet pool {pool.id}.")
            return want
        length = prefixlen if prefixlen is not None else pool.default_prefixlen
        self._check_len(pool, length)
        for block in blocks:
            if block.prefixlen <= length:
                return next(block.subnets(new_prefix=length))
        raise errors.conflict("SubnetAllocationError",
                              "Failed to allocate subnet: Insufficient prefix space to "
                              f"allocate subnet size /{length}.")

    @staticmethod
    def _check_len(pool: SubnetPool, length: int) -> None:
        if not pool.min_prefixlen <= length <= pool.max_prefixlen:
            raise errors.invalid_input(
                f"Illegal prefix bounds: prefixlen={length}, "
                f"min_prefixlen={pool.min_prefixlen}, max_prefixlen={pool.max_prefixlen}")
