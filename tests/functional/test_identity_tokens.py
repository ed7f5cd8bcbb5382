"""Tokens over HTTP: issue, validate, check, revoke, and core.auth's validator."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from pocketstack.core import exceptions as exc
from pocketstack.core.auth import ServiceCredentials, TokenValidator


@pytest.fixture
def cloud(backend_cloud):
    """These tests run on SQLite and on PostgreSQL."""
    return backend_cloud

def test_validate_check_and_revoke(cloud):
    subject = cloud.token("pocketstack", fresh=True)
    with cloud.http() as http:
        r = http.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": subject})
        assert r.status_code == 200, r.text
        t = r.json()["token"]
        assert t["user"]["name"] == "demo" and t["project"]["name"] == "demo"
        assert {"member", "reader"} <= {x["name"] for x in t["roles"]}
        assert t["methods"] == ["password"] and t["catalog"]
        assert t["expires_at"].endswith("Z") and len(t["audit_ids"]) == 1
        r = http.get("/identity/v3/auth/tokens?nocatalog",
                     headers={"X-Subject-Token": subject})
        assert "catalog" not in r.json()["token"]
        assert http.head("/identity/v3/auth/tokens",
                         headers={"X-Subject-Token": subject}).status_code == 200
        assert http.delete("/identity/v3/auth/tokens",
                           headers={"X-Subject-Token": subject}).status_code == 204
        r = http.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": subject})
        assert r.status_code == 404
        assert r.json()["error"]["code"] == 404
    with cloud.http(token=subject) as http:
        r = http.get("/identity/v3/auth/catalog")
        assert r.status_code == 401 and r.json()["error"]["title"] == "Unauthorized"


def test_bad_credentials_get_keystones_401(cloud):
    body = cloud.auth_body("pocketstack")
    body["auth"]["identity"]["password"]["user"]["password"] = "wrong"
    r = httpx.post(cloud.identity_url + "/auth/tokens", json=body)
    assert r.status_code == 401
    assert r.json() == {"error": {"code": 401, "title": "Unauthorized", "message":
                                  "The request you have made requires authentication."}}


def test_token_validator_against_live_identity(cloud):
    """What every other service does: core.auth.TokenValidator over HTTP."""
    passwords = (cloud.state_dir / "identity-passwords.json").read_text()
    import json

    creds = ServiceCredentials("pocketstack", json.loads(passwords)["pocketstack"])

    async def go() -> None:
        async with httpx.AsyncClient() as http:
            validator = TokenValidator(http, cloud.base_url + "/identity", creds, cache_ttl=0)
            subject = cloud.token("pocketstack", fresh=True)
            ctx = await validator.validate(subject)
            assert ctx.user_name == "demo" and "member" in ctx.roles
            with cloud.http() as admin:
                admin.delete("/identity/v3/auth/tokens", headers={"X-Subject-Token": subject})
            try:
                await validator.validate(subject)
            except exc.Unauthorized:
                pass
            else:
                raise AssertionError("a revoked token still validates")

    asyncio.run(go())
