"""The identity service through the real `openstack` CLI (the issue's "done when").

On the shared SQLite cloud only: each CLI run costs seconds; the same operations
run on PostgreSQL too in test_identity_api.py and test_identity_tokens.py."""

from __future__ import annotations


def test_token_issue(cloud):
    token = cloud.openstack("token", "issue")
    assert token["id"] and token["project_id"] and token["user_id"]


def test_catalog_list(cloud):
    catalog = {entry["Type"]: entry for entry in cloud.openstack("catalog", "list")}
    identity = catalog["identity"]
    assert identity["Name"] == "keystone"
    urls = {e["interface"]: e["url"] for e in identity["Endpoints"]}
    assert urls == {i: cloud.identity_url for i in ("public", "internal", "admin")}


def test_endpoint_list(cloud):
    endpoints = cloud.openstack("endpoint", "list", cloud="pocketstack-admin")
    identity = [e for e in endpoints if e["Service Type"] == "identity"]
    assert {e["Interface"] for e in identity} == {"public", "internal", "admin"}
    assert all(e["URL"] == cloud.identity_url and e["Region"] == "RegionOne" for e in identity)


def test_project_user_role_walk(cloud):
    """The issue's walk: an admin makes a project and a member; the member works
    in it, is refused admin things, changes her password (old token dies)."""
    admin = "pocketstack-admin"
    project = cloud.openstack("project", "create", "p1", cloud=admin)
    assert project["name"] == "p1" and project["domain_id"] == "default"
    user = cloud.openstack("user", "create", "--project", "p1", "--password", "s", "alice",
                           cloud=admin)
    assert user["name"] == "alice" and user["default_project_id"] == project["id"]
    assert "password" not in user
    cloud.openstack("role", "add", "--user", "alice", "--project", "p1", "member", cloud=admin)
    listed = cloud.openstack("role", "assignment", "list", "--user", "alice", "--names",
                             cloud=admin)
    assert [(a["Role"], a["User"], a["Project"]) for a in listed] == [
        ("member", "alice@Default", "p1@Default")]

    cloud.add_cloud("alice", "alice", "s", "p1")
    token = cloud.openstack("token", "issue", cloud="alice")
    assert token["project_id"] == project["id"] and token["user_id"] == user["id"]

    try:
        cloud.openstack("user", "list", cloud="alice")
    except AssertionError as err:
        assert "403" in str(err)
    else:
        raise AssertionError("a member listed the users")

    cloud.openstack("user", "password", "set", "--original-password", "s", "--password", "s2",
                    cloud="alice")
    with cloud.http(admin) as http:
        r = http.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": token["id"]})
        assert r.status_code == 404, r.text
    cloud.add_cloud("alice", "alice", "s2", "p1")
    assert cloud.openstack("token", "issue", cloud="alice")["user_id"] == user["id"]


def test_token_revoke(cloud):
    token = cloud.openstack("token", "issue")["id"]
    with cloud.http() as http:
        check = {"X-Subject-Token": token}
        assert http.get("/identity/v3/auth/tokens", headers=check).status_code == 200
        cloud.openstack("token", "revoke", token, cloud="pocketstack-admin")
        assert http.get("/identity/v3/auth/tokens", headers=check).status_code == 404
    with cloud.http(token=token) as http:
        assert http.get("/identity/v3/auth/projects").status_code == 401


def test_application_credential_login(cloud):
    shown = cloud.openstack("application", "credential", "create", "ci-cred")
    cred = {k.lower().replace(" ", "_"): v for k, v in shown.items()}
    assert {r["name"] for r in cred["roles"]} >= {"member", "reader"}
    assert cred["secret"] and cred["name"] == "ci-cred"
    auth = ["--os-auth-type", "v3applicationcredential",
            "--os-auth-url", cloud.base_url + "/identity",
            "--os-application-credential-id", cred["id"],
            "--os-application-credential-secret", cred["secret"]]
    token = cloud.openstack(*auth, "token", "issue", cloud=None)
    assert token["project_id"] == cred["project_id"]
    bad = auth[:-1] + ["wrong"]
    try:
        cloud.openstack(*bad, "token", "issue", cloud=None)
    except AssertionError as err:
        assert "401" in str(err)
    else:
        raise AssertionError("a wrong secret logged in")
