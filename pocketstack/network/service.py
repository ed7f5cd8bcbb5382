"""The network service: one object holding each resource's logic, the policy,
the quotas and the agent notifier. Collaborators come in through the
constructor; api.py and the agents' status reports call into it."""

from __future__ import annotations

from typing import Any

from pocketstack.config import NetworkConfig
from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.network import errors
from pocketstack.network.agent.messages import PortStatus
from pocketstack.network.agent.notifier import AgentNotifier
from pocketstack.network.floatingips import FloatingIPs
from pocketstack.network.networks import Networks
from pocketstack.network.ports import Ports
from pocketstack.network.quotas import Quotas
from pocketstack.network.resource import Resource, set_tags, tags_of
from pocketstack.network.routers import Routers
from pocketstack.network.secgroups import SecurityGroupRules, SecurityGroups
from pocketstack.network.subnetpools import SubnetPools
from pocketstack.network.subnets import Subnets

MAX_TAG = 255
# Collections whose changes the agents apply (networks and subnets say so themselves).
DATA_PLANE = {"routers", "floatingips", "security-groups", "security-group-rules", "ports"}


class NetworkService:
    def __init__(self, db: Database, cfg: NetworkConfig, enforcer: Enforcer,
                 notifier: AgentNotifier | None = None):
        self.db, self.cfg, self.enforcer = db, cfg, enforcer
        self.notifier: AgentNotifier = notifier  # type: ignore[assignment]
        self.networks = Networks(self)
        self.subnets = Subnets(self)
        self.subnetpools = SubnetPools(self)
        self.ports = Ports(self)
        self.security_groups = SecurityGroups(self)
        self.security_group_rules = SecurityGroupRules(self)
        self.routers = Routers(self)
        self.floatingips = FloatingIPs(self)
        self.quotas = Quotas(self)
        self.by_collection: dict[str, Resource] = {
            r.collection: r for r in (
                self.networks, self.subnets, self.subnetpools, self.ports,
                self.security_groups, self.security_group_rules, self.routers,
                self.floatingips)
        }

    def authorize(self, ctx: RequestContext, action: str, target: dict[str, Any]) -> None:
        if not self.enforcer.allowed(ctx, action, target or {"project_id": ctx.project_id}):
            raise errors.policy(action)

    async def changed(self, ctx: RequestContext, collection: str) -> None:
        """After a committed change through the API: tell the agents if it is theirs."""
        if collection in DATA_PLANE:
            await self.notifier.resources_changed(ctx, collection)

    async def port_status(self, report: PortStatus) -> None:
        """An agent's report: the port is up or down on its host."""
        await self.ports.set_status(report.port_id, report.status)

    # -- tags on any resource --------------------------------------------------

    def resource(self, collection: str) -> Resource:
        found = self.by_collection.get(collection)
        if found is None:
            raise errors.named(errors.exc.NotFound, "HTTPNotFound",
                               "The resource could not be found.")
        return found

    async def get_tags(self, ctx: RequestContext, collection: str, id_: str) -> list[str]:
        res = self.resource(collection)
        async with self.db.read() as s:
            await res.get(s, ctx, id_)
            return sorted((await tags_of(s, [id_]))[id_])

    async def replace_tags(self, ctx: RequestContext, collection: str, id_: str,
                           tags: list[str] | None, add: bool = False) -> list[str]:
        for t in tags or []:
            if not isinstance(t, str) or not t or len(t) > MAX_TAG or "," in t or "/" in t:
                raise errors.invalid_input(f"'{t}' is not a valid tag")
        res = self.resource(collection)
        async with self.db.write() as s:
            row = await res.owned(s, ctx, id_, "update")
            current = (await tags_of(s, [id_]))[id_] if add else []
            await set_tags(s, id_, list(dict.fromkeys(current + list(tags or []))))
            res.touch(row)
            return sorted((await tags_of(s, [id_]))[id_])

    async def add_tag(self, ctx: RequestContext, collection: str, id_: str, tag: str) -> None:
        await self.replace_tags(ctx, collection, id_, [tag], add=True)

    async def remove_tag(self, ctx: RequestContext, collection: str, id_: str,
                         tag: str | None) -> None:
        res = self.resource(collection)
        async with self.db.write() as s:
            row = await res.owned(s, ctx, id_, "update")
            current = (await tags_of(s, [id_]))[id_]
            if tag is not None and tag not in current:
                raise errors.named(errors.exc.NotFound, "TagNotFound",
                                   f"Tag {tag} could not be found for {res.resource} {id_}.")
            await set_tags(s, id_, [t for t in current if tag is not None and t != tag])
            res.touch(row)
