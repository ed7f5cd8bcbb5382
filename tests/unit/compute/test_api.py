"""The compute API read like its reference: bodies, status codes, errors
(4xx, never 500), project isolation, reader and admin rules."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.unit.compute.conftest import IMAGE


async def test_version_documents_are_public(env):
    async with env.client(token=None, mv=None) as c:
        root = (await c.get("/")).json()
        assert root["versions"][0]["id"] == "v2.1"
        v21 = (await c.get("/v2.1/")).json()["version"]
        assert v21["min_version"] == "2.1" and v21["version"] == "2.100"
        r = await c.get("/v2.1/servers")
        assert r.status_code == 401 and "unauthorized" in r.json()


async def test_microversion_headers_and_406(env):
    async with env.client(mv="2.60") as c:
        r = await c.get("/v2.1/flavors")
        assert r.headers["openstack-api-version"] == "compute 2.60"
        assert r.headers["x-openstack-nova-api-version"] == "2.60"
        assert r.headers["x-compute-request-id"].startswith("req-")
    async with env.client(mv="2.101") as c:
        r = await c.get("/v2.1/flavors")
        assert r.status_code == 406 and "notAcceptable" in r.json()


async def test_flavors(env):
    async with env.client() as c:
        names = [f["name"] for f in (await c.get("/v2.1/flavors/detail")).json()["flavors"]]
        assert {"m1.tiny", "m1.small", "m1.nano"} <= set(names)
        tiny = (await c.get("/v2.1/flavors/1")).json()["flavor"]
        assert (tiny["vcpus"], tiny["ram"], tiny["disk"]) == (1, 512, 1)
        r = await c.post("/v2.1/flavors", json={"flavor": {"name": "x", "ram": 1, "vcpus": 1,
                                                           "disk": 0}})
        assert r.status_code == 403 and "forbidden" in r.json()
    async with env.client("admin") as c:
        for bad in ({"name": "x", "ram": "lots", "vcpus": 1, "disk": 0},
                    {"name": "", "ram": 1, "vcpus": 1, "disk": 0},
                    {"name": "x", "ram": 1, "vcpus": 0, "disk": 0}, "nope"):
            r = await c.post("/v2.1/flavors", json={"flavor": bad})
            assert r.status_code == 400, r.text
        r = await c.post("/v2.1/flavors", json={"flavor": {
            "name": "priv", "ram": 64, "vcpus": 1, "disk": 0, "id": "priv",
            "os-flavor-access:is_public": False}})
        assert r.status_code == 200, r.text
        dup = await c.post("/v2.1/flavors", json={"flavor": {"name": "priv", "ram": 64,
                                                             "vcpus": 1, "disk": 0}})
        assert dup.status_code == 409
        r = await c.post("/v2.1/flavors/priv/os-extra_specs",
                         json={"extra_specs": {"hw:cpu_policy": "shared"}})
        assert r.json() == {"extra_specs": {"hw:cpu_policy": "shared"}}
    async with env.client() as c:
        assert (await c.get("/v2.1/flavors/priv")).status_code == 404
    async with env.client("admin") as c:
        r = await c.post("/v2.1/flavors/priv/action",
                         json={"addTenantAccess": {"tenant": "p-demo"}})
        assert r.json()["flavor_access"] == [{"flavor_id": "priv", "tenant_id": "p-demo"}]
    async with env.client() as c:
        flavor = (await c.get("/v2.1/flavors/priv")).json()["flavor"]
        assert flavor["extra_specs"] == {"hw:cpu_policy": "shared"}


async def test_keypairs_generate_import_and_isolation(env):
    async with env.client() as c:
        r = await c.post("/v2.1/os-keypairs", json={"keypair": {"name": "gen"}},
                         headers={"OpenStack-API-Version": "compute 2.10"})
        assert r.status_code == 201
        assert r.json()["keypair"]["private_key"].startswith("-----BEGIN RSA PRIVATE KEY")
        public = r.json()["keypair"]["public_key"]
        r = await c.post("/v2.1/os-keypairs", json={"keypair": {"name": "imp",
                                                                "public_key": public}})
        assert r.status_code == 201 and "private_key" not in r.json()["keypair"]
        bad = await c.post("/v2.1/os-keypairs", json={"keypair": {"name": "b",
                                                                  "public_key": "ssh-rsa x"}})
        assert bad.status_code == 400
        dup = await c.post("/v2.1/os-keypairs", json={"keypair": {"name": "imp",
                                                                  "public_key": public}})
        assert dup.status_code == 409
    async with env.client("other") as c:
        assert (await c.get("/v2.1/os-keypairs")).json() == {"keypairs": []}
        assert (await c.get("/v2.1/os-keypairs/imp")).status_code == 404


async def test_server_create_bad_input_is_400(env):
    good = {"name": "vm", "imageRef": IMAGE, "flavorRef": "1", "networks": "none"}
    bad_servers = [
        {k: v for k, v in good.items() if k != "name"},
        {**good, "flavorRef": "nope"},
        {**good, "imageRef": "00000000-0000-0000-0000-000000000000"},
        {k: v for k, v in good.items() if k != "networks"},
        {**good, "networks": [{"uuid": "00000000-0000-0000-0000-000000000000"}]},
        {**good, "unknown": 1},
        {**good, "key_name": "missing"},
        {**good, "user_data": "not base64!"},
        {**good, "min_count": 0},
        {**good, "metadata": {"k": 1}},
        {**good, "block_device_mapping_v2": [{"source_type": "image",
                                              "destination_type": "volume", "uuid": IMAGE}]},
    ]
    async with env.client() as c:
        for server in bad_servers:
            r = await c.post("/v2.1/servers", json={"server": server})
            assert r.status_code == 400, (server, r.text)
            assert "badRequest" in r.json()
        for body in ([], {"server": "x"}, {"nope": {}}):
            assert (await c.post("/v2.1/servers", json=body)).status_code == 400
        r = await c.post("/v2.1/servers", content=b"{not json",
                         headers={"Content-Type": "application/json"})
        assert r.status_code == 400
        r = await c.post("/v2.1/servers", json={"server": good,
                                                "os:scheduler_hints": {"group": "nope"}})
        assert r.status_code == 400
        assert (await c.get("/v2.1/servers?limit=-1")).status_code == 400
        assert (await c.get("/v2.1/servers?sort_key=bogus")).status_code == 400
        assert (await c.get("/v2.1/servers?changes-since=yesterday")).status_code == 400
        assert (await c.get("/v2.1/servers/nope")).status_code == 404


async def test_create_answers_the_admin_password_given_or_made_up(env):
    made_up = await env.boot(wait=False)
    assert len(made_up["adminPass"]) >= 12
    given = await env.boot(wait=False, adminPass="s3cret-Pass")
    assert given["adminPass"] == "s3cret-Pass"
    assert (await env.boot(wait=False))["adminPass"] != made_up["adminPass"]


async def test_project_isolation_reader_and_admin(env):
    server = await env.boot()
    sid = server["id"]
    async with env.client("other") as c:
        assert (await c.get(f"/v2.1/servers/{sid}")).status_code == 404
        assert (await c.get("/v2.1/servers")).json()["servers"] == []
        assert (await c.delete(f"/v2.1/servers/{sid}")).status_code == 404
    async with env.client("reader") as c:
        assert (await c.get(f"/v2.1/servers/{sid}")).status_code == 200
        r = await c.post("/v2.1/servers", json={"server": {
            "name": "x", "imageRef": IMAGE, "flavorRef": "1", "networks": "none"}})
        assert r.status_code == 403
        assert (await c.delete(f"/v2.1/servers/{sid}")).status_code == 403
        r = await c.post(f"/v2.1/servers/{sid}/action", json={"os-stop": None})
        assert r.status_code == 403
        assert "OS-EXT-SRV-ATTR:host" not in (await c.get(f"/v2.1/servers/{sid}")).json()[
            "server"]
    async with env.client() as c:
        for path in ("/v2.1/os-hypervisors", "/v2.1/os-services",
                     "/v2.1/os-availability-zone/detail"):
            assert (await c.get(path)).status_code == 403, path
        r = await c.put("/v2.1/os-quota-sets/p-demo", json={"quota_set": {"instances": 99}})
        assert r.status_code == 403
        assert (await c.get("/v2.1/servers?all_tenants=1")).status_code == 403
    async with env.client("admin") as c:
        listed = (await c.get("/v2.1/servers/detail?all_tenants=1")).json()["servers"]
        assert [s["id"] for s in listed] == [sid]
        assert listed[0]["OS-EXT-SRV-ATTR:host"].startswith("fake-")
        hypervisors = (await c.get("/v2.1/os-hypervisors/detail")).json()["hypervisors"]
        assert sorted(h["hypervisor_hostname"] for h in hypervisors) == [
            "fake-1", "fake-2", "fake-3"]
        services = (await c.get("/v2.1/os-services")).json()["services"]
        assert {s["binary"] for s in services} == {"nova-scheduler", "nova-conductor",
                                                   "nova-compute"}
        assert all(s["state"] == "up" for s in services)


async def test_quota_refuses_the_second_server(env):
    async with env.client("admin") as c:
        r = await c.put("/v2.1/os-quota-sets/p-demo", json={"quota_set": {"instances": 1}})
        assert r.json()["quota_set"]["instances"] == 1
    await env.boot()
    async with env.client() as c:
        r = await c.post("/v2.1/servers", json={"server": {
            "name": "x", "imageRef": IMAGE, "flavorRef": "1", "networks": "none"}})
        assert r.status_code == 403
        assert "Quota exceeded for instances" in r.json()["forbidden"]["message"]
        limits = (await c.get("/v2.1/limits")).json()["limits"]["absolute"]
        assert limits["maxTotalInstances"] == 1 and limits["totalInstancesUsed"] == 1


async def test_server_groups_place_members(env):
    hosts = {}
    async with env.client() as c:
        for policy in ("anti-affinity", "affinity"):
            r = await c.post("/v2.1/os-server-groups", json={"server_group": {
                "name": policy, "policy": policy}})
            assert r.status_code == 200, r.text
            group = r.json()["server_group"]
            members = [await env.boot(name=f"{policy}-{i}", hints={"group": group["id"]})
                       for i in range(2)]
            assert all(m["status"] == "ACTIVE" for m in members)
            hosts[policy] = {m["hostId"] for m in members}
            shown = (await c.get(f"/v2.1/os-server-groups/{group['id']}")).json()
            assert sorted(shown["server_group"]["members"]) == sorted(m["id"] for m in members)
    assert len(hosts["anti-affinity"]) == 2 and len(hosts["affinity"]) == 1


async def test_many_servers_spread_by_weight(env):
    async with env.client() as c:
        r = await c.post("/v2.1/servers", json={"server": {
            "name": "many", "imageRef": IMAGE, "flavorRef": "1", "networks": "none",
            "min_count": 1, "max_count": 9}})
        assert r.status_code == 202
        listed = (await c.get("/v2.1/servers?name=^many")).json()["servers"]
    assert len(listed) == 9
    async with env.client("admin") as c:
        hosts = Counter()
        for s in listed:
            done = await env.wait(s["id"], "admin")
            assert done["status"] == "ACTIVE"
            hosts[done["OS-EXT-SRV-ATTR:host"]] += 1
    assert sorted(hosts.values()) == [3, 3, 3]


async def test_actions_and_their_events(env):
    server = await env.boot(metadata={"a": "1"})
    sid = server["id"]
    async with env.client() as c:
        for action, status in (({"os-stop": None}, "SHUTOFF"), ({"os-start": None}, "ACTIVE"),
                               ({"reboot": {"type": "HARD"}}, "ACTIVE")):
            assert (await c.post(f"/v2.1/servers/{sid}/action", json=action)).status_code \
                == 202
            assert (await env.wait(sid))["status"] == status
        r = await c.post(f"/v2.1/servers/{sid}/action", json={"os-start": None})
        assert r.status_code == 409
        r = await c.post(f"/v2.1/servers/{sid}/action", json={"os-getConsoleOutput": {}})
        assert "login: vm is up" in r.json()["output"]
        r = await c.post(f"/v2.1/servers/{sid}/action", json={"fly": None})
        assert r.status_code == 400
        actions = (await c.get(f"/v2.1/servers/{sid}/os-instance-actions")).json()
        names = [a["action"] for a in actions["instanceActions"]]
        assert names == ["reboot", "start", "stop", "create"]
        create = actions["instanceActions"][-1]["request_id"]
        shown = (await c.get(f"/v2.1/servers/{sid}/os-instance-actions/{create}")).json()
        assert [e["event"] for e in shown["instanceAction"]["events"]] == [
            "compute__do_build_and_run_instance"]
        assert (await c.get(f"/v2.1/servers/{sid}/metadata")).json() == {
            "metadata": {"a": "1"}}
        r = await c.put(f"/v2.1/servers/{sid}/metadata/b", json={"meta": {"b": "2"}})
        assert r.json() == {"meta": {"b": "2"}}
        r = await c.put(f"/v2.1/servers/{sid}", json={"server": {"name": "renamed"}})
        assert r.json()["server"]["name"] == "renamed"


async def test_volumes_and_interfaces(env):
    vol = env.remotes.volumes.add(size=1)
    server = await env.boot()
    sid = server["id"]
    async with env.client() as c:
        r = await c.post(f"/v2.1/servers/{sid}/os-volume_attachments",
                         json={"volumeAttachment": {"volumeId": vol["id"]}})
        assert r.status_code == 200, r.text
        assert r.json()["volumeAttachment"]["device"] == "/dev/vdb"
        assert env.remotes.volumes.volumes[vol["id"]]["status"] == "in-use"
        shown = (await c.get(f"/v2.1/servers/{sid}")).json()["server"]
        assert shown["os-extended-volumes:volumes_attached"][0]["id"] == vol["id"]
        r = await c.delete(f"/v2.1/servers/{sid}/os-volume_attachments/{vol['id']}")
        assert r.status_code == 202
        assert env.remotes.volumes.volumes[vol["id"]]["status"] == "available"
        r = await c.post(f"/v2.1/servers/{sid}/os-interface",
                         json={"interfaceAttachment": {"net_id": env.private}})
        assert r.status_code == 200, r.text
        port = r.json()["interfaceAttachment"]["port_id"]
        listed = (await c.get(f"/v2.1/servers/{sid}/os-interface")).json()
        assert len(listed["interfaceAttachments"]) == 2
        assert (await c.delete(f"/v2.1/servers/{sid}/os-interface/{port}")).status_code == 202
        assert port not in env.remotes.network.ports


async def test_boot_from_volume(env):
    server = await env.boot(imageRef="", block_device_mapping_v2=[{
        "boot_index": 0, "uuid": IMAGE, "source_type": "image", "destination_type": "volume",
        "volume_size": 1, "delete_on_termination": True}])
    assert server["status"] == "ACTIVE", server.get("fault")
    assert server["image"] == ""
    (attached,) = server["os-extended-volumes:volumes_attached"]
    assert env.remotes.volumes.volumes[attached["id"]]["status"] == "in-use"
    async with env.client() as c:
        await c.delete(f"/v2.1/servers/{server['id']}")
    await env.wait(server["id"], until=("DELETED",))
    assert attached["id"] not in env.remotes.volumes.volumes


async def test_aggregates_steer_the_scheduler(env):
    async with env.client("admin") as c:
        r = await c.post("/v2.1/os-aggregates", json={"aggregate": {
            "name": "fast", "availability_zone": "az1"}})
        assert r.status_code == 200, r.text
        agg = r.json()["aggregate"]
        r = await c.post(f"/v2.1/os-aggregates/{agg['id']}/action",
                         json={"add_host": {"host": "fake-2"}})
        assert r.json()["aggregate"]["hosts"] == ["fake-2"]
        r = await c.post(f"/v2.1/os-aggregates/{agg['id']}/action",
                         json={"set_metadata": {"metadata": {"ssd": "true"}}})
        assert r.json()["aggregate"]["metadata"] == {"ssd": "true", "availability_zone": "az1"}
        assert (await c.post(f"/v2.1/os-aggregates/{agg['id']}/action",
                             json={"add_host": {"host": "nope"}})).status_code == 404
        zones = (await c.get("/v2.1/os-availability-zone")).json()["availabilityZoneInfo"]
        assert sorted(z["zoneName"] for z in zones) == ["az1", "nova"]
    async with env.client() as c:
        assert (await c.get("/v2.1/os-aggregates")).status_code == 403
    await asyncio.sleep(0.05)  # the scheduler reloads the aggregates (a fanout cast)
    server = await env.boot(availability_zone="az1")
    assert server["OS-EXT-AZ:availability_zone"] == "az1"
    async with env.client("admin") as c:
        shown = (await c.get(f"/v2.1/servers/{server['id']}")).json()["server"]
        assert shown["OS-EXT-SRV-ATTR:host"] == "fake-2"


async def test_unknown_zone_is_400(env):
    async with env.client() as c:
        r = await c.post("/v2.1/servers", json={"server": {
            "name": "x", "imageRef": IMAGE, "flavorRef": "1", "networks": "none",
            "availability_zone": "atlantis"}})
        assert r.status_code == 400
        assert "availability zone is not available" in r.json()["badRequest"]["message"]
