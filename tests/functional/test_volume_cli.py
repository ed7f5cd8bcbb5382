"""The block storage walk of issue 6 with the real `openstack` CLI against a
live pocketstack (file backend, qcow2 through qemu-img)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.functional.conftest import Cloud, CommandFailed


def client_for(cloud: Cloud, user: str = "pocketstack", **kw: Any):  # noqa: ANN201
    """An httpx client with a fresh token (other tests revoke tokens)."""
    return cloud.http(user, token=cloud.token(user, fresh=True), **kw)


def wait_for(cloud: Cloud, kind: str, obj_id: str, ok, user: str = "pocketstack",  # noqa: ANN001
             timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with client_for(cloud, user) as client:
        while True:
            r = client.get(f"/volume/v3/{kind}s/{obj_id}")
            body = r.json().get(kind) if r.status_code == 200 else None
            if body is not None and ok(body):
                return body
            assert time.monotonic() < deadline, f"{kind} {obj_id}: {r.status_code} {r.text}"
            time.sleep(0.1)


def available(body: dict[str, Any]) -> bool:
    assert body["status"] not in ("error", "error_extending"), body
    return body["status"] == "available"


def test_volume_walk(cloud: Cloud):
    v1 = cloud.openstack("volume", "create", "--size", "1", "v1")
    assert v1["status"] == "creating" and v1["size"] == 1
    wait_for(cloud, "volume", v1["id"], available)

    s1 = cloud.openstack("volume", "snapshot", "create", "--volume", "v1", "s1")
    wait_for(cloud, "snapshot", s1["id"], available)

    v3 = cloud.openstack("volume", "create", "--snapshot", "s1", "v3")
    assert v3["snapshot_id"] == s1["id"]
    wait_for(cloud, "volume", v3["id"], available)

    cloud.openstack("volume", "set", "--size", "2", "v1")
    wait_for(cloud, "volume", v1["id"], lambda b: available(b) and b["size"] == 2)

    fast = cloud.openstack("volume", "type", "create", "fast", cloud="pocketstack-admin")
    assert fast["name"] == "fast"
    with client_for(cloud, "pocketstack") as http:
        types = http.get("/volume/v3/types").json()["volume_types"]
    assert {"__DEFAULT__", "fast"} <= {t["name"] for t in types}

    listed = {v["Name"]: v for v in cloud.openstack("volume", "list")}
    assert listed["v1"]["Size"] == 2 and listed["v3"]["Status"] == "available"
    shown = cloud.openstack("volume", "show", "v1")
    assert shown["size"] == 2 and shown["type"] == "__DEFAULT__"

    # a volume with a snapshot cannot go; without it, it can
    with client_for(cloud, "pocketstack") as http:
        assert http.delete(f"/volume/v3/volumes/{v1['id']}").status_code == 400
        assert http.delete(f"/volume/v3/snapshots/{s1['id']}").status_code == 202
    wait_gone(cloud, f"/volume/v3/snapshots/{s1['id']}")
    cloud.openstack("volume", "delete", "v1", "v3")
    wait_gone(cloud, f"/volume/v3/volumes/{v1['id']}")
    wait_gone(cloud, f"/volume/v3/volumes/{v3['id']}")


def wait_gone(cloud: Cloud, path: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with client_for(cloud, "pocketstack-admin") as client:
        while client.get(path).status_code != 404:
            assert time.monotonic() < deadline, f"{path} still there"
            time.sleep(0.1)


def test_quota_refuses_the_third_volume(cloud: Cloud):
    with client_for(cloud, "pocketstack-admin") as admin:
        demo = admin.get("/identity/v3/projects", params={"name": "demo"}).json()["projects"]
    demo_id = demo[0]["id"]
    made = []
    with client_for(cloud, "pocketstack") as http:
        try:
            cloud.openstack("quota", "set", "--volumes", "2", demo_id, cloud="pocketstack-admin")
            quota = http.get(f"/volume/v3/os-quota-sets/{demo_id}").json()["quota_set"]
            assert quota["volumes"] == 2
            for name in ("q1", "q2"):
                r = http.post("/volume/v3/volumes", json={"volume": {"size": 1, "name": name}})
                assert r.status_code == 202, r.text
                made.append(r.json()["volume"]["id"])
            with pytest.raises(CommandFailed) as refused:
                cloud.openstack("volume", "create", "--size", "1", "q3")
            assert "413" in refused.value.stderr
            assert "VolumeLimitExceeded" in refused.value.stderr
        finally:
            with client_for(cloud, "pocketstack-admin") as admin:
                admin.delete(f"/volume/v3/os-quota-sets/{demo_id}")
            for vid in made:
                wait_for(cloud, "volume", vid, available)
                http.delete(f"/volume/v3/volumes/{vid}")


def test_in_use_volume_cannot_be_deleted(cloud: Cloud):
    with client_for(cloud, "pocketstack") as http:
        vol = http.post("/volume/v3/volumes", json={"volume": {"size": 1}}).json()["volume"]
    wait_for(cloud, "volume", vol["id"], available)
    headers = {"OpenStack-API-Version": "volume 3.44"}
    with client_for(cloud, "pocketstack", headers=headers) as http:
        r = http.post("/volume/v3/attachments", json={"attachment": {
            "volume_uuid": vol["id"], "instance_uuid": "3f0b6d0a-0000-4000-8000-000000000001"}})
        assert r.status_code == 200, r.text
        att = r.json()["attachment"]["id"]
        r = http.put(f"/volume/v3/attachments/{att}", json={"attachment": {
            "connector": {"host": "compute-1", "mountpoint": "/dev/vdb"}}})
        info = r.json()["attachment"]["connection_info"]
        assert info["driver_volume_type"] == "file"
        assert info["data"]["format"] == "qcow2"
        assert info["data"]["path"].endswith(f"volume-{vol['id']}")
        assert http.post(f"/volume/v3/attachments/{att}/action",
                         json={"os-complete": {}}).status_code == 204
        r = http.delete(f"/volume/v3/volumes/{vol['id']}")
        assert r.status_code == 400 and "badRequest" in r.json()
        shown = http.get(f"/volume/v3/volumes/{vol['id']}").json()["volume"]
        assert shown["status"] == "in-use"
        assert shown["attachments"][0]["host_name"] == "compute-1"
        assert http.delete(f"/volume/v3/attachments/{att}").status_code == 200
        assert http.delete(f"/volume/v3/volumes/{vol['id']}").status_code == 202
    wait_gone(cloud, f"/volume/v3/volumes/{vol['id']}")


def test_another_projects_volumes_are_invisible(cloud: Cloud):
    with client_for(cloud, "pocketstack-admin") as admin, client_for(cloud, "pocketstack") as demo:
        mine = admin.post("/volume/v3/volumes", json={"volume": {
            "size": 1, "name": "admins-own"}}).json()["volume"]
        try:
            names = {v["Name"] for v in cloud.openstack("volume", "list")}
            assert "admins-own" not in names
            assert demo.get(f"/volume/v3/volumes/{mine['id']}").status_code == 404
            assert demo.delete(f"/volume/v3/volumes/{mine['id']}").status_code == 404
            r = demo.get("/volume/v3/volumes/detail", params={"all_tenants": "1"})
            assert mine["id"] not in {v["id"] for v in r.json()["volumes"]}
        finally:
            wait_for(cloud, "volume", mine["id"], available, user="pocketstack-admin")
            admin.delete(f"/volume/v3/volumes/{mine['id']}")


def test_volume_from_the_cirros_image_and_back(cloud: Cloud):
    from pocketstack.image.cirros import NAME

    v2 = cloud.openstack("volume", "create", "--image", NAME, "--size", "1", "v2")
    done = wait_for(cloud, "volume", v2["id"], available)
    assert done["bootable"] == "true"
    assert done["volume_image_metadata"]["image_name"] == NAME
    assert done["volume_image_metadata"]["disk_format"] == "qcow2"
    with client_for(cloud) as http:
        r = http.post(f"/volume/v3/volumes/{v2['id']}/action", json={
            "os-volume_upload_image": {"image_name": "from-v2", "disk_format": "qcow2"}})
        assert r.status_code == 202, r.text
        image_id = r.json()["os-volume_upload_image"]["image_id"]
        wait_for(cloud, "volume", v2["id"], available)
        image = http.get(f"/image/v2/images/{image_id}").json()
        assert image["status"] == "active" and image["disk_format"] == "qcow2"
        assert image["size"] > 0
        assert http.delete(f"/image/v2/images/{image_id}").status_code == 204
        assert http.delete(f"/volume/v3/volumes/{v2['id']}").status_code == 202
