"""The identity REST API: one router per resource, assembled into one app."""

from __future__ import annotations

import importlib

from starlette.types import ASGIApp

from pocketstack.config import Config
from pocketstack.core.policy import Enforcer
from pocketstack.core.web import create_app, keystone_errors
from pocketstack.identity.middleware import IdentityAuth
from pocketstack.identity.service import Identity

# The resource modules, each with a `router`.
RESOURCES = ("versions", "tokens", "auth_info", "catalog", "domains", "projects", "users",
             "groups", "roles", "grants", "role_assignments", "app_creds")


def build_app(ident: Identity, enforcer: Enforcer, cfg: Config) -> ASGIApp:
    app = create_app("identity", keystone_errors, max_body=cfg.identity.max_request_body)
    app.state.identity, app.state.enforcer = ident, enforcer
    for name in RESOURCES:
        app.include_router(importlib.import_module(f"pocketstack.identity.api.{name}").router)
    return IdentityAuth(app, ident, enforcer)
