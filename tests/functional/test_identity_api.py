"""The identity API over HTTP, read like Keystone's API reference: groups,
implied roles, assignments and their filters, scopes, revocation by state
changes, lockout, key rotation, bad input and policy."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import pytest

V3 = "/identity/v3"



@pytest.fixture
def cloud(backend_cloud):
    """These tests run on SQLite and on PostgreSQL."""
    return backend_cloud

def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def login(cloud, user: str, password: str, scope: dict[str, Any] | None = None,
          domain: str = "default") -> httpx.Response:
    body: dict[str, Any] = {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": user, "password": password, "domain": {"id": domain}}}}}}
    if scope is not None:
        body["auth"]["scope"] = scope
    return httpx.post(cloud.identity_url + "/auth/tokens", json=body)


def token_for(cloud, user: str, password: str, scope: dict[str, Any] | None = None) -> str:
    r = login(cloud, user, password, scope)
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"]


def project_scope(project_id: str) -> dict[str, Any]:
    return {"project": {"id": project_id}}


def create(http: httpx.Client, kind: str, **fields: Any) -> dict[str, Any]:
    r = http.post(f"{V3}/{kind}s", json={kind: fields})
    assert r.status_code == 201, r.text
    return r.json()[kind]


def validate(http: httpx.Client, token: str) -> httpx.Response:
    return http.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": token})


def member_of_new_project(http: httpx.Client, role: str = "member",
                          password: str = "pw") -> tuple[dict, dict]:
    """(project, user) with `role` on the project."""
    project = create(http, "project", name=unique("proj"))
    user = create(http, "user", name=unique("user"), password=password,
                  default_project_id=project["id"])
    role_id = http.get(f"{V3}/roles", params={"name": role}).json()["roles"][0]["id"]
    r = http.put(f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{role_id}")
    assert r.status_code == 204, r.text
    return project, user



def role_id(http: httpx.Client, name: str) -> str:
    return http.get(f"{V3}/roles", params={"name": name}).json()["roles"][0]["id"]


def test_groups_give_roles_and_removal_ends_them(cloud):
    with cloud.http() as http:
        project = create(http, "project", name=unique("gp"))
        user = create(http, "user", name=unique("gu"), password="pw")
        group = create(http, "group", name=unique("g"), description="testers")
        assert group["domain_id"] == "default"
        members = f"{V3}/groups/{group['id']}/users/{user['id']}"
        assert http.put(members).status_code == 204
        assert http.head(members).status_code == 204
        assert [u["id"] for u in http.get(f"{V3}/groups/{group['id']}/users").json()["users"]] \
            == [user["id"]]
        assert [g["id"] for g in http.get(f"{V3}/users/{user['id']}/groups").json()["groups"]] \
            == [group["id"]]
        grant = f"{V3}/projects/{project['id']}/groups/{group['id']}/roles/" \
                f"{role_id(http, 'member')}"
        assert http.put(grant).status_code == 204
        token = token_for(cloud, user["name"], "pw", project_scope(project["id"]))
        assert validate(http, token).status_code == 200
        assert http.delete(members).status_code == 204
        assert http.head(members).status_code == 404
        assert validate(http, token).status_code == 404
        assert http.delete(f"{V3}/groups/{group['id']}").status_code == 204
        assert http.get(f"{V3}/groups/{group['id']}").status_code == 404


def test_implied_roles(cloud):
    with cloud.http() as http:
        prior = create(http, "role", name=unique("prior"))
        implied = create(http, "role", name=unique("implied"))
        rule = f"{V3}/roles/{prior['id']}/implies/{implied['id']}"
        r = http.put(rule)
        assert r.status_code == 201
        assert r.json()["role_inference"]["implies"]["id"] == implied["id"]
        assert http.head(rule).status_code == 204
        assert http.get(rule).json()["role_inference"]["prior_role"]["id"] == prior["id"]
        listed = http.get(f"{V3}/roles/{prior['id']}/implies").json()["role_inference"]
        assert [x["id"] for x in listed["implies"]] == [implied["id"]]
        loop = http.put(f"{V3}/roles/{implied['id']}/implies/{prior['id']}")
        assert loop.status_code == 403
        inferences = http.get(f"{V3}/role_inferences").json()["role_inferences"]
        names = {i["prior_role"]["name"]: [x["name"] for x in i["implies"]] for i in inferences}
        assert names["admin"] == ["member"] and names["member"] == ["reader"]
        project = create(http, "project", name=unique("ip"))
        user = create(http, "user", name=unique("iu"), password="pw")
        assert http.put(f"{V3}/projects/{project['id']}/users/{user['id']}/roles/"
                        f"{prior['id']}").status_code == 204
        token = token_for(cloud, user["name"], "pw", project_scope(project["id"]))
        roles = {x["name"] for x in validate(http, token).json()["token"]["roles"]}
        assert roles == {prior["name"], implied["name"]}
        assert http.delete(rule).status_code == 204
        assert http.get(rule).status_code == 404
        roles = {x["name"] for x in validate(http, token).json()["token"]["roles"]}
        assert roles == {prior["name"]}


def test_role_assignment_filters(cloud):
    with cloud.http() as http:
        parent = create(http, "project", name=unique("parent"))
        child = create(http, "project", name=unique("child"), parent_id=parent["id"])
        assert child["parent_id"] == parent["id"]
        user = create(http, "user", name=unique("au"), password="pw")
        group = create(http, "group", name=unique("ag"))
        http.put(f"{V3}/groups/{group['id']}/users/{user['id']}")
        admin_role, member_role = role_id(http, "admin"), role_id(http, "member")
        http.put(f"{V3}/projects/{parent['id']}/users/{user['id']}/roles/{member_role}")
        http.put(f"{V3}/projects/{child['id']}/groups/{group['id']}/roles/{admin_role}")

        def listing(**params: str) -> list[dict]:
            r = http.get(f"{V3}/role_assignments", params=params)
            assert r.status_code == 200, r.text
            return r.json()["role_assignments"]

        direct = listing(**{"user.id": user["id"]})
        assert [(a["role"]["id"], a["scope"]["project"]["id"]) for a in direct] == [
            (member_role, parent["id"])]
        assert len(listing(**{"group.id": group["id"]})) == 1
        assert listing(**{"scope.project.id": parent["id"]})[0]["user"]["id"] == user["id"]
        assert len(listing(**{"scope.project.id": parent["id"], "include_subtree": "true"})) == 2
        assert listing(**{"role.id": admin_role, "scope.project.id": child["id"]})[0][
            "group"]["id"] == group["id"]
        effective = listing(**{"user.id": user["id"], "effective": ""})
        got = {(a["role"]["id"], a["scope"]["project"]["id"]) for a in effective}
        reader_role = role_id(http, "reader")
        assert got == {(member_role, parent["id"]), (reader_role, parent["id"]),
                       (admin_role, child["id"]), (member_role, child["id"]),
                       (reader_role, child["id"])}
        via_group = [a for a in effective if a["scope"]["project"]["id"] == child["id"]]
        assert all("membership" in a["links"] for a in via_group)
        named = listing(**{"user.id": user["id"], "include_names": "1"})[0]
        assert named["user"]["name"] == user["name"]
        assert named["scope"]["project"]["domain"]["name"] == "Default"
        system = listing(**{"scope.system": "all"})
        assert any(a["role"]["id"] == admin_role for a in system)
        bad = http.get(f"{V3}/role_assignments", params={"user.id": "a", "group.id": "b"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == 400


def test_system_and_domain_scopes(cloud):
    admin_password = cloud.clouds()["pocketstack-admin"]["auth"]["password"]
    r = login(cloud, "admin", admin_password, {"system": {"all": True}})
    assert r.status_code == 201, r.text
    assert r.json()["token"]["system"] == {"all": True}
    assert "admin" in {x["name"] for x in r.json()["token"]["roles"]}
    with cloud.http(token=r.headers["X-Subject-Token"]) as http:
        assert http.get(f"{V3}/auth/system").json()["system"] == [{"all": True}]
        assert http.get(f"{V3}/users").status_code == 200
    with cloud.http() as http:
        domain = create(http, "domain", name=unique("dom"))
        user = create(http, "user", name=unique("du"), password="pw", domain_id=domain["id"])
        assert http.put(f"{V3}/domains/{domain['id']}/users/{user['id']}/roles/"
                        f"{role_id(http, 'reader')}").status_code == 204
    r = login(cloud, user["name"], "pw", {"domain": {"name": domain["name"]}},
              domain=domain["id"])
    assert r.status_code == 201, r.text
    assert r.json()["token"]["domain"]["id"] == domain["id"]
    with cloud.http(token=r.headers["X-Subject-Token"]) as http:
        assert [d["id"] for d in http.get(f"{V3}/auth/domains").json()["domains"]] == [
            domain["id"]]
    demo = login(cloud, "demo", cloud.clouds()["pocketstack"]["auth"]["password"],
                 {"system": {"all": True}})
    assert demo.status_code == 401


def test_rescoping_with_a_token(cloud):
    with cloud.http() as http:
        project, user = member_of_new_project(http)
    unscoped = token_for(cloud, user["name"], "pw", "unscoped")
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped}},
                     "scope": project_scope(project["id"])}}
    r = httpx.post(cloud.identity_url + "/auth/tokens", json=body)
    assert r.status_code == 201, r.text
    t = r.json()["token"]
    assert t["project"]["id"] == project["id"] and "token" in t["methods"]
    assert len(t["audit_ids"]) == 2


def test_disabled_user_and_deleted_project_end_tokens(cloud):
    with cloud.http() as http:
        project, user = member_of_new_project(http)
        token = token_for(cloud, user["name"], "pw", project_scope(project["id"]))
        assert validate(http, token).status_code == 200
        r = http.patch(f"{V3}/users/{user['id']}", json={"user": {"enabled": False}})
        assert r.status_code == 200 and r.json()["user"]["enabled"] is False
        assert validate(http, token).status_code == 404
        refused = login(cloud, user["name"], "pw")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == 401
        http.patch(f"{V3}/users/{user['id']}", json={"user": {"enabled": True}})
        assert validate(http, token).status_code == 404  # stays revoked

        token = token_for(cloud, user["name"], "pw", project_scope(project["id"]))
        assert validate(http, token).status_code == 200
        assert http.delete(f"{V3}/projects/{project['id']}").status_code == 204
        assert validate(http, token).status_code == 404


def test_removed_role_assignment_ends_token(cloud):
    with cloud.http() as http:
        project, user = member_of_new_project(http)
        token = token_for(cloud, user["name"], "pw", project_scope(project["id"]))
        grant = f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{role_id(http, 'member')}"
        assert http.head(grant).status_code == 204
        assert http.delete(grant).status_code == 204
        assert validate(http, token).status_code == 404
        assert http.head(grant).status_code == 404


def test_lockout(make_cloud, backend_env):
    # The lock lasts long enough to survive a loaded machine; the test waits it out once.
    c = make_cloud(env={"POCKETSTACK_IDENTITY_LOCKOUT_FAILURE_ATTEMPTS": "2",
                        "POCKETSTACK_IDENTITY_LOCKOUT_DURATION": "6", **backend_env})
    password = c.clouds()["pocketstack"]["auth"]["password"]
    assert login(c, "demo", "wrong").status_code == 401
    assert login(c, "demo", "wrong").status_code == 401
    locked_at = time.monotonic()
    locked = login(c, "demo", password)
    assert locked.status_code == 401
    assert "locked" in locked.json()["error"]["message"]
    time.sleep(max(0.0, 6.2 - (time.monotonic() - locked_at)))
    assert login(c, "demo", password).status_code == 201

def test_key_rotation_keeps_tokens_valid(cloud):
    old = cloud.token("pocketstack", fresh=True)
    before = sorted(p.name for p in (cloud.state_dir / "fernet-keys").iterdir())
    subprocess.run([sys.executable, "-m", "pocketstack.cli.main", "keys", "rotate",
                    "--state-dir", str(cloud.state_dir)], env=cloud.env, check=True,
                   capture_output=True)
    after = sorted(p.name for p in (cloud.state_dir / "fernet-keys").iterdir())
    assert after != before and len(after) == len(before) + 1
    time.sleep(1.2)  # the server looks at the key repository at most once a second
    new = cloud.token("pocketstack", fresh=True)
    assert new != old
    with cloud.http() as http:
        assert validate(http, old).status_code == 200
        assert validate(http, new).status_code == 200
    with cloud.http(token=old) as http:
        assert http.get(f"{V3}/auth/projects").status_code == 200


def test_bad_input_gets_keystone_errors(cloud):
    with cloud.http() as http:
        def error(r: httpx.Response, status: int) -> str:
            assert r.status_code == status, r.text
            body = r.json()["error"]
            assert body["code"] == status and body["title"] and body["message"]
            return body["message"]

        error(http.post(f"{V3}/projects", json={"project": {}}), 400)
        error(http.post(f"{V3}/projects", json={"project": {"name": 5}}), 400)
        error(http.post(f"{V3}/users", json={"user": {"name": "x", "enabled": "yes"}}), 400)
        error(http.post(f"{V3}/users", json=[1, 2]), 400)
        error(http.post(f"{V3}/users", content=b"{not json",
                        headers={"content-type": "application/json"}), 400)
        error(http.get(f"{V3}/users/nope"), 404)
        error(http.put(f"{V3}/projects/nope/users/nope/roles/nope"), 404)
        error(http.patch(f"{V3}/roles/nope", json={"role": {"name": "x"}}), 404)
        name = unique("dup")
        create(http, "project", name=name)
        error(http.post(f"{V3}/projects", json={"project": {"name": name}}), 409)
        create(http, "user", name=name)
        error(http.post(f"{V3}/users", json={"user": {"name": name}}), 409)
        big = {"project": {"name": "x", "description": "d" * 200_000}}
        error(http.post(f"{V3}/projects", json=big), 413)
        error(http.get(f"{V3}/no-such-thing"), 404)
        error(http.post(cloud.identity_url.removeprefix(cloud.base_url) + "/auth/tokens",
                        json={"auth": {}}), 400)
        error(http.post(f"{V3}/auth/tokens", json={"auth": {"identity": {
            "methods": ["password"], "password": {"user": {"name": "x"}}}}}), 400)
        error(http.post(f"{V3}/auth/tokens", json={"auth": {"identity": {
            "methods": ["password"], "password": {"user": {
                "name": "nobody", "password": "x", "domain": {"id": "default"}}}}}}), 401)
    with cloud.http(token="not-a-token") as http:
        error(http.get(f"{V3}/auth/projects"), 401)


def test_policy_member_manages_only_itself(cloud):
    with cloud.http() as http:
        project, user = member_of_new_project(http)
        other = create(http, "user", name=unique("other"), password="pw")
    token = token_for(cloud, user["name"], "pw", project_scope(project["id"]))
    with cloud.http(token=token) as http:
        assert http.get(f"{V3}/users/{user['id']}").status_code == 200
        assert http.get(f"{V3}/users/{other['id']}").status_code == 403
        assert http.get(f"{V3}/users").status_code == 403
        r = http.post(f"{V3}/projects", json={"project": {"name": unique("nope")}})
        assert r.status_code == 403 and r.json()["error"]["title"] == "Forbidden"
        assert http.get(f"{V3}/role_assignments").status_code == 403
        assert http.patch(f"{V3}/users/{user['id']}",
                          json={"user": {"enabled": False}}).status_code == 403
        mine = http.get(f"{V3}/users/{user['id']}/projects").json()["projects"]
        assert [p["id"] for p in mine] == [project["id"]]
        assert http.get(f"{V3}/projects/{project['id']}").status_code == 200
        assert [p["id"] for p in http.get(f"{V3}/auth/projects").json()["projects"]] == [
            project["id"]]
        creds = f"{V3}/users/{user['id']}/application_credentials"
        made = http.post(creds, json={"application_credential": {"name": "mine"}})
        assert made.status_code == 201, made.text
        assert http.post(f"{V3}/users/{other['id']}/application_credentials",
                         json={"application_credential": {"name": "x"}}).status_code == 403
        assert [c["name"] for c in http.get(creds).json()["application_credentials"]] == [
            "mine"]
        assert http.delete(f"{creds}/{made.json()['application_credential']['id']}"
                           ).status_code == 204


def test_password_change_needs_the_original(cloud):
    with cloud.http() as http:
        _, user = member_of_new_project(http)
    change = f"{cloud.identity_url}/users/{user['id']}/password"
    r = httpx.post(change, json={"user": {"password": "new", "original_password": "bad"}})
    assert r.status_code == 401
    r = httpx.post(change, json={"user": {"password": "new", "original_password": "pw"}})
    assert r.status_code == 204
    assert login(cloud, user["name"], "pw").status_code == 401
    assert login(cloud, user["name"], "new").status_code == 201


def test_application_credential_roles_and_expiry(cloud):
    with cloud.http() as http:
        project, user = member_of_new_project(http)
    token = token_for(cloud, user["name"], "pw", project_scope(project["id"]))
    creds = f"{V3}/users/{user['id']}/application_credentials"
    with cloud.http(token=token) as http:
        r = http.post(creds, json={"application_credential": {
            "name": "reader-only", "secret": "s3cret", "roles": [{"name": "reader"}]}})
        assert r.status_code == 201, r.text
        assert r.json()["application_credential"]["secret"] == "s3cret"
        r = http.post(creds, json={"application_credential": {
            "name": "too-much", "roles": [{"name": "admin"}]}})
        assert r.status_code == 403
        r = http.post(creds, json={"application_credential": {
            "name": "old", "expires_at": "2000-01-01T00:00:00Z"}})
        assert r.status_code == 400
    body = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {
                                      "name": "reader-only", "secret": "s3cret",
                                      "user": {"id": user["id"]}}}}}
    r = httpx.post(cloud.identity_url + "/auth/tokens", json=body)
    assert r.status_code == 201, r.text
    t = r.json()["token"]
    assert [x["name"] for x in t["roles"]] == ["reader"]
    assert t["application_credential"]["restricted"] is True
    assert t["project"]["id"] == project["id"]


def test_catalog_crud_reaches_tokens(cloud):
    with cloud.http() as http:
        region = http.put(f"{V3}/regions/{unique('Region')}", json={"region": {
            "description": "test"}})
        assert region.status_code == 201, region.text
        region = region.json()["region"]
        service = create(http, "service", type=unique("type"), name="svc")
        endpoint = create(http, "endpoint", service_id=service["id"], interface="public",
                          url="http://example.test/x", region_id=region["id"])
        assert endpoint["region"] == region["id"] and endpoint["enabled"] is True
        listed = http.get(f"{V3}/endpoints", params={"service_id": service["id"]}).json()
        assert [e["id"] for e in listed["endpoints"]] == [endpoint["id"]]
        catalog = http.get(f"{V3}/auth/catalog").json()["catalog"]
        entry = [s for s in catalog if s["id"] == service["id"]][0]
        assert entry["endpoints"][0]["url"] == "http://example.test/x"
        r = http.patch(f"{V3}/endpoints/{endpoint['id']}", json={"endpoint": {
            "url": "http://example.test/y"}})
        assert r.status_code == 200 and r.json()["endpoint"]["url"] == "http://example.test/y"
        token = cloud.token("pocketstack", fresh=True)
        body = validate(http, token).json()["token"]
        assert [s for s in body["catalog"] if s["id"] == service["id"]][0]["endpoints"][0][
            "url"] == "http://example.test/y"
        bad = http.post(f"{V3}/endpoints", json={"endpoint": {
            "service_id": service["id"], "interface": "sideways", "url": "http://x"}})
        assert bad.status_code == 400
        assert http.delete(f"{V3}/services/{service['id']}").status_code == 204
        assert http.get(f"{V3}/endpoints/{endpoint['id']}").status_code == 404
        assert http.delete(f"{V3}/regions/{region['id']}").status_code == 204
        assert http.get(f"{V3}/regions/{region['id']}").status_code == 404


def test_domain_life_cycle(cloud):
    with cloud.http() as http:
        domain = create(http, "domain", name=unique("d"))
        project = create(http, "project", name="p", domain_id=domain["id"])
        user = create(http, "user", name="u", password="pw", domain_id=domain["id"])
        assert http.put(f"{V3}/projects/{project['id']}/users/{user['id']}/roles/"
                        f"{role_id(http, 'member')}").status_code == 204
        r = login(cloud, "u", "pw", project_scope(project["id"]), domain=domain["id"])
        assert r.status_code == 201, r.text
        token = r.headers["X-Subject-Token"]
        assert http.delete(f"{V3}/domains/{domain['id']}").status_code == 403  # enabled
        r = http.patch(f"{V3}/domains/{domain['id']}", json={"domain": {"enabled": False}})
        assert r.status_code == 200 and r.json()["domain"]["enabled"] is False
        assert validate(http, token).status_code == 404
        assert http.delete(f"{V3}/domains/{domain['id']}").status_code == 204
        assert http.get(f"{V3}/projects/{project['id']}").status_code == 404
        assert http.get(f"{V3}/users/{user['id']}").status_code == 404


def test_project_tags_and_filters(cloud):
    with cloud.http() as http:
        tag = unique("tag")
        project = create(http, "project", name=unique("tagged"), tags=[tag])
        assert project["tags"] == [tag]
        assert http.put(f"{V3}/projects/{project['id']}/tags/extra").status_code == 201
        assert http.head(f"{V3}/projects/{project['id']}/tags/extra").status_code == 204
        tags = http.get(f"{V3}/projects/{project['id']}/tags").json()["tags"]
        assert tags == [tag, "extra"]
        found = http.get(f"{V3}/projects", params={"tags": tag}).json()["projects"]
        assert [p["id"] for p in found] == [project["id"]]
        assert http.delete(f"{V3}/projects/{project['id']}/tags/extra").status_code == 204
        assert http.get(f"{V3}/projects/{project['id']}/tags/extra").status_code == 404
        r = http.patch(f"{V3}/projects/{project['id']}", json={"project": {"enabled": False}})
        assert r.json()["project"]["enabled"] is False
        disabled = http.get(f"{V3}/projects", params={"enabled": "false"}).json()["projects"]
        assert project["id"] in [p["id"] for p in disabled]
        users = http.get(f"{V3}/users", params={"name": "demo"}).json()["users"]
        assert [u["name"] for u in users] == ["demo"] and "password" not in users[0]


def test_system_reader_reads_but_does_not_write(cloud):
    with cloud.http() as http:
        user = create(http, "user", name=unique("auditor"), password="pw")
        assert http.put(f"{V3}/system/users/{user['id']}/roles/"
                        f"{role_id(http, 'reader')}").status_code == 204
        listed = http.get(f"{V3}/system/users/{user['id']}/roles").json()["roles"]
        assert [r["name"] for r in listed] == ["reader"]
    token = token_for(cloud, user["name"], "pw", {"system": {"all": True}})
    with cloud.http(token=token) as http:
        assert http.get(f"{V3}/users").status_code == 200
        assert http.get(f"{V3}/role_assignments").status_code == 200
        assert http.post(f"{V3}/projects", json={"project": {"name": unique("x")}}
                         ).status_code == 403
        assert http.delete(f"{V3}/users/{user['id']}").status_code == 403
