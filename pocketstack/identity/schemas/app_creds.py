"""Application credentials: bodies and views. The secret is shown once, on create."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import StrictBool, StringConstraints

from pocketstack.core import exceptions as exc
from pocketstack.identity import models as m
from pocketstack.identity.schemas.common import Id, Name, Strict, Text
from pocketstack.identity.tokens import isotime

Secret = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=4096)]


class RoleRef(Strict):
    id: Id | None = None
    name: Name | None = None
    domain_id: Id | None = None


class AppCredCreate(Strict):
    name: Name
    description: Text | None = None
    secret: Secret | None = None
    expires_at: str | None = None
    roles: list[RoleRef] | None = None
    unrestricted: StrictBool = False
    access_rules: list[dict[str, Any]] | None = None


class AppCredBody(Strict):
    application_credential: AppCredCreate


def parse_time(value: str) -> float:
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise exc.BadRequest(f"Invalid input for field 'expires_at': {value!r} is not "
                             "an ISO 8601 time.") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.now().astimezone().tzinfo.utc)  # type: ignore[union-attr]
    return dt.timestamp()


def app_cred_view(c: m.AppCredential, roles: list[dict[str, Any]], base: str) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "description": c.description,
            "expires_at": isotime(c.expires_at) if c.expires_at else None,
            "project_id": c.project_id, "user_id": c.user_id,
            "roles": [{**r, "domain_id": None} for r in roles],
            "unrestricted": c.unrestricted, "access_rules": [],
            "links": {"self": f"{base}/v3/users/{c.user_id}/application_credentials/{c.id}"}}
