"""Security groups and their rules; each project's `default` group, made on
first use with Neutron's default rules; duplicate rules refused."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pocketstack.core.context import RequestContext
from pocketstack.network import errors, query, schemas, views
from pocketstack.network.models import (
    DefaultSecurityGroup,
    PortSecurityGroup,
    SecurityGroup,
    SecurityGroupRule,
)
from pocketstack.network.resource import Resource, new_id, set_tags

PROTOCOLS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1,
    "igmp": 2, "ip": 0, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58,
    "icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89,
    "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}
PORT_PROTOCOLS = {6, 17, 33, 132, 136}
ICMP_PROTOCOLS = {1, 58}


def protocol_number(protocol: str | None) -> int | None:
    if protocol is None:
        return None
    return PROTOCOLS.get(protocol, int(protocol) if protocol.isdigit() else None)


def normalise_protocol(value: Any) -> str | None:
    if value is None or str(value).lower() in ("any", ""):
        return None
    text = str(value).lower()
    if text in PROTOCOLS:
        return text
    if text.isdigit() and 0 <= int(text) <= 255:
        return text
    raise errors.named(errors.exc.BadRequest, "SecurityGroupRuleInvalidProtocol",
                       f"Security group rule protocol {value} not supported. Only protocol "
                       f"values {sorted(PROTOCOLS)} and integer representations [0 to 255] "
                       "are supported.")


def check_ports(proto: int | None, lo: int | None, hi: int | None) -> tuple[Any, Any]:
    if lo is None and hi is None:
        return None, None
    if proto is None:
        raise errors.named(errors.exc.BadRequest, "SecurityGroupProtocolRequiredWithPorts",
                           "Must also specify protocol if port range is given.")
    if proto in PORT_PROTOCOLS:
        if lo is None:
            raise errors.invalid_input("port_range_min is required with port_range_max")
        hi = lo if hi is None else hi
        if lo < 1 or hi < 1 or lo > hi:
            raise errors.named(errors.exc.BadRequest, "SecurityGroupInvalidPortRange",
                               "For TCP/UDP protocols, port_range_min must be <= "
                               "port_range_max")
        return lo, hi
    if proto in ICMP_PROTOCOLS:
        if lo is None or lo > 255 or (hi is not None and hi > 255):
            raise errors.named(errors.exc.BadRequest, "SecurityGroupInvalidIcmpValue",
                               "Invalid value for ICMP type/code: type must be given and "
                               "both must be 0-255.")
        return lo, hi
    raise errors.named(errors.exc.BadRequest, "SecurityGroupInvalidProtocolForPort",
                       "Ports are only valid for TCP, UDP, UDPLite, SCTP, DCCP and ICMP "
                       "protocols.")


def rule_key(r: Any) -> tuple:
    prefix = r.remote_ip_prefix
    if prefix in ("0.0.0.0/0", "::/0"):
        prefix = None
    return (r.direction, r.ethertype, protocol_number(r.protocol), r.port_range_min,
            r.port_range_max, prefix, r.remote_group_id)


def default_rules(group_id: str, project_id: str) -> list[SecurityGroupRule]:
    out = []
    for ethertype in ("IPv4", "IPv6"):
        out.append(SecurityGroupRule(id=new_id(), project_id=project_id,
                                     security_group_id=group_id, direction="egress",
                                     ethertype=ethertype))
        out.append(SecurityGroupRule(id=new_id(), project_id=project_id,
                                     security_group_id=group_id, direction="ingress",
                                     ethertype=ethertype, remote_group_id=group_id))
    return out


class SecurityGroups(Resource):
    resource, collection, model = "security_group", "security-groups", SecurityGroup
    listing = query.Listing(SecurityGroup, renames={"tenant_id": "project_id"})

    def view(self, row: SecurityGroup, tags: list[str], ctx: RequestContext) -> dict:
        return views.security_group(row, tags, ctx)

    async def list(self, ctx: RequestContext, params: Any, url: str) -> dict[str, Any]:
        await self.ensure_default_for(ctx)
        return await super().list(ctx, params, url)

    async def ensure_default_for(self, ctx: RequestContext) -> None:
        if not ctx.project_id:
            return
        async with self.db.read() as s:
            if await s.get(DefaultSecurityGroup, ctx.project_id) is not None:
                return
        async with self.db.write() as s:
            await self.ensure_default(s, ctx.project_id)

    async def ensure_default(self, s, project_id: str) -> str:  # noqa: ANN001
        """The project's `default` group, made (with its rules) if it is missing."""
        found = await s.get(DefaultSecurityGroup, project_id)
        if found is not None:
            return found.security_group_id
        gid = new_id()
        try:
            async with s.begin_nested():
                group = SecurityGroup(id=gid, project_id=project_id, name="default",
                                      description="Default security group")
                group.rules = default_rules(gid, project_id)
                s.add(group)
                await s.flush()
                s.add(DefaultSecurityGroup(project_id=project_id, security_group_id=gid))
                await s.flush()
        except IntegrityError:  # made meanwhile by a concurrent request
            found = await s.get(DefaultSecurityGroup, project_id)
            return found.security_group_id
        return gid

    async def create(self, ctx: RequestContext, body: dict) -> dict:
        req = schemas.parse(schemas.SecurityGroupCreate, body, "security_group")
        async with self.db.write() as s:
            project = self.owner_of(ctx, req)
            await self.ensure_default(s, project)
            if req.name == "default":
                raise errors.conflict("SecurityGroupDefaultAlreadyExists",
                                      "Default security group already exists.")
            await self.check_quota(s, project)
            gid = new_id()
            row = SecurityGroup(id=gid, project_id=project, name=req.name or "",
                                description=req.description or "",
                                stateful=req.stateful is not False)
            row.rules = [r for r in default_rules(gid, project) if r.direction == "egress"]
            s.add(row)
            return await self.one_view(s, ctx, row)

    async def update(self, ctx: RequestContext, id_: str, body: dict) -> dict:
        req = schemas.parse(schemas.SecurityGroupUpdate, body, "security_group")
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "update")
            if req.name is not None and req.name != row.name and \
                    "default" in (row.name, req.name):
                raise errors.conflict("SecurityGroupCannotUpdateDefault",
                                      "Updating default security group not allowed.")
            for field, value in req.given().items():
                if field in ("name", "description", "stateful") and value is not None:
                    setattr(row, field, value)
            self.touch(row)
            return await self.one_view(s, ctx, row)

    async def delete(self, ctx: RequestContext, id_: str) -> None:
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "delete")
            default = await s.get(DefaultSecurityGroup, row.project_id)
            if default is not None and default.security_group_id == id_ and not ctx.is_admin:
                raise errors.conflict("SecurityGroupCannotRemoveDefault",
                                      "Removing default security group not allowed.")
            if await s.scalar(select(PortSecurityGroup.port_id).where(
                    PortSecurityGroup.security_group_id == id_).limit(1)):
                raise errors.conflict("SecurityGroupInUse",
                                      f"Security Group {id_} in use.")
            if default is not None and default.security_group_id == id_:
                await s.delete(default)
            await set_tags(s, id_, [])
            await s.delete(row)


