"""The auth middleware against a stand-in identity service (httpx.MockTransport)."""

import httpx
import pytest
from fastapi import Request

from pocketstack.core.auth import AuthMiddleware, ServiceCredentials, TokenValidator
from pocketstack.core.web import context, create_app, nova_errors

USER_TOKEN = {
    "token": {
        "user": {"id": "u1", "name": "alice", "domain": {"id": "default"}},
        "project": {"id": "p1", "name": "p1", "domain": {"id": "default"}},
        "roles": [{"id": "r1", "name": "member"}, {"id": "r2", "name": "reader"}],
        "expires_at": "2099-01-01T00:00:00.000000Z",
        "catalog": [],
    }
}


class FakeIdentity:
    """Answers service logins and validations; counts validations; can revoke."""

    def __init__(self):
        self.validations = 0
        self.valid = {"good-token"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            body = dict(USER_TOKEN["token"], user={"id": "svc", "name": "svc"})
            return httpx.Response(201, json={"token": body},
                                  headers={"X-Subject-Token": "service-token"})
        assert request.headers["X-Auth-Token"] == "service-token"
        self.validations += 1
        if request.headers["X-Subject-Token"] in self.valid:
            return httpx.Response(200, json=USER_TOKEN)
        return httpx.Response(404, json={"error": {"code": 404}})


@pytest.fixture
def identity():
    return FakeIdentity()


def make(identity, ttl=60.0):
    http = httpx.AsyncClient(transport=httpx.MockTransport(identity))
    validator = TokenValidator(http, "http://identity", ServiceCredentials("svc", "pw"),
                               cache_ttl=ttl)
    app = create_app("t", nova_errors)

    @app.get("/")
    async def root():
        return {"public": True}

    @app.get("/whoami")
    async def whoami(request: Request):
        ctx = context(request)
        return {"user": ctx.user_id, "project": ctx.project_id, "roles": ctx.roles,
                "rid": ctx.request_id}

    return validator, AuthMiddleware(app, validator.validate, nova_errors)


async def get(app, path, **headers):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as c:
        return await c.get(path, headers=headers)


async def test_valid_token_builds_the_context(identity):
    _, app = make(identity)
    r = await get(app, "/whoami", **{"X-Auth-Token": "good-token"})
    assert r.status_code == 200
    body = r.json()
    assert (body["user"], body["project"], body["roles"]) == ("u1", "p1", ["member", "reader"])
    assert body["rid"] == r.headers["x-openstack-request-id"]


async def test_missing_or_bad_token_is_401_in_the_service_format(identity):
    _, app = make(identity)
    r = await get(app, "/whoami")
    assert r.status_code == 401 and r.json()["unauthorized"]["code"] == 401
    assert "x-openstack-request-id" in r.headers
    r = await get(app, "/whoami", **{"X-Auth-Token": "forged"})
    assert r.status_code == 401


async def test_public_paths_need_no_token(identity):
    _, app = make(identity)
    assert (await get(app, "/")).status_code == 200


async def test_validations_are_cached_and_can_be_invalidated(identity):
    validator, app = make(identity)
    for _ in range(5):
        assert (await get(app, "/whoami", **{"X-Auth-Token": "good-token"})).status_code == 200
    assert identity.validations == 1
    identity.valid.clear()
    validator.invalidate()
    assert (await get(app, "/whoami", **{"X-Auth-Token": "good-token"})).status_code == 401


async def test_no_cache_when_ttl_is_zero(identity):
    _, app = make(identity, ttl=0)
    for _ in range(3):
        await get(app, "/whoami", **{"X-Auth-Token": "good-token"})
    assert identity.validations == 3
