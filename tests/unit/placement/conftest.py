"""The real Placement app and database (SQLite in a temporary directory), reached
in-process through httpx; tokens are role names ("admin", "service", "member")."""

from __future__ import annotations

import httpx
import pytest

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.placement import api, policy
from pocketstack.placement.service import Placement
from pocketstack.placement.unit import MIGRATIONS

ROLES = {
    "admin": ["admin", "member", "reader"],
    "service": ["service"],
    "member": ["member", "reader"],
    "reader": ["reader"],
}


async def validate(token: str) -> RequestContext:
    if token not in ROLES:
        raise exc.Unauthorized("The request you have made requires authentication.")
    return RequestContext(user_id=f"{token}-user", project_id=f"{token}-project",
                          roles=ROLES[token], auth_token=token)


@pytest.fixture
async def placement(tmp_path):
    svc = Placement(Database(f"sqlite+aiosqlite:///{tmp_path}/placement.db", MIGRATIONS),
                    Enforcer(policy.DEFAULTS))
    await svc.start()
    yield svc
    await svc.stop()


@pytest.fixture
async def app(placement):
    return api.build_app(placement, validate)


@pytest.fixture
async def http(app):
    """An admin client at the newest microversion."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://placement.test",
        headers={"X-Auth-Token": "admin", "OpenStack-API-Version": "placement latest"},
    ) as client:
        yield client
