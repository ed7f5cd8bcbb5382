"""Snapshots, clones, volume types, attachments, quotas and failures, through the API."""

from __future__ import annotations

import pytest

from pocketstack.volume.backends.fake import FakeBackend
from tests.unit.volume.conftest import PROJECT_A


async def test_snapshot_then_volume_from_it(api):
    vol = await api.create_volume(2, name="v1")
    await api.wait_volume(vol["id"], "available")
    r = await api.post("/v3/snapshots", {"snapshot": {"volume_id": vol["id"], "name": "s1"}})
    assert r.status_code == 202, r.text
    snap = r.json()["snapshot"]
    assert snap["status"] == "creating" and snap["size"] == 2
    await api.wait(f"/v3/snapshots/{snap['id']}", "snapshot", "available")
    r = await api.post("/v3/volumes", {"volume": {"size": 1, "snapshot_id": snap["id"]}})
    assert r.status_code == 400  # smaller than the snapshot
    clone = await api.create_volume(None, snapshot_id=snap["id"], name="v3")
    assert clone["size"] == 2 and clone["snapshot_id"] == snap["id"]
    await api.wait_volume(clone["id"], "available")
    # a volume with snapshots cannot be deleted; the snapshot can
    assert (await api.delete(f"/v3/volumes/{vol['id']}")).status_code == 400
    assert (await api.delete(f"/v3/snapshots/{snap['id']}")).status_code == 202
    await api.wait_gone(f"/v3/snapshots/{snap['id']}")
    assert (await api.delete(f"/v3/volumes/{vol['id']}")).status_code == 202
    listed = (await api.get("/v3/snapshots/detail")).json()["snapshots"]
    assert listed == []


async def test_clone_volume(api):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "available")
    clone = await api.create_volume(2, source_volid=vol["id"])
    done = await api.wait_volume(clone["id"], "available")
    assert done["source_volid"] == vol["id"] and done["size"] == 2
    assert api.unit.backend.calls.count("clone_volume") == 1


async def test_snapshot_update_show_and_other_project(api):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "available")
    snap = (await api.post("/v3/snapshots", {"snapshot": {"volume_id": vol["id"]}})).json()
    sid = snap["snapshot"]["id"]
    r = await api.put(f"/v3/snapshots/{sid}", {"snapshot": {"name": "new"}})
    assert r.json()["snapshot"]["name"] == "new"
    assert (await api.get(f"/v3/snapshots/{sid}", user="bob")).status_code == 404
    r = await api.post("/v3/snapshots", {"snapshot": {"volume_id": vol["id"]}}, user="bob")
    assert r.status_code == 404


async def test_volume_types(api):
    r = await api.post("/v3/types", {"volume_type": {"name": "fast"}})
    assert r.status_code == 403
    r = await api.post("/v3/types", {"volume_type": {"name": "fast",
                                                     "extra_specs": {"k": "v"}}}, user="admin")
    assert r.status_code == 200, r.text
    fast = r.json()["volume_type"]
    assert fast["name"] == "fast" and fast["is_public"] is True
    r = await api.post("/v3/types", {"volume_type": {"name": "fast"}}, user="admin")
    assert r.status_code == 409
    names = [t["name"] for t in (await api.get("/v3/types")).json()["volume_types"]]
    assert names == ["__DEFAULT__", "fast"]
    assert (await api.get("/v3/types/default")).json()["volume_type"]["name"] == "__DEFAULT__"
    path = f"/v3/types/{fast['id']}/extra_specs"
    r = await api.post(path, {"extra_specs": {"a": "b"}}, user="admin")
    assert r.json()["extra_specs"] == {"a": "b"}
    r = await api.get(path, user="admin")
    assert r.json()["extra_specs"] == {"k": "v", "a": "b"}
    assert (await api.get(path + "/a", user="admin")).json() == {"a": "b"}
    assert (await api.delete(path + "/a", user="admin")).status_code == 202
    assert (await api.get(path + "/a", user="admin")).status_code == 404
    vol = await api.create_volume(1, volume_type="fast")
    assert vol["volume_type"] == "fast"
    await api.wait_volume(vol["id"], "available")
    r = await api.delete(f"/v3/types/{fast['id']}", user="admin")
    assert r.status_code == 400  # in use
    default_id = (await api.get("/v3/types/default")).json()["volume_type"]["id"]
    assert (await api.delete(f"/v3/types/{default_id}", user="admin")).status_code == 400
    r = await api.post("/v3/volumes", {"volume": {"size": 1, "volume_type": "nope"}})
    assert r.status_code == 404


