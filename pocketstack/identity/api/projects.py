"""Projects (/v3/projects) and their tags."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.core import exceptions as exc
from pocketstack.identity import models as m
from pocketstack.identity.api.common import (
    base,
    collection,
    enforce,
    flag,
    ident,
    new_router,
    where,
)
from pocketstack.identity.removal import delete_project as remove_project
from pocketstack.identity.schemas.common import changes
from pocketstack.identity.schemas.domains import (
    ProjectBody,
    ProjectUpdateBody,
    TagsBody,
    project_view,
)

router = new_router()


async def _unique(s: AsyncSession, name: str, domain_id: str) -> None:
    found = (await s.execute(select(m.Project.id).where(
        m.Project.name == name, m.Project.domain_id == domain_id))).first()
    if found is not None:
        raise exc.Conflict("Conflict occurred attempting to store project - it is not "
                           "permitted to have two projects with the same name in the same "
                           f"domain : {name}.")


def _filters(request: Request) -> list[Any]:
    clauses = where(request, m.Project, "name", "domain_id", "enabled")
    parent = request.query_params.get("parent_id")
    if parent is not None:
        clauses.append((m.Project.parent_id == parent)
                       | ((m.Project.domain_id == parent) & m.Project.parent_id.is_(None)))
    if flag(request.query_params.get("is_domain")):
        clauses.append(m.Project.id.is_(None))
    return clauses


def _tag_match(request: Request, project: m.Project) -> bool:
    tags = set(project.tags or [])
    q = request.query_params
    checks = [("tags", lambda want: want <= tags), ("tags-any", lambda want: bool(want & tags)),
              ("not-tags", lambda want: not want <= tags),
              ("not-tags-any", lambda want: not want & tags)]
    return all(test(set(q[k].split(","))) for k, test in checks if k in q)


@router.get("/v3/projects")
async def list_projects(request: Request) -> dict[str, Any]:
    enforce(request, "identity:list_projects")
    q = select(m.Project).where(*_filters(request)).order_by(m.Project.name)
    async with ident(request).db.read() as s:
        rows = (await s.execute(q)).scalars().all()
    return collection(request, "projects", [project_view(p, base(request)) for p in rows
                                            if _tag_match(request, p)])


@router.get("/v3/projects/{project_id}")
async def get_project(request: Request, project_id: str) -> dict[str, Any]:
    enforce(request, "identity:get_project", project_id=project_id)
    async with ident(request).db.read() as s:
        row = await ident(request).get(s, m.Project, project_id, "project")
    return {"project": project_view(row, base(request))}


@router.post("/v3/projects", status_code=201)
async def create_project(request: Request, body: ProjectBody) -> dict[str, Any]:
    ctx = enforce(request, "identity:create_project")
    p = body.project
    if p.is_domain:
        raise exc.BadRequest("Projects acting as domains are not supported.")
    svc = ident(request)
    async with svc.write() as s:
        parent = None
        if p.parent_id is not None and p.parent_id != p.domain_id:
            parent = await svc.get(s, m.Project, p.parent_id, "project")
        domain_id = p.domain_id or (parent.domain_id if parent else None) or \
            ctx.project_domain_id or ctx.domain_id or "default"
        await svc.get(s, m.Domain, domain_id, "domain")
        if parent is not None and parent.domain_id != domain_id:
            raise exc.BadRequest("The parent project is in another domain.")
        await _unique(s, p.name, domain_id)
        row = m.Project(id=m.new_id(), name=p.name, domain_id=domain_id,
                        parent_id=parent.id if parent else None, description=p.description,
                        enabled=p.enabled, tags=p.tags)
        s.add(row)
    return {"project": project_view(row, base(request))}


@router.patch("/v3/projects/{project_id}")
async def update_project(request: Request, project_id: str,
                         body: ProjectUpdateBody) -> dict[str, Any]:
    enforce(request, "identity:update_project", project_id=project_id)
    update = {k: v for k, v in changes(body.project).items()
              if k in ("name", "description", "enabled", "tags")}
    svc = ident(request)
    async with svc.write() as s:
        row = await svc.get(s, m.Project, project_id, "project")
        if "name" in update and update["name"] != row.name:
            await _unique(s, update["name"], row.domain_id)
        for key, value in update.items():
            setattr(row, key, value)
    return {"project": project_view(row, base(request))}


@router.delete("/v3/projects/{project_id}", status_code=204)
async def delete_project(request: Request, project_id: str) -> None:
    enforce(request, "identity:delete_project", project_id=project_id)
    svc = ident(request)
    async with svc.write() as s:
        await svc.get(s, m.Project, project_id, "project")
        child = (await s.execute(select(m.Project.id).where(
            m.Project.parent_id == project_id).limit(1))).first()
        if child is not None:
            raise exc.Forbidden(f"Cannot delete project {project_id} as it is not a leaf in "
                                "the hierarchy.")
        await remove_project(s, project_id)


# -- tags ---------------------------------------------------------------------

async def _set_tags(request: Request, project_id: str, tags: list[str]) -> list[str]:
    enforce(request, "identity:update_project", project_id=project_id)
    svc = ident(request)
    async with svc.write() as s:
        row = await svc.get(s, m.Project, project_id, "project")
        row.tags = list(dict.fromkeys(tags))
    return row.tags


async def _tags(request: Request, project_id: str) -> list[str]:
    enforce(request, "identity:get_project", project_id=project_id)
    async with ident(request).db.read() as s:
        return list((await ident(request).get(s, m.Project, project_id, "project")).tags or [])


@router.get("/v3/projects/{project_id}/tags")
async def list_tags(request: Request, project_id: str) -> dict[str, Any]:
    return {"tags": await _tags(request, project_id)}


@router.put("/v3/projects/{project_id}/tags")
async def replace_tags(request: Request, project_id: str, body: TagsBody) -> dict[str, Any]:
    return {"tags": await _set_tags(request, project_id, body.tags)}


@router.delete("/v3/projects/{project_id}/tags", status_code=204)
async def delete_tags(request: Request, project_id: str) -> None:
    await _set_tags(request, project_id, [])


@router.get("/v3/projects/{project_id}/tags/{tag}", status_code=204)
@router.head("/v3/projects/{project_id}/tags/{tag}", status_code=204)
async def check_tag(request: Request, project_id: str, tag: str) -> Response:
    if tag not in await _tags(request, project_id):
        raise exc.NotFound(f"Tag {tag} not found for project {project_id}.")
    return Response(status_code=204)


@router.put("/v3/projects/{project_id}/tags/{tag}", status_code=201)
async def add_tag(request: Request, project_id: str, tag: str) -> Response:
    if not tag or "," in tag or "/" in tag or len(tag) > 255:
        raise exc.BadRequest(f"Invalid tag {tag!r}.")
    await _set_tags(request, project_id, await _tags(request, project_id) + [tag])
    return Response(status_code=201)


@router.delete("/v3/projects/{project_id}/tags/{tag}", status_code=204)
async def delete_tag(request: Request, project_id: str, tag: str) -> None:
    tags = await _tags(request, project_id)
    if tag not in tags:
        raise exc.NotFound(f"Tag {tag} not found for project {project_id}.")
    await _set_tags(request, project_id, [t for t in tags if t != tag])
