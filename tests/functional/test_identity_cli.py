"""The identity service through the real `openstack` CLI (the issue's "done when")."""

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
