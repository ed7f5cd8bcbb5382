"""Per-project quotas: limits (defaults from config, overrides in the database),
usage counted from the project's rows, and the /v2.0/quotas API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from pocketstack.core.context import RequestContext
from pocketstack.network import errors
from pocketstack.network import models as m
from pocketstack.network.resource import count_owned, quota_limit

if TYPE_CHECKING:
    from pocketstack.network.service import NetworkService

COUNTED = {
    "network": m.Network, "subnet": m.Subnet, "port": m.Port, "router": m.Router,
    "floatingip": m.FloatingIP, "security_group": m.SecurityGroup,
    "security_group_rule": m.SecurityGroupRule, "subnetpool": m.SubnetPool,
    "rbac_policy": None,
}


class Quotas:
    def __init__(self, svc: NetworkService):
        self.svc, self.db = svc, svc.db

    @property
    def defaults(self) -> dict[str, int]:
        return {r: self.svc.cfg.default_quotas.get(r, -1) for r in COUNTED}

    async def check(self, s, project_id: str, resource: str, adding: int,  # noqa: ANN001
                    model: Any) -> None:
        limit = await quota_limit(s, self.defaults, project_id, resource)
        if limit < 0:
            return
        if await count_owned(s, model, project_id, up_to=limit + 1) + adding > limit:
            raise errors.over_quota(resource)

    async def limits(self, s, project_id: str) -> dict[str, int]:  # noqa: ANN001
        out = dict(self.defaults)
        for q in await s.scalars(select(m.Quota).where(m.Quota.project_id == project_id)):
            if q.resource in out:
                out[q.resource] = q.limit
        return out

    def _may_read(self, ctx: RequestContext, project_id: str) -> None:
        self.svc.authorize(ctx, "get_quota", {"project_id": project_id})

    async def show(self, ctx: RequestContext, project_id: str) -> dict:
        self._may_read(ctx, project_id)
        async with self.db.read() as s:
            return {"quota": await self.limits(s, project_id)}

    async def default(self, ctx: RequestContext, project_id: str) -> dict:
        self._may_read(ctx, project_id)
        return {"quota": self.defaults}

    async def details(self, ctx: RequestContext, project_id: str) -> dict:
        self._may_read(ctx, project_id)
        async with self.db.read() as s:
            limits = await self.limits(s, project_id)
            out = {}
            for resource, model in COUNTED.items():
                used = 0 if model is None else await count_owned(s, model, project_id)
                out[resource] = {"limit": limits[resource], "used": used, "reserved": 0}
        return {"quota": out}

    async def list(self, ctx: RequestContext) -> dict:
        self.svc.authorize(ctx, "update_quota", {})
        async with self.db.read() as s:
            projects = sorted(set(await s.scalars(select(m.Quota.project_id))))
            out = []
            for p in projects:
                out.append(await self.limits(s, p) | {"project_id": p, "tenant_id": p})
        return {"quotas": out}

    async def update(self, ctx: RequestContext, project_id: str, body: Any) -> dict:
        self.svc.authorize(ctx, "update_quota", {"project_id": project_id})
        if not isinstance(body, dict) or not isinstance(body.get("quota"), dict):
            raise errors.bad_request("Resource body required: expected a 'quota' object.")
        changes = {}
        wanted = dict(body["quota"])
        check_limit = wanted.pop("check_limit", False) in (True, "true", "True")
        for resource, value in wanted.items():
            if resource not in COUNTED:
                raise errors.bad_request(f"Unrecognized attribute(s) '{resource}'")
            try:
                limit = int(value)
            except (TypeError, ValueError):
                raise errors.invalid_input(f"'{value}' is not an integer") from None
            if limit < -1:
                raise errors.invalid_input(f"'{limit}' should be greater than or equal to -1")
            changes[resource] = limit
        async with self.db.write() as s:
            if check_limit:
                await self._refuse_below_usage(s, project_id, changes)
            for resource, limit in changes.items():
                await s.merge(m.Quota(project_id=project_id, resource=resource, limit=limit))
            await s.flush()
            return {"quota": await self.limits(s, project_id)}

    async def _refuse_below_usage(self, s, project_id: str,  # noqa: ANN001
                                  changes: dict[str, int]) -> None:
        """`check_limit`: a limit may not go below what the project already uses."""
        for resource, limit in changes.items():
            model = COUNTED[resource]
            if model is None or limit < 0:
                continue
            used = await count_owned(s, model, project_id)
            if used > limit:
                raise errors.bad_request(f"Quota limit {limit} for {resource} must be greater "
                                         f"than or equal to already used {used}")

    async def delete(self, ctx: RequestContext, project_id: str) -> None:
        self.svc.authorize(ctx, "delete_quota", {"project_id": project_id})
        async with self.db.write() as s:
            await s.execute(delete(m.Quota).where(m.Quota.project_id == project_id))
