"""RequestContext: who is asking, for which project, with which roles.

Built by the auth middleware from a validated token, passed to every service
call, and carried inside every RPC message (it is a pydantic model, so it
round-trips through JSON unchanged).
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


def new_request_id() -> str:
    return f"req-{uuid.uuid4()}"


class RequestContext(BaseModel):
    user_id: str | None = None
    user_name: str | None = None
    user_domain_id: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None  # set for a domain-scoped token
    system_scope: str | None = None  # "all" for a system-scoped token
    roles: list[str] = Field(default_factory=list)
    auth_token: str | None = None
    request_id: str = Field(default_factory=new_request_id)
    global_request_id: str | None = None
    trace_id: str | None = None
    service_catalog: list[dict] = Field(default_factory=list)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def policy_creds(self) -> dict[str, object]:
        """The attributes policy rules can test (`role:`, `project_id:` ...)."""
        return {
            "user_id": self.user_id,
            "project_id": self.project_id,
            "domain_id": self.domain_id,
            "user_domain_id": self.user_domain_id,
            "project_domain_id": self.project_domain_id,
            "system_scope": self.system_scope,
            "roles": self.roles,
        }

    @classmethod
    def admin(cls, **kw: object) -> RequestContext:
        """An internal admin context for bootstrap and periodic tasks."""
        return cls(roles=["admin", "member", "reader"], system_scope="all", **kw)
