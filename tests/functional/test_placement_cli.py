"""Placement through osc-placement, as an operator uses it, on the live cloud."""

from __future__ import annotations

import uuid

import httpx

PLACEMENT = "/placement"
LATEST = {"OpenStack-API-Version": "placement latest"}


def test_osc_placement_provider_inventory_and_candidates(cloud):
    name = f"cn-{uuid.uuid4().hex[:8]}"
    rp = cloud.openstack("resource", "provider", "create", name, cloud="pocketstack-admin")
    assert rp["name"] == name and rp["generation"] == 0
    cloud.openstack("resource", "provider", "inventory", "set", rp["uuid"],
                    "--resource", "VCPU=8", "--resource", "VCPU:allocation_ratio=4.0",
                    "--resource", "MEMORY_MB=4096", "--resource", "DISK_GB=40",
                    cloud="pocketstack-admin", json_output=True)
    listed = cloud.openstack("resource", "provider", "list", cloud="pocketstack-admin")
    assert name in [p["name"] for p in listed]
    inventory = {i["resource_class"]: i for i in cloud.openstack(
        "resource", "provider", "inventory", "list", rp["uuid"], cloud="pocketstack-admin")}
    assert inventory["VCPU"]["total"] == 8 and inventory["VCPU"]["allocation_ratio"] == 4.0
    assert inventory["MEMORY_MB"]["total"] == 4096
    candidates = cloud.openstack("allocation", "candidate", "list", "--resource", "VCPU=1",
                                 "--os-placement-api-version", "1.29",
                                 cloud="pocketstack-admin")
    mine = [c for c in candidates if c["resource provider"] == rp["uuid"]]
    assert mine and mine[0]["allocation"] == "VCPU=1"


def test_osc_placement_traits_allocations_and_usages(cloud):
    admin = {"cloud": "pocketstack-admin"}
    v = ("--os-placement-api-version", "1.39")
    rp = cloud.openstack("resource", "provider", "create", f"cn-{uuid.uuid4().hex[:8]}",
                         **admin)
    cloud.openstack("resource", "provider", "inventory", "set", rp["uuid"],
                    "--resource", "VCPU=4", "--resource", "MEMORY_MB=2048", json_output=True,
                    **admin)
    traits = cloud.openstack("resource", "provider", "trait", "set", rp["uuid"],
                             "--trait", "COMPUTE_NODE", "--trait", "HW_CPU_X86_AVX2", *v,
                             json_output=True, **admin)
    assert sorted(t["name"] for t in traits) == ["COMPUTE_NODE", "HW_CPU_X86_AVX2"]
    consumer, project, user = (str(uuid.uuid4()) for _ in range(3))
    rows = cloud.openstack("resource", "provider", "allocation", "set", consumer,
                           "--allocation", f"rp={rp['uuid']},VCPU=2,MEMORY_MB=512",
                           "--project-id", project, "--user-id", user,
                           "--consumer-type", "INSTANCE", *v, json_output=True, **admin)
    assert rows[0]["resources"] == {"VCPU": 2, "MEMORY_MB": 512}
    shown = cloud.openstack("resource", "provider", "allocation", "show", consumer, *v, **admin)
    assert shown[0]["resource_provider"] == rp["uuid"] and shown[0]["project_id"] == project
    usage = {u["resource_class"]: u["usage"] for u in cloud.openstack(
        "resource", "usage", "show", project, "--os-placement-api-version", "1.9", **admin)}
    assert usage == {"VCPU": 2, "MEMORY_MB": 512}
    cloud.openstack("resource", "provider", "allocation", "delete", consumer, **admin)
    with cloud.http(token=cloud.token("pocketstack-admin", fresh=True)) as http:
        r = http.get(f"{PLACEMENT}/resource_providers/{rp['uuid']}/usages", headers=LATEST)
        assert r.json()["usages"] == {"VCPU": 0, "MEMORY_MB": 0}


def test_placement_is_admin_only_and_speaks_its_error_format(cloud):
    assert httpx.get(cloud.base_url + PLACEMENT).json()["versions"][0]["max_version"] == "1.39"
    with cloud.http(None) as anon:
        r = anon.get(PLACEMENT + "/resource_providers")
        assert r.status_code == 401 and r.json()["errors"][0]["status"] == 401
    with cloud.http(token=cloud.token("pocketstack", fresh=True)) as demo:
        r = demo.get(PLACEMENT + "/resource_providers", headers=LATEST)
        assert r.status_code == 403
        assert r.json()["errors"][0]["code"] == "placement.undefined_code"
    with cloud.http(token=cloud.token("pocketstack-admin", fresh=True)) as admin:
        r = admin.get(PLACEMENT + "/resource_providers/nope", headers=LATEST)
        assert r.status_code == 404
        assert r.json()["errors"][0]["code"] == "placement.resource_provider.not_found"
        assert r.headers["openstack-api-version"] == "placement 1.39"


async def test_client_claims_race_on_the_live_cloud(cloud):
    """The REST client services use, over real HTTP: 200 concurrent claims into room
    for 100 (4 providers of 10 VCPUs at ratio 2.5) -> exactly 100 succeed."""
    import asyncio

    from pocketstack.placement.client import PlacementClient

    token = cloud.token("pocketstack-admin", fresh=True)
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        client = PlacementClient(http, cloud.base_url + PLACEMENT, token)
        hosts = [await client.ensure_provider(str(uuid.uuid4()), f"race-{uuid.uuid4().hex[:6]}")
                 for _ in range(4)]
        for host in hosts:
            await client.set_inventories(host.uuid, {"VCPU": {"total": 10,
                                                              "allocation_ratio": 2.5}})

        async def claim(i: int) -> bool:
            return await client.claim(str(uuid.uuid4()), {hosts[i % 4].uuid: {"VCPU": 1}},
                                      "p", "u")

        results = await asyncio.gather(*(claim(i) for i in range(200)))
        assert sum(results) == 100
        for host in hosts:
            assert (await client.provider_usages(host.uuid)) == {"VCPU": 25}
            allocations = await client.provider_allocations(host.uuid)
            assert sum(a["VCPU"] for a in allocations.values()) == 25
            candidates = await client.allocation_candidates({"VCPU": 1}, in_tree=host.uuid)
            assert candidates.allocation_requests == []
