"""The volumes API against the real app, scheduler and manager (fake backend)."""

from __future__ import annotations

from tests.unit.volume.conftest import PROJECT_A, PROJECT_B


async def test_create_answers_creating_then_becomes_available(api):
    vol = await api.create_volume(1, name="v1", description="d", metadata={"k": "v"})
    assert vol["status"] == "creating"
    assert vol["size"] == 1 and vol["name"] == "v1" and vol["metadata"] == {"k": "v"}
    assert vol["volume_type"] == "__DEFAULT__"
    assert vol["links"][0]["href"].endswith(f"/v3/{PROJECT_A}/volumes/{vol['id']}")
    done = await api.wait_volume(vol["id"], "available")
    assert done["bootable"] == "false"
    assert done["os-vol-host-attr:host"].endswith("@fake#fake")


async def test_project_id_in_path_or_not(api):
    vol = await api.create_volume(1)
    with_project = await api.get(f"/v3/{PROJECT_A}/volumes/{vol['id']}")
    without = await api.get(f"/v3/volumes/{vol['id']}")
    assert with_project.status_code == without.status_code == 200
    assert with_project.json()["volume"]["id"] == vol["id"]
    other = await api.get(f"/v3/{PROJECT_B}/volumes/{vol['id']}")
    assert other.status_code == 400


async def test_another_project_cannot_see_or_touch(api):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "available")
    r = await api.get(f"/v3/volumes/{vol['id']}", user="bob")
    assert r.status_code == 404
    assert r.json()["itemNotFound"]["code"] == 404
    assert (await api.delete(f"/v3/volumes/{vol['id']}", user="bob")).status_code == 404
    listed = (await api.get("/v3/volumes/detail", user="bob")).json()["volumes"]
    assert listed == []
    mine = (await api.get("/v3/volumes", user="alice")).json()["volumes"]
    assert [v["id"] for v in mine] == [vol["id"]]


async def test_reader_cannot_create(api):
    r = await api.post("/v3/volumes", {"volume": {"size": 1}}, user="reader")
    assert r.status_code == 403
    assert "forbidden" in r.json()


async def test_no_token_is_401_but_versions_are_public(api):
    assert (await api.get("/v3/volumes", user=None)).status_code == 401
    r = await api.get("/", user=None, version=None)
    assert r.status_code == 300
    v = r.json()["versions"][0]
    assert v["id"] == "v3.0" and v["version"] == "3.44" and v["min_version"] == "3.0"
    assert (await api.get("/v3/", user=None)).status_code == 200
    assert (await api.get(f"/v3/{PROJECT_A}/", user=None)).status_code == 200


async def test_microversion_negotiation(api):
    r = await api.get("/v3/volumes", version="3.27")
    assert r.headers["OpenStack-API-Version"] == "volume 3.27"
    assert (await api.get("/v3/volumes", version="3.99")).status_code == 406
    r = await api.get("/v3/volumes", version="latest")
    assert r.headers["OpenStack-API-Version"] == "volume 3.44"


