"""200 concurrent boots into room for exactly 100, through the REST API of a
live cloud: 100 become ACTIVE, 100 go to ERROR with "No valid host was found",
and placement shows no provider used beyond its inventory x allocation ratio.

The room: 10 fake hosts of 10 vCPUs at a CPU allocation ratio of 1.0, and
m1.nano (1 vCPU, 128 MiB, 1 GB) servers, so vCPUs run out at exactly 100.
"""

from __future__ import annotations

import asyncio
import time

import httpx

HOSTS, VCPUS, SERVERS = 10, 10, 200
ROOM = HOSTS * VCPUS
ENV = {"POCKETSTACK_COMPUTE_FAKE_HOSTS": str(HOSTS),
       "POCKETSTACK_COMPUTE_FAKE_VCPUS": str(VCPUS),
       "POCKETSTACK_COMPUTE_CPU_ALLOCATION_RATIO": "1.0"}
PLACEMENT = {"OpenStack-API-Version": "placement 1.39"}


async def boot_all(cloud, token: str, image: str) -> list[str]:  # noqa: ANN001
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.100"}
    async with httpx.AsyncClient(base_url=cloud.base_url + "/compute/v2.1", headers=headers,
                                 timeout=120, limits=httpx.Limits(max_connections=200)) as c:
        async def boot(i: int) -> str:
            r = await c.post("/servers", json={"server": {
                "name": f"crowd-{i}", "imageRef": image, "flavorRef": "42",
                "networks": "none"}})
            assert r.status_code == 202, r.text
            return r.json()["server"]["id"]

        return list(await asyncio.gather(*(boot(i) for i in range(SERVERS))))


def settled(http: httpx.Client, ids: list[str], timeout: float = 90.0) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while True:
        servers = {s["id"]: s for s in http.get("/compute/v2.1/servers/detail").json()[
            "servers"] if s["id"] in ids}
        if all(s["status"] in ("ACTIVE", "ERROR") for s in servers.values()) and len(
                servers) == len(ids):
            return servers
        assert time.monotonic() < deadline, {s["status"] for s in servers.values()}
        time.sleep(0.5)


def test_two_hundred_boots_into_room_for_one_hundred(make_cloud):
    cloud = make_cloud(env=ENV)
    with cloud.http("pocketstack-admin") as admin:
        project = admin.get("/identity/v3/projects", params={"name": "demo"}).json()[
            "projects"][0]["id"]
        admin.put(f"/compute/v2.1/os-quota-sets/{project}", json={"quota_set": {
            "instances": -1, "cores": -1, "ram": -1}}).raise_for_status()
    with cloud.http("pocketstack") as demo:
        image = next(i["id"] for i in demo.get("/image/v2/images").json()["images"]
                     if i["name"] == "cirros")
        ids = asyncio.run(boot_all(cloud, cloud.token("pocketstack"), image))
        servers = settled(demo, ids)
    statuses = [s["status"] for s in servers.values()]
    assert statuses.count("ACTIVE") == ROOM and statuses.count("ERROR") == SERVERS - ROOM
    for s in servers.values():
        if s["status"] == "ERROR":
            assert "No valid host was found" in s["fault"]["message"], s["fault"]

    with cloud.http("pocketstack-admin", headers=PLACEMENT) as admin:
        providers = admin.get("/placement/resource_providers").json()["resource_providers"]
        assert len(providers) == HOSTS
        used_vcpus = 0
        for rp in providers:
            inventories = admin.get(f"/placement/resource_providers/{rp['uuid']}/"
                                    "inventories").json()["inventories"]
            usages = admin.get(f"/placement/resource_providers/{rp['uuid']}/"
                               "usages").json()["usages"]
            for rc, used in usages.items():
                inv = inventories[rc]
                assert used <= (inv["total"] - inv["reserved"]) * inv["allocation_ratio"], (
                    rp["name"], rc, used, inv)
            used_vcpus += usages.get("VCPU", 0)
        assert used_vcpus == ROOM
