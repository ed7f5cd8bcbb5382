"""GET /v3/role_assignments and its filters (user.id, group.id, scope.project.id,
scope.domain.id, scope.system, role.id, effective, include_names, include_subtree)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.identity import models as m
from pocketstack.identity.api.common import base, enforce, flag, ident, new_router

router = new_router()

PLURAL = {"project": "projects", "domain": "domains", "user": "users", "group": "groups"}


@dataclass(frozen=True)
class Entry:
    actor_type: str
    actor_id: str
    target_type: str
    target_id: str
    role_id: str
    via_group: str | None = None  # effective: the group the user got it through
    prior_role: str | None = None  # effective: the role that implied this one


def _query_flag(request: Request, name: str) -> bool:
    """Keystone treats a bare `?effective` as true."""
    if name not in request.query_params:
        return False
    return bool(flag(request.query_params[name]) or request.query_params[name] == "")


async def _subtree(s: AsyncSession, project_id: str) -> list[str]:
    found, todo = [project_id], [project_id]
    while todo:
        children = (await s.execute(select(m.Project.id).where(
            m.Project.parent_id.in_(todo)))).scalars().all()
        todo = [c for c in children if c not in found]
        found += todo
    return found


def _target_clauses(q: dict[str, str], targets: list[str] | None) -> list[Any]:
    if targets is not None:
        return [m.Assignment.target_type == "project", m.Assignment.target_id.in_(targets)]
    if "scope.domain.id" in q:
        return [m.Assignment.target_type == "domain",
                m.Assignment.target_id == q["scope.domain.id"]]
    if "scope.system" in q:
        return [m.Assignment.target_type == "system"]
    return []


async def _effective(s: AsyncSession, rows: list[m.Assignment], user_id: str | None,
                     implies: dict[str, set[str]]) -> list[Entry]:
    entries: dict[tuple, Entry] = {}
    for a in rows:
        if a.actor_type == "group":
            members = (await s.execute(select(m.GroupMember.user_id).where(
                m.GroupMember.group_id == a.actor_id))).scalars().all()
            users = [(u, a.actor_id) for u in members if user_id in (None, u)]
        else:
            users = [(a.actor_id, None)]
        for uid, group in users:
            for role in implies.get(a.role_id, {a.role_id}):
                e = Entry("user", uid, a.target_type, a.target_id, role, group,
                          None if role == a.role_id else a.role_id)
                entries.setdefault((uid, a.target_type, a.target_id, role), e)
    return list(entries.values())


async def _names(s: AsyncSession) -> dict[str, dict[str, Any]]:
    domains = {d.id: {"id": d.id, "name": d.name}
               for d in (await s.execute(select(m.Domain))).scalars()}
    names: dict[str, dict[str, Any]] = {f"domain:{k}": v for k, v in domains.items()}
    for kind, model in (("user", m.User), ("group", m.Group), ("project", m.Project)):
        for row in (await s.execute(select(model.id, model.name, model.domain_id))).all():
            names[f"{kind}:{row.id}"] = {"id": row.id, "name": row.name,
                                         "domain": domains.get(row.domain_id)}
    for row in (await s.execute(select(m.Role.id, m.Role.name, m.Role.domain_id))).all():
        ref = {"id": row.id, "name": row.name}
        if row.domain_id:
            ref["domain"] = domains.get(row.domain_id)
        names[f"role:{row.id}"] = ref
    return names


def _render(e: Entry, b: str, names: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    def ref(kind: str, id: str) -> dict[str, Any]:
        return dict(names.get(f"{kind}:{id}", {"id": id})) if names else {"id": id}

    scope = {"system": {"all": True}} if e.target_type == "system" else {
        e.target_type: ref(e.target_type, e.target_id)}
    actor_type, actor_id = ("group", e.via_group) if e.via_group else (e.actor_type, e.actor_id)
    target = "/v3/system" if e.target_type == "system" else \
        f"/v3/{PLURAL[e.target_type]}/{e.target_id}"
    links = {"assignment": f"{b}{target}/{PLURAL[actor_type]}/{actor_id}/roles/"
                           f"{e.prior_role or e.role_id}"}
    if e.via_group:
        links["membership"] = f"{b}/v3/groups/{e.via_group}/users/{e.actor_id}"
    if e.prior_role:
        links["prior_role"] = f"{b}/v3/roles/{e.prior_role}"
    return {"role": ref("role", e.role_id), e.actor_type: ref(e.actor_type, e.actor_id),
            "scope": scope, "links": links}


@router.get("/v3/role_assignments")
async def list_role_assignments(request: Request) -> dict[str, Any]:
    enforce(request, "identity:list_role_assignments")
    q = dict(request.query_params)
    if "user.id" in q and "group.id" in q:
        raise exc.BadRequest("Specify at most one of user.id and group.id.")
    scopes = [k for k in ("scope.project.id", "scope.domain.id", "scope.system") if k in q]
    if len(scopes) > 1:
        raise exc.BadRequest("Specify at most one scope filter.")
    subtree = _query_flag(request, "include_subtree")
    if subtree and "scope.project.id" not in q:
        raise exc.BadRequest("include_subtree needs scope.project.id.")
    effective = _query_flag(request, "effective")
    svc = ident(request)
    async with svc.db.read() as s:
        targets = None
        if "scope.project.id" in q:
            targets = await _subtree(s, q["scope.project.id"]) if subtree else \
                [q["scope.project.id"]]
        clauses = _target_clauses(q, targets)
        user_id = q.get("user.id")
        if "group.id" in q:
            clauses += [m.Assignment.actor_type == "group",
                        m.Assignment.actor_id == q["group.id"]]
        elif user_id is not None and effective:
            groups = select(m.GroupMember.group_id).where(m.GroupMember.user_id == user_id)
            clauses.append(((m.Assignment.actor_type == "user")
                            & (m.Assignment.actor_id == user_id))
                           | ((m.Assignment.actor_type == "group")
                              & m.Assignment.actor_id.in_(groups)))
        elif user_id is not None:
            clauses += [m.Assignment.actor_type == "user", m.Assignment.actor_id == user_id]
        rows = list((await s.execute(select(m.Assignment).where(*clauses))).scalars().all())
        if effective:
            _, implies = await svc.roles_index(s)
            entries = await _effective(s, rows, user_id, implies)
        else:
            entries = [Entry(a.actor_type, a.actor_id, a.target_type, a.target_id, a.role_id)
                       for a in rows]
        if "role.id" in q:
            entries = [e for e in entries if e.role_id == q["role.id"]]
        names = await _names(s) if _query_flag(request, "include_names") else None
    b = base(request)
    return {"role_assignments": [_render(e, b, names) for e in entries],
            "links": {"self": str(request.url), "previous": None, "next": None}}