async def test_bad_input_is_400(api):
    for body in ({"volume": {"size": 0}}, {"volume": {"size": "x"}}, {"volume": {}},
                 {"nope": {}}, {"volume": {"size": 1, "metadata": {"k": 1}}}, [1]):
        r = await api.post("/v3/volumes", body)
        assert r.status_code == 400, (body, r.text)
        assert "badRequest" in r.json()
    r = await api.request("POST", "/v3/volumes", content=b"{not json",
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 400


async def test_update_metadata_and_filters(api):
    vol = await api.create_volume(1, name="one")
    await api.wait_volume(vol["id"], "available")
    r = await api.put(f"/v3/volumes/{vol['id']}", {"volume": {"name": "renamed",
                                                              "description": "x"}})
    assert r.status_code == 200 and r.json()["volume"]["name"] == "renamed"
    r = await api.post(f"/v3/volumes/{vol['id']}/metadata", {"metadata": {"a": "1"}})
    assert r.json()["metadata"] == {"a": "1"}
    r = await api.put(f"/v3/volumes/{vol['id']}/metadata/b", {"meta": {"b": "2"}})
    assert r.status_code == 200
    r = await api.get(f"/v3/volumes/{vol['id']}/metadata")
    assert r.json()["metadata"] == {"a": "1", "b": "2"}
    assert (await api.delete(f"/v3/volumes/{vol['id']}/metadata/a")).status_code == 200
    assert (await api.get(f"/v3/volumes/{vol['id']}/metadata/a")).status_code == 404
    r = await api.get("/v3/volumes/detail", params={"name": "renamed"})
    assert [v["id"] for v in r.json()["volumes"]] == [vol["id"]]
    r = await api.get("/v3/volumes/detail", params={"metadata": '{"b": "2"}'})
    assert [v["id"] for v in r.json()["volumes"]] == [vol["id"]]
    r = await api.get("/v3/volumes/detail", params={"status": "error"})
    assert r.json()["volumes"] == []


async def test_paging(api):
    ids = [(await api.create_volume(1))["id"] for _ in range(3)]
    r = await api.get("/v3/volumes", params={"limit": 2})
    page1 = r.json()
    assert len(page1["volumes"]) == 2 and page1["volumes_links"][0]["rel"] == "next"
    r = await api.get("/v3/volumes", params={"limit": 2, "marker": page1["volumes"][-1]["id"]})
    seen = [v["id"] for v in page1["volumes"]] + [v["id"] for v in r.json()["volumes"]]
    assert sorted(seen) == sorted(ids)


async def test_delete(api):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "available")
    r = await api.delete(f"/v3/volumes/{vol['id']}")
    assert r.status_code == 202
    await api.wait_gone(f"/v3/volumes/{vol['id']}")
    assert api.unit.backend.volumes == {}


async def test_extend(api):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "available")
    r = await api.post(f"/v3/volumes/{vol['id']}/action", {"os-extend": {"new_size": 1}})
    assert r.status_code == 400
    r = await api.post(f"/v3/volumes/{vol['id']}/action", {"os-extend": {"new_size": 3}})
    assert r.status_code == 202
    done = await api.wait(f"/v3/volumes/{vol['id']}", "volume",
                          lambda v: v["status"] == "available" and v["size"] == 3)
    assert api.unit.backend.volumes[done["id"]] == 3


async def test_set_bootable_and_unknown_action(api):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "available")
    r = await api.post(f"/v3/volumes/{vol['id']}/action",
                       {"os-set_bootable": {"bootable": True}})
    assert r.status_code == 200
    assert (await api.get(f"/v3/volumes/{vol['id']}")).json()["volume"]["bootable"] == "true"
    r = await api.post(f"/v3/volumes/{vol['id']}/action", {"os-frobnicate": {}})
    assert r.status_code == 400


async def test_admin_actions_need_admin(api):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "available")
    path = f"/v3/volumes/{vol['id']}/action"
    r = await api.post(path, {"os-reset_status": {"status": "error"}})
    assert r.status_code == 403
    r = await api.post(path, {"os-reset_status": {"status": "error"}}, user="admin")
    assert r.status_code == 202
    assert (await api.get(f"/v3/volumes/{vol['id']}")).json()["volume"]["status"] == "error"
    r = await api.post(path, {"os-reset_status": {"status": "bogus"}}, user="admin")
    assert r.status_code == 400
    assert (await api.post(path, {"os-force_delete": {}})).status_code == 403
    assert (await api.post(path, {"os-force_delete": {}}, user="admin")).status_code == 202
    await api.wait_gone(f"/v3/volumes/{vol['id']}")


async def test_all_tenants_for_admin(api):
    vol = await api.create_volume(1)
    r = await api.get("/v3/volumes", user="admin")
    assert r.json()["volumes"] == []
    r = await api.get("/v3/volumes", user="admin", params={"all_tenants": "1"})
    assert [v["id"] for v in r.json()["volumes"]] == [vol["id"]]
    r = await api.get("/v3/volumes", user="bob", params={"all_tenants": "1"})
    assert r.json()["volumes"] == []


async def test_services_for_admin(api):
    assert (await api.get("/v3/os-services")).status_code == 403
    services = (await api.get("/v3/os-services", user="admin")).json()["services"]
    by_binary = {s["binary"]: s for s in services}
    assert set(by_binary) == {"cinder-scheduler", "cinder-volume"}
    assert by_binary["cinder-volume"]["host"].endswith("@fake")
    assert all(s["state"] == "up" and s["status"] == "enabled" for s in services)
