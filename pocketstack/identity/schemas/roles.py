"""Roles and role inferences: bodies and views."""

from __future__ import annotations

from typing import Any

from pocketstack.identity import models as m
from pocketstack.identity.schemas.common import Id, Name, Strict, Text


class RoleCreate(Strict):
    name: Name
    description: Text | None = None
    domain_id: Id | None = None
    options: dict[str, Any] = {}


class RoleUpdate(Strict):
    name: Name | None = None
    description: Text | None = None
    options: dict[str, Any] | None = None


class RoleBody(Strict):
    role: RoleCreate


class RoleUpdateBody(Strict):
    role: RoleUpdate


def role_view(r: m.Role, base: str) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "domain_id": r.domain_id,
            "description": r.description, "options": {},
            "links": {"self": f"{base}/v3/roles/{r.id}"}}


def role_ref(r: m.Role, base: str) -> dict[str, Any]:
    """A role as role inferences show it."""
    return {"id": r.id, "name": r.name, "links": {"self": f"{base}/v3/roles/{r.id}"}}
