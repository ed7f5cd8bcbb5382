"""Images API (metadata): create, show, list, update, delete, tags, errors —
in the order of Glance's API reference."""

from __future__ import annotations

import pytest


async def test_versions_are_public_and_glance_shaped(api):
    root = await api.get("/", as_=None)
    assert root.status_code == 300
    versions = root.json()["versions"]
    assert versions[0]["status"] == "CURRENT" and versions[0]["id"].startswith("v2.")
    assert versions[0]["links"][0]["href"].endswith("/v2/")
    listed = await api.get("/versions", as_=None)
    assert listed.status_code == 200 and listed.json() == root.json()


async def test_api_needs_a_token_and_errors_are_glance_shaped(api):
    r = await api.get("/v2/images", as_=None)
    assert r.status_code == 401
    assert r.json()["code"] == "401 Unauthorized" and r.json()["title"] == "Unauthorized"
    r = await api.get("/v2/images", as_="nobody")
    assert r.status_code == 401
    r = await api.get("/v2/images/0c0ffee0-0000-0000-0000-000000000000")
    assert r.status_code == 404
    assert r.json() == {"code": "404 Not Found", "title": "Not Found",
                        "message": "No image found with ID 0c0ffee0-0000-0000-0000-000000000000"}
    assert "x-openstack-request-id" in r.headers


@pytest.mark.parametrize("name", ["image", "images", "member", "members"])
async def test_schemas(api, name):
    r = await api.get(f"/v2/schemas/{name}")
    assert r.status_code == 200 and r.json()["name"] == name
    assert "properties" in r.json()


async def test_create_image_with_defaults(api):
    r = await api.post("/v2/images", json={"name": "one", "disk_format": "qcow2",
                                           "container_format": "bare", "tags": ["a", "a", "b"],
                                           "os_distro": "cirros"})
    assert r.status_code == 201
    assert r.headers["OpenStack-image-import-methods"] == "glance-direct"
    image = r.json()
    assert r.headers["Location"] == f"/v2/images/{image['id']}"
    assert image["status"] == "queued" and image["visibility"] == "shared"
    assert image["owner"] == "p-demo" and image["protected"] is False
    assert image["os_hidden"] is False and image["min_disk"] == 0 and image["min_ram"] == 0
    assert image["size"] is None and image["checksum"] is None and image["virtual_size"] is None
    assert image["tags"] == ["a", "b"] and image["os_distro"] == "cirros"
    assert image["self"] == f"/v2/images/{image['id']}"
    assert image["file"] == f"/v2/images/{image['id']}/file"
    assert image["schema"] == "/v2/schemas/image"
    assert image["created_at"].endswith("Z")
    shown = await api.get(f"/v2/images/{image['id']}")
    assert shown.json() == image


async def test_create_with_id_and_duplicate_id(api):
    wanted = "5c2a3d7e-6c43-4d5c-9d0b-6a2f4f35e0a1"
    assert (await api.create(id=wanted))["id"] == wanted
    r = await api.post("/v2/images", json={"id": wanted})
    assert r.status_code == 409


@pytest.mark.parametrize("body,status", [
    ({"disk_format": "floppy"}, 400),
    ({"container_format": "zip"}, 400),
    ({"visibility": "everyone"}, 400),
    ({"min_ram": -1}, 400),
    ({"min_disk": "2"}, 400),
    ({"protected": "yes"}, 400),
    ({"name": "x" * 256}, 400),
    ({"id": "not-a-uuid"}, 400),
    ({"tags": "a"}, 400),
    ({"custom": 5}, 400),
    ({"status": "active"}, 403),
    ({"size": 5}, 403),
    ({"checksum": "00"}, 403),
    ({"os_glance_import_task": "x"}, 403),
    ({"owner": "p-alt"}, 403),
    ({"visibility": "public"}, 403),
    ([1, 2], 400),
])
async def test_create_refuses_bad_bodies(api, body, status):
    r = await api.post("/v2/images", json=body)
    assert r.status_code == status, r.text
    assert r.json()["code"].startswith(str(status))