class SecurityGroupRules(Resource):
    resource, collection, model = ("security_group_rule", "security-group-rules",
                                   SecurityGroupRule)
    listing = query.Listing(SecurityGroupRule, renames={"tenant_id": "project_id"})

    def visible(self, ctx: RequestContext) -> Any | None:
        if ctx.is_admin:
            return None
        mine = select(SecurityGroup.id).where(SecurityGroup.project_id == ctx.project_id)
        return (SecurityGroupRule.project_id == ctx.project_id) | \
            SecurityGroupRule.security_group_id.in_(mine)

    async def views(self, session, ctx: RequestContext, rows) -> list[dict]:  # noqa: ANN001
        defaults = set(await session.scalars(select(DefaultSecurityGroup.security_group_id)
                                             .where(DefaultSecurityGroup.security_group_id
                                                    .in_({r.security_group_id for r in rows}))))
        return [views.rule(r, [], ctx, r.security_group_id in defaults) for r in rows]

    async def list(self, ctx: RequestContext, params: Any, url: str) -> dict[str, Any]:
        await self.svc.security_groups.ensure_default_for(ctx)
        return await super().list(ctx, params, url)

    async def create(self, ctx: RequestContext, body: dict) -> dict:
        if isinstance(body, dict) and isinstance(body.get("security_group_rules"), list):
            reqs = [schemas.parse(schemas.RuleCreate, {"r": r}, "r")
                    for r in body["security_group_rules"]]
            async with self.db.write() as s:
                rows = [await self.create_in(s, ctx, r) for r in reqs]
                await s.flush()
                return {"security_group_rules": await self.views(s, ctx, rows)}
        req = schemas.parse(schemas.RuleCreate, body, "security_group_rule")
        async with self.db.write() as s:
            row = await self.create_in(s, ctx, req)
            await s.flush()
            return {self.resource: (await self.views(s, ctx, [row]))[0]}

    async def create_in(self, s, ctx: RequestContext, req: schemas.RuleCreate) -> Any:  # noqa: ANN001
        group = await self.svc.security_groups.get(s, ctx, req.security_group_id)
        project = req.owner(group.project_id) or ""
        self.svc.authorize(ctx, "create_security_group_rule", {"project_id": project})
        await self.check_quota(s, project)
        protocol = normalise_protocol(req.protocol)
        lo, hi = check_ports(protocol_number(protocol), req.port_range_min, req.port_range_max)
        prefix = self._prefix(req)
        if req.remote_group_id is not None:
            await self.svc.security_groups.get(s, ctx, req.remote_group_id)
        row = SecurityGroupRule(
            id=new_id(), project_id=project, security_group_id=group.id,
            description=req.description or "", direction=req.direction,
            ethertype=req.ethertype, protocol=protocol, port_range_min=lo, port_range_max=hi,
            remote_ip_prefix=prefix, remote_group_id=req.remote_group_id)
        existing = await s.scalars(select(SecurityGroupRule).where(
            SecurityGroupRule.security_group_id == group.id))
        for other in existing:
            if rule_key(other) == rule_key(row):
                raise errors.conflict("SecurityGroupRuleExists",
                                      "Security group rule already exists. Rule id is "
                                      f"{other.id}.")
        s.add(row)
        return row

    @staticmethod
    def _prefix(req: schemas.RuleCreate) -> str | None:
        if req.remote_ip_prefix is None:
            return None
        if req.remote_group_id is not None:
            raise errors.named(errors.exc.BadRequest, "SecurityGroupRemoteGroupAndRemoteIpPrefix",
                               "Only remote_ip_prefix or remote_group_id may be provided.")
        try:
            net = ipaddress.ip_network(req.remote_ip_prefix, strict=False)
        except ValueError:
            raise errors.invalid_input(
                f"'{req.remote_ip_prefix}' is not a valid IP subnet") from None
        if f"IPv{net.version}" != req.ethertype:
            raise errors.named(errors.exc.BadRequest, "SecurityGroupRuleParameterConflict",
                               f"Conflicting value ethertype {req.ethertype} for CIDR "
                               f"{req.remote_ip_prefix}")
        return str(net)

    async def update(self, ctx: RequestContext, id_: str, body: dict) -> dict:
        raise errors.bad_request("Security group rules cannot be updated.")

    async def delete(self, ctx: RequestContext, id_: str) -> None:
        async with self.db.write() as s:
            row = await self.owned(s, ctx, id_, "delete")
            await s.delete(row)
