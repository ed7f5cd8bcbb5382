"""Users and groups: bodies and views. A user view never holds a password."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StrictBool, StringConstraints

from pocketstack.identity import models as m
from pocketstack.identity.schemas.common import Id, Name, Open, Strict, Text

Password = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=4096)]
USER_FIELDS = ("name", "domain_id", "enabled", "password", "default_project_id", "options")


class UserCreate(Open):
    name: Name
    domain_id: Id | None = None
    password: Password | None = None
    enabled: StrictBool = True
    default_project_id: Id | None = None
    options: dict[str, Any] = {}


class UserUpdate(Open):
    name: Name | None = None
    password: Password | None = None
    enabled: StrictBool | None = None
    default_project_id: Id | None = None
    options: dict[str, Any] | None = None


class UserBody(Strict):
    user: UserCreate


class UserUpdateBody(Strict):
    user: UserUpdate


class PasswordChange(Strict):
    password: Password
    original_password: Password


class PasswordChangeBody(Strict):
    user: PasswordChange


class GroupCreate(Strict):
    name: Name
    domain_id: Id | None = None
    description: Text | None = None


class GroupUpdate(Strict):
    name: Name | None = None
    description: Text | None = None


class GroupBody(Strict):
    group: GroupCreate


class GroupUpdateBody(Strict):
    group: GroupUpdate


def extras(model: Open) -> dict[str, Any]:
    """The fields a user body has beyond the known ones (description, email, ...)."""
    return dict(model.model_extra or {})


def user_view(u: m.User, base: str) -> dict[str, Any]:
    view: dict[str, Any] = dict(u.extra or {})
    view.update({"id": u.id, "name": u.name, "domain_id": u.domain_id, "enabled": u.enabled,
                 "password_expires_at": None, "options": {},
                 "links": {"self": f"{base}/v3/users/{u.id}"}})
    if u.default_project_id:
        view["default_project_id"] = u.default_project_id
    return view


def group_view(g: m.Group, base: str) -> dict[str, Any]:
    return {"id": g.id, "name": g.name, "domain_id": g.domain_id,
            "description": g.description or "", "links": {"self": f"{base}/v3/groups/{g.id}"}}
