"""Sharing: visibility (public, private, shared, community), members and
their status, project isolation, and readers who cannot write."""

from __future__ import annotations


async def names(api, as_: str, query: str = "") -> list[str]:
    r = await api.get("/v2/images" + query, as_=as_)
    assert r.status_code == 200, r.text
    return sorted(i["name"] for i in r.json()["images"])


async def test_project_isolation(api):
    private = await api.create(name="mine", visibility="private")
    shared = await api.create(name="shared")
    for image in (private, shared):
        path = f"/v2/images/{image['id']}"
        assert (await api.get(path, as_="alt")).status_code == 404
        assert (await api.get(path + "/file", as_="alt")).status_code == 404
        assert (await api.patch(path, [{"op": "add", "path": "/k", "value": "v"}],
                                as_="alt")).status_code == 404
        assert (await api.delete(path, as_="alt")).status_code == 404
        assert (await api.get(path, as_="admin")).status_code == 200
    assert await names(api, "alt") == []
    assert await names(api, "alt", "?visibility=private") == []
    assert await names(api, "demo") == ["mine", "shared"]
    assert await names(api, "admin") == ["mine", "shared"]


async def test_reader_reads_but_cannot_write(api):
    image = await api.create(name="x")
    path = f"/v2/images/{image['id']}"
    assert (await api.get(path, as_="reader")).status_code == 200
    assert await names(api, "reader") == ["x"]
    assert (await api.patch(path, [{"op": "add", "path": "/k", "value": "v"}],
                            as_="reader")).status_code == 403
    assert (await api.delete(path, as_="reader")).status_code == 403
    assert (await api.post(path + "/members", json={"member": "p-alt"},
                           as_="reader")).status_code == 403


async def test_public_and_community_images(api):
    public = await api.create(as_="admin", name="pub", visibility="public")
    community = await api.create(name="comm", visibility="community")
    assert await names(api, "alt") == ["pub"]
    assert await names(api, "alt", "?visibility=community") == ["comm"]
    assert await names(api, "alt", "?visibility=all") == ["comm", "pub"]
    assert await names(api, "alt", "?visibility=public") == ["pub"]
    assert (await api.get(f"/v2/images/{community['id']}", as_="alt")).status_code == 200
    r = await api.patch(f"/v2/images/{public['id']}", [{"op": "add", "path": "/k",
                                                         "value": "v"}], as_="alt")
    assert r.status_code == 403
    assert (await api.delete(f"/v2/images/{public['id']}", as_="demo")).status_code == 403
    r = await api.get(f"/v2/images/{public['id']}/members", as_="admin")
    assert r.status_code == 403


async def test_members_life_cycle(api):
    image = await api.create(name="s")
    path = f"/v2/images/{image['id']}"
    r = await api.post(path + "/members", json={"member": "p-alt"})
    assert r.status_code == 200
    member = r.json()
    assert member["member_id"] == "p-alt" and member["status"] == "pending"
    assert member["image_id"] == image["id"] and member["schema"] == "/v2/schemas/member"
    assert (await api.post(path + "/members", json={"member": "p-alt"})).status_code == 409
    assert (await api.post(path + "/members", json={})).status_code == 400

    # pending: the member can look at it, but it is not in the member's list
    assert (await api.get(path, as_="alt")).status_code == 200
    assert await names(api, "alt") == []
    assert await names(api, "alt", "?member_status=pending") == ["s"]
    listed = (await api.get(path + "/members")).json()
    assert [m["member_id"] for m in listed["members"]] == ["p-alt"]
    assert listed["schema"] == "/v2/schemas/members"

    # only the member decides on its membership
    r = await api.put(path + "/members/p-alt", json={"status": "accepted"}, as_="demo")
    assert r.status_code == 403
    r = await api.put(path + "/members/p-alt", json={"status": "maybe"}, as_="alt")
    assert r.status_code == 400
    r = await api.put(path + "/members/p-alt", json={"status": "accepted"}, as_="alt")
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert await names(api, "alt") == ["s"]
    assert (await api.get(path + "/members/p-alt", as_="alt")).json()["status"] == "accepted"

    r = await api.put(path + "/members/p-alt", json={"status": "rejected"}, as_="alt")
    assert r.json()["status"] == "rejected"
    assert await names(api, "alt") == []
    assert await names(api, "alt", "?member_status=rejected") == ["s"]

    # the member cannot add others, nor remove itself; the owner removes it
    r = await api.post(path + "/members", json={"member": "p-third"}, as_="alt")
    assert r.status_code == 403
    assert (await api.delete(path + "/members/p-alt", as_="alt")).status_code == 403
    assert (await api.delete(path + "/members/p-alt")).status_code == 204
    assert (await api.get(path, as_="alt")).status_code == 404
    assert (await api.get(path + "/members/p-alt")).status_code == 404


async def test_member_sees_only_its_own_membership(api):
    image = await api.create(name="s")
    path = f"/v2/images/{image['id']}"
    for project in ("p-alt", "p-third"):
        await api.post(path + "/members", json={"member": project})
    mine = (await api.get(path + "/members", as_="alt")).json()["members"]
    assert [m["member_id"] for m in mine] == ["p-alt"]
    assert (await api.get(path + "/members/p-third", as_="alt")).status_code == 404
    assert len((await api.get(path + "/members", as_="admin")).json()["members"]) == 2


async def test_only_shared_images_have_members(api):
    image = await api.create(name="p", visibility="private")
    r = await api.post(f"/v2/images/{image['id']}/members", json={"member": "p-alt"})
    assert r.status_code == 403 and "shared" in r.json()["message"]


async def test_accepted_member_downloads(api):
    image = await api.create(name="s")
    await api.upload(image["id"], b"shared bytes")
    path = f"/v2/images/{image['id']}"
    await api.post(path + "/members", json={"member": "p-alt"})
    await api.put(path + "/members/p-alt", json={"status": "accepted"}, as_="alt")
    assert (await api.get(path + "/file", as_="alt")).content == b"shared bytes"
    assert (await api.upload(image["id"], b"x", as_="alt")).status_code in (403, 409)
    assert (await api.delete(path, as_="alt")).status_code == 403
