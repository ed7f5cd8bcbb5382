"""Domains and projects: bodies and views."""

from __future__ import annotations

from typing import Any

from pydantic import StrictBool

from pocketstack.identity import models as m
from pocketstack.identity.schemas.common import Id, Name, Open, Strict, Tag, Text


class DomainCreate(Strict):
    name: Name
    description: Text | None = None
    enabled: StrictBool = True
    tags: list[Tag] = []
    options: dict[str, Any] = {}
    explicit_domain_id: Id | None = None


class DomainUpdate(Strict):
    name: Name | None = None
    description: Text | None = None
    enabled: StrictBool | None = None
    tags: list[Tag] | None = None
    options: dict[str, Any] | None = None


class DomainBody(Strict):
    domain: DomainCreate


class DomainUpdateBody(Strict):
    domain: DomainUpdate


class ProjectCreate(Open):
    name: Name
    domain_id: Id | None = None
    parent_id: Id | None = None
    description: Text | None = None
    enabled: StrictBool = True
    is_domain: StrictBool = False
    tags: list[Tag] = []
    options: dict[str, Any] = {}


class ProjectUpdate(Open):
    name: Name | None = None
    description: Text | None = None
    enabled: StrictBool | None = None
    tags: list[Tag] | None = None
    options: dict[str, Any] | None = None


class ProjectBody(Strict):
    project: ProjectCreate


class ProjectUpdateBody(Strict):
    project: ProjectUpdate


class TagsBody(Strict):
    tags: list[Tag]


def domain_view(d: m.Domain, base: str) -> dict[str, Any]:
    return {"id": d.id, "name": d.name, "description": d.description or "",
            "enabled": d.enabled, "tags": list(d.tags or []), "options": {},
            "links": {"self": f"{base}/v3/domains/{d.id}"}}


def project_view(p: m.Project, base: str) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "domain_id": p.domain_id,
            "description": p.description or "", "enabled": p.enabled,
            "parent_id": p.parent_id or p.domain_id, "is_domain": False,
            "tags": list(p.tags or []), "options": {},
            "links": {"self": f"{base}/v3/projects/{p.id}"}}
