"""Tokens over HTTP: issue, validate, check, revoke, and core.auth's validator."""

from __future__ import annotations

import asyncio
import time

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


def test_revocation_reaches_another_identity_process(cloud, tmp_path):
    """Two identity processes on one PostgreSQL database (the scaled-out shape;
    the second here is an IdentityUnit in the test process, with its own caches):
    a token revoked through one stops validating on the other within a second or
    two, though the other had it cached."""
    if cloud.backend != "postgresql":
        pytest.skip("only a shared PostgreSQL database has two identity processes")
    import shutil

    from pocketstack import config
    from pocketstack.identity.unit import IdentityUnit
    from pocketstack.runtime import Runtime

    shutil.copytree(cloud.state_dir / "fernet-keys", tmp_path / "fernet-keys")
    cfg = config.load(state_dir=tmp_path, public_url=cloud.base_url,
                      database_url=cloud.env["POCKETSTACK_DATABASE_URL"])
    subject = cloud.token("pocketstack", fresh=True)
    check = {"X-Subject-Token": subject, "X-Auth-Token": cloud.token("pocketstack-admin")}

    async def go() -> None:
        unit = IdentityUnit(Runtime(cfg, httpx.AsyncClient()))
        await unit.start()
        transport = httpx.ASGITransport(app=unit.app, root_path="/identity")
        try:
            async with httpx.AsyncClient(transport=transport, base_url=cloud.base_url) as other:
                url = "/identity/v3/auth/tokens"
                assert (await other.get(url, headers=check)).status_code == 200
                with cloud.http() as first:
                    r = first.delete(url, headers={"X-Subject-Token": subject})
                    assert r.status_code == 204
                deadline = time.monotonic() + 10
                while (await other.get(url, headers=check)).status_code == 200:
                    assert time.monotonic() < deadline, "the other process still validates it"
                    await asyncio.sleep(0.2)
        finally:
            await unit.stop()

    asyncio.run(go())
