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