async def test_private_type_access(api):
    r = await api.post("/v3/types", {"volume_type": {
        "name": "secret", "os-volume-type-access:is_public": False}}, user="admin")
    t = r.json()["volume_type"]
    assert t["is_public"] is False
    names = [x["name"] for x in (await api.get("/v3/types")).json()["volume_types"]]
    assert "secret" not in names
    r = await api.post(f"/v3/types/{t['id']}/action",
                       {"addProjectAccess": {"project": PROJECT_A}}, user="admin")
    assert r.status_code == 202
    names = [x["name"] for x in (await api.get("/v3/types")).json()["volume_types"]]
    assert "secret" in names
    assert [x["name"] for x in (await api.get("/v3/types", user="bob")).json()["volume_types"]
            ] == ["__DEFAULT__"]


async def test_type_routes_to_backend_by_name(api):
    r = await api.post("/v3/types", {"volume_type": {
        "name": "elsewhere", "extra_specs": {"volume_backend_name": "lvm-9"}}}, user="admin")
    assert r.status_code == 200
    vol = await api.create_volume(1, volume_type="elsewhere")
    await api.wait_volume(vol["id"], "error")
    msgs = (await api.get("/v3/messages")).json()["messages"]
    assert msgs and msgs[0]["resource_uuid"] == vol["id"]
    assert "No valid backend" in msgs[0]["user_message"]
    assert "volume_backend_name" in msgs[0]["user_message"]


async def test_attachment_flow(api):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "available")
    body = {"attachment": {"volume_uuid": vol["id"], "instance_uuid": "i-1"}}
    assert (await api.post("/v3/attachments", body, version="3.26")).status_code == 404
    r = await api.post("/v3/attachments", body, version="3.27")
    assert r.status_code == 200, r.text
    att = r.json()["attachment"]
    assert att["status"] == "reserved" and att["connection_info"] is None
    assert (await api.get(f"/v3/volumes/{vol['id']}")).json()["volume"]["status"] == "reserved"
    # a second reservation of a non-multiattach volume fails
    assert (await api.post("/v3/attachments", body)).status_code == 400
    connector = {"host": "compute-1", "initiator": "iqn.x", "mountpoint": "/dev/vdb"}
    r = await api.put(f"/v3/attachments/{att['id']}", {"attachment": {"connector": connector}})
    assert r.status_code == 200, r.text
    info = r.json()["attachment"]["connection_info"]
    assert info["driver_volume_type"] == "fake" and info["data"]["volume_id"] == vol["id"]
    r = await api.post(f"/v3/attachments/{att['id']}/action", {"os-complete": {}})
    assert r.status_code == 204
    shown = (await api.get(f"/v3/volumes/{vol['id']}")).json()["volume"]
    assert shown["status"] == "in-use"
    assert shown["attachments"][0]["server_id"] == "i-1"
    assert shown["attachments"][0]["host_name"] == "compute-1"
    # in use: cannot be deleted
    r = await api.delete(f"/v3/volumes/{vol['id']}")
    assert r.status_code == 400 and "badRequest" in r.json()
    assert (await api.get(f"/v3/attachments/{att['id']}", user="bob")).status_code == 404
    r = await api.delete(f"/v3/attachments/{att['id']}")
    assert r.status_code == 200 and r.json() == {"attachments": []}
    shown = (await api.get(f"/v3/volumes/{vol['id']}")).json()["volume"]
    assert shown["status"] == "available" and shown["attachments"] == []