async def test_create_refuses_malformed_json_and_readers(api):
    r = await api.post("/v2/images", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = await api.post("/v2/images", json={"name": "x"}, as_="reader")
    assert r.status_code == 403


async def test_only_admin_publishes_and_sets_owner(api):
    public = await api.create(as_="admin", name="pub", visibility="public")
    assert public["visibility"] == "public"
    other = await api.create(as_="admin", name="theirs", owner="p-alt")
    assert other["owner"] == "p-alt"
    community = await api.create(name="comm", visibility="community")
    assert community["visibility"] == "community"


async def test_update_with_json_patch(api):
    image = await api.create(name="old")
    path = f"/v2/images/{image['id']}"
    r = await api.patch(path, [
        {"op": "replace", "path": "/name", "value": "new"},
        {"op": "add", "path": "/k", "value": "v"},
        {"op": "add", "path": "/a~1b", "value": "slash"},
        {"op": "replace", "path": "/min_ram", "value": 512},
        {"op": "add", "path": "/protected", "value": True},
        {"op": "replace", "path": "/tags", "value": ["x", "y"]},
    ])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "new" and body["k"] == "v" and body["a/b"] == "slash"
    assert body["min_ram"] == 512 and body["protected"] is True and body["tags"] == ["x", "y"]
    r = await api.patch(path, [{"op": "replace", "path": "/k", "value": "w"},
                               {"op": "remove", "path": "/a~1b"}])
    assert r.json()["k"] == "w" and "a/b" not in r.json()
    assert (await api.get(path)).json()["k"] == "w"


@pytest.mark.parametrize("ops,status", [
    ([{"op": "remove", "path": "/name"}], 403),
    ([{"op": "replace", "path": "/status", "value": "active"}], 403),
    ([{"op": "replace", "path": "/missing", "value": "x"}], 409),
    ([{"op": "remove", "path": "/missing"}], 409),
    ([{"op": "move", "path": "/name", "from": "/x"}], 400),
    ([{"op": "add", "path": "/name"}], 400),
    ([{"op": "add", "path": "/locations/-", "value": {"url": "file:///etc/passwd"}}], 403),
    ([{"op": "add", "path": "/a/b", "value": "x"}], 400),
    ([{"op": "add", "path": "/visibility", "value": "public"}], 403),
    ([{"op": "add", "path": "/owner", "value": "p-alt"}], 403),
    ([{"op": "add", "path": "/k", "value": 1}], 400),
    ({"op": "add"}, 400),
])
async def test_update_refuses_bad_patches(api, ops, status):
    image = await api.create(name="x")
    r = await api.patch(f"/v2/images/{image['id']}", ops)
    assert r.status_code == status, r.text
    assert (await api.get(f"/v2/images/{image['id']}")).json()["name"] == "x"


async def test_update_needs_the_patch_media_type(api):
    image = await api.create()
    r = await api.patch(f"/v2/images/{image['id']}", [], headers={"Content-Type":
                                                                  "application/json"})
    assert r.status_code == 415


async def test_delete_image_and_protection(api):
    image = await api.create(protected=True)
    path = f"/v2/images/{image['id']}"
    assert (await api.delete(path)).status_code == 403
    await api.patch(path, [{"op": "replace", "path": "/protected", "value": False}])
    assert (await api.delete(path)).status_code == 204
    assert (await api.get(path)).status_code == 404
    assert (await api.delete(path)).status_code == 404


async def test_tags(api):
    image = await api.create()
    path = f"/v2/images/{image['id']}"
    assert (await api.put(path + "/tags/red")).status_code == 204
    assert (await api.put(path + "/tags/red")).status_code == 204
    assert (await api.put(path + "/tags/blue")).status_code == 204
    assert (await api.get(path)).json()["tags"] == ["blue", "red"]
    assert (await api.delete(path + "/tags/red")).status_code == 204
    assert (await api.delete(path + "/tags/red")).status_code == 404
    assert (await api.put(path + "/tags/green", as_="alt")).status_code == 404
    assert (await api.put(path + "/tags/green", as_="reader")).status_code == 403


async def test_list_filters(api):
    a = await api.create(name="alpha", disk_format="qcow2", tags=["t1", "t2"], color="red")
    b = await api.create(name="beta", tags=["t1"], color="blue", min_ram=64)
    hidden = await api.create(name="gamma", os_hidden=True)

    async def names(query: str) -> list[str]:
        r = await api.get("/v2/images" + query)
        assert r.status_code == 200, r.text
        return sorted(i["name"] for i in r.json()["images"])

    assert await names("") == ["alpha", "beta"]
    assert await names("?name=alpha") == ["alpha"]
    assert await names("?name=in:alpha,beta") == ["alpha", "beta"]
    assert await names("?tag=t1") == ["alpha", "beta"]
    assert await names("?tag=t1&tag=t2") == ["alpha"]
    assert await names("?color=blue") == ["beta"]
    assert await names("?disk_format=qcow2") == ["alpha"]
    assert await names("?status=queued") == ["alpha", "beta"]
    assert await names("?status=active") == []
    assert await names("?os_hidden=true") == ["gamma"]
    assert await names("?owner=p-demo") == ["alpha", "beta"]
    assert await names("?visibility=shared") == ["alpha", "beta"]
    assert await names("?visibility=private") == []
    assert await names(f"?id={a['id']}") == ["alpha"]
    assert await names("?created_at=gte:2000-01-01T00:00:00Z") == ["alpha", "beta"]
    assert await names("?created_at=lt:2000-01-01T00:00:00Z") == []
    assert hidden["os_hidden"] is True and b["min_ram"] == 64


@pytest.mark.parametrize("query", ["?limit=x", "?limit=-1", "?sort_key=bogus", "?sort_dir=up",
                                   "?sort=name:sideways", "?sort=name&sort_key=name",
                                   "?visibility=everyone", "?member_status=maybe",
                                   "?size_min=big", "?os_hidden=perhaps",
                                   "?created_at=gt:yesterday", "?marker=nope"])
async def test_list_refuses_bad_queries(api, query):
    r = await api.get("/v2/images" + query)
    assert r.status_code == 400, r.text


async def test_list_sorting_and_paging(api):
    for name in ["c", "a", "e", "b", "d"]:
        await api.create(name=name)
    r = await api.get("/v2/images?sort_key=name&sort_dir=asc")
    assert [i["name"] for i in r.json()["images"]] == ["a", "b", "c", "d", "e"]
    r = await api.get("/v2/images?sort=name:desc")
    assert [i["name"] for i in r.json()["images"]] == ["e", "d", "c", "b", "a"]
    seen, url = [], "/v2/images?sort=name:asc&limit=2"
    while url:
        page = (await api.get(url)).json()
        assert page["first"] == "/v2/images" and len(page["images"]) <= 2
        seen += [i["name"] for i in page["images"]]
        url = page.get("next")
    assert seen == ["a", "b", "c", "d", "e"]
    r = await api.get("/v2/images")
    assert [i["name"] for i in r.json()["images"]] == ["d", "b", "e", "a", "c"]


async def test_default_page_is_25_with_a_next_link(api):
    for i in range(26):
        await api.create(name=f"i{i:02d}")
    page = (await api.get("/v2/images")).json()
    assert len(page["images"]) == 25 and "limit=25" in page["next"]
    rest = (await api.get(page["next"])).json()
    assert [i["name"] for i in rest["images"]] == ["i00"] and "next" not in rest


async def test_deactivate_and_reactivate(api):
    image = await api.create()
    path = f"/v2/images/{image['id']}"
    assert (await api.post(path + "/actions/deactivate")).status_code == 403  # queued
    await api.upload(image["id"], b"data")
    assert (await api.post(path + "/actions/deactivate", as_="reader")).status_code == 403
    assert (await api.post(path + "/actions/deactivate")).status_code == 204
    assert (await api.get(path)).json()["status"] == "deactivated"
    r = await api.get(path + "/file")
    assert r.status_code == 403 and "deactivated" in r.json()["message"]
    assert (await api.get(path + "/file", as_="admin")).content == b"data"
    assert (await api.post(path + "/actions/reactivate")).status_code == 204
    assert (await api.get(path)).json()["status"] == "active"
    assert (await api.get(path + "/file")).content == b"data"


async def test_info_endpoints(api):
    r = await api.get("/v2/info/import")
    assert r.json()["import-methods"]["value"] == ["glance-direct"]
    r = await api.get("/v2/info/stores")
    assert r.json()["stores"][0]["id"] == "file" and r.json()["stores"][0]["default"] is True
    await api.create()
    usage = (await api.get("/v2/info/usage")).json()["usage"]
    assert usage["image_count_total"]["usage"] == 1


async def test_unknown_route_and_method(api):
    assert (await api.get("/v2/nothing")).status_code == 404
    assert (await api.call("PUT", "/v2/images")).status_code == 405