async def test_quota_volumes_413(api):
    r = await api.put(f"/v3/os-quota-sets/{PROJECT_A}", {"quota_set": {"volumes": 2}})
    assert r.status_code == 403
    r = await api.put(f"/v3/os-quota-sets/{PROJECT_A}", {"quota_set": {"volumes": 2}},
                      user="admin")
    assert r.status_code == 200 and r.json()["quota_set"]["volumes"] == 2
    await api.create_volume(1)
    await api.create_volume(1)
    r = await api.post("/v3/volumes", {"volume": {"size": 1}})
    assert r.status_code == 413
    message = r.json()["overLimit"]["message"]
    assert "VolumeLimitExceeded" in message and "(2)" in message
    assert (await api.create_volume(1, user="bob"))["status"] == "creating"
    r = await api.get(f"/v3/os-quota-sets/{PROJECT_A}", params={"usage": "true"})
    assert r.json()["quota_set"]["volumes"] == {"limit": 2, "in_use": 2, "reserved": 0,
                                                "allocated": 0}
    limits = (await api.get("/v3/limits")).json()["limits"]["absolute"]
    assert limits["maxTotalVolumes"] == 2 and limits["totalVolumesUsed"] == 2
    r = await api.put(f"/v3/os-quota-sets/{PROJECT_A}", {"quota_set": {"bogus": 1}},
                      user="admin")
    assert r.status_code == 400
    assert (await api.delete(f"/v3/os-quota-sets/{PROJECT_A}", user="admin")).status_code == 200
    assert (await api.get(f"/v3/os-quota-sets/{PROJECT_A}")).json()["quota_set"]["volumes"] == 10


async def test_quota_gigabytes_and_per_type(api):
    await api.put(f"/v3/os-quota-sets/{PROJECT_A}",
                  {"quota_set": {"gigabytes": 3, "volumes___DEFAULT__": 5}}, user="admin")
    vol = await api.create_volume(2)
    r = await api.post("/v3/volumes", {"volume": {"size": 2}})
    assert r.status_code == 413 and "gigabytes" in r.json()["overLimit"]["message"]
    await api.wait_volume(vol["id"], "available")
    r = await api.post(f"/v3/volumes/{vol['id']}/action", {"os-extend": {"new_size": 4}})
    assert r.status_code == 413
    await api.put(f"/v3/os-quota-sets/{PROJECT_A}", {"quota_set": {"volumes___DEFAULT__": 1}},
                  user="admin")
    r = await api.post("/v3/volumes", {"volume": {"size": 1}})
    assert r.status_code == 413 and "volumes___DEFAULT__" in r.json()["overLimit"]["message"]


@pytest.mark.parametrize("backend", [FakeBackend(fail={"create_volume": "disk on fire"})])
async def test_backend_failure_ends_in_error_with_reason(api):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "error")
    msgs = (await api.get("/v3/messages")).json()["messages"]
    assert "disk on fire" in msgs[0]["user_message"]
    assert (await api.get("/v3/messages", version="3.2")).status_code == 404
    # an errored volume can be deleted
    assert (await api.delete(f"/v3/volumes/{vol['id']}")).status_code == 202
    await api.wait_gone(f"/v3/volumes/{vol['id']}")


@pytest.mark.parametrize("backend", [FakeBackend(fail={"extend_volume": "no room"})])
async def test_failed_extend_is_error_extending(api):
    vol = await api.create_volume(1)
    await api.wait_volume(vol["id"], "available")
    await api.post(f"/v3/volumes/{vol['id']}/action", {"os-extend": {"new_size": 2}})
    done = await api.wait_volume(vol["id"], "error_extending")
    assert done["size"] == 1


@pytest.mark.parametrize("backend", [FakeBackend(total_gb=3)])
async def test_capacity_refuses_when_full(api):
    a = await api.create_volume(2)
    await api.wait_volume(a["id"], "available")
    b = await api.create_volume(2)
    await api.wait_volume(b["id"], "error")
    msg = (await api.get("/v3/messages")).json()["messages"][0]["user_message"]
    assert "CapacityFilter" in msg



async def test_a_restart_never_leaves_a_volume_creating(api, unit):
    from pocketstack.volume.models import Volume

    async with unit.db.write() as s:
        stuck = Volume(project_id=PROJECT_A, size=1, status="creating",
                       availability_zone="nova", volume_type_id="x",
                       host=unit.manager.full_host)
        gone = Volume(project_id=PROJECT_A, size=1, status="deleting",
                      availability_zone="nova", volume_type_id="x",
                      host=unit.manager.full_host)
        s.add_all([stuck, gone])
    await unit.manager.init_host()
    assert (await api.get(f"/v3/volumes/{stuck.id}")).json()["volume"]["status"] == "error"
    assert (await api.get(f"/v3/volumes/{gone.id}")).status_code == 404
    msgs = (await api.get("/v3/messages")).json()["messages"]
    assert any(m["resource_uuid"] == stuck.id and "restarted" in m["user_message"]
               for m in msgs)
