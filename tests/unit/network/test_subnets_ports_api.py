"""Subnets (pools, gateway, IPv6 modes, subnet pools) and ports (fixed IPs, MACs,
binding, security groups, filters)."""

from __future__ import annotations

import asyncio
import ipaddress


def error_type(resp):
    return resp.json()["NeutronError"]["type"]


async def test_subnet_defaults(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    sn = await alice.subnet(net["id"], "10.0.0.0/24", name="s")
    assert sn["gateway_ip"] == "10.0.0.1"
    assert sn["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert sn["enable_dhcp"] is True and sn["ip_version"] == 4
    shown = (await alice.get(f"/networks/{net['id']}")).json()["network"]
    assert shown["subnets"] == [sn["id"]]


async def test_subnet_gateway_null_and_explicit_pools(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    sn = await alice.subnet(net["id"], "10.1.0.0/29", gateway_ip=None)
    assert sn["gateway_ip"] is None
    assert sn["allocation_pools"] == [{"start": "10.1.0.1", "end": "10.1.0.6"}]
    mid = await alice.subnet(net["id"], "10.2.0.0/24", gateway_ip="10.2.0.100")
    assert mid["allocation_pools"] == [{"start": "10.2.0.1", "end": "10.2.0.99"},
                                       {"start": "10.2.0.101", "end": "10.2.0.254"}]
    body = {"network_id": net["id"], "cidr": "10.3.0.0/24", "ip_version": 4,
            "allocation_pools": [{"start": "10.3.0.1", "end": "10.3.0.20"}]}
    resp = await alice.post("/subnets", {"subnet": body}, expect=409)
    assert error_type(resp) == "GatewayConflictWithAllocationPools"
    body["allocation_pools"] = [{"start": "10.3.0.10", "end": "10.4.0.20"}]
    await alice.post("/subnets", {"subnet": body}, expect=400)
    body["allocation_pools"] = [{"start": "10.3.0.10", "end": "10.3.0.20"},
                                {"start": "10.3.0.15", "end": "10.3.0.30"}]
    await alice.post("/subnets", {"subnet": body}, expect=409)
    body["allocation_pools"] = [{"start": "10.3.0.10", "end": "10.3.0.20"}]
    ok = (await alice.post("/subnets", {"subnet": body})).json()["subnet"]
    assert ok["allocation_pools"] == body["allocation_pools"]


async def test_subnet_bad_input(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    for attrs in ({"cidr": "10.0.0.5/24"}, {"cidr": "nonsense"}, {"cidr": "fd00::/64"},
                  {"cidr": "10.0.0.0/24", "gateway_ip": "10.9.9.9"},
                  {"cidr": "10.0.0.0/24", "ipv6_address_mode": "slaac"}):
        body = {"network_id": net["id"], "ip_version": 4} | attrs
        resp = await alice.post("/subnets", {"subnet": body}, expect=400)
        assert "NeutronError" in resp.json()
    await alice.subnet(net["id"], "10.0.0.0/24")
    resp = await alice.post("/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                   "cidr": "10.0.0.128/25"}}, expect=400)
    assert "overlaps" in resp.json()["NeutronError"]["message"]


async def test_ipv6_slaac_port_gets_eui64(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    v4 = await alice.subnet(net["id"], "10.0.0.0/24")
    v6 = await alice.subnet(net["id"], "fd00:1::/64", ipv6_ra_mode="slaac",
                            ipv6_address_mode="slaac")
    assert v6["ipv6_address_mode"] == "slaac" and v6["gateway_ip"] == "fd00:1::1"
    port = await alice.port(net["id"], mac_address="fa:16:3e:11:22:33")
    ips = {f["subnet_id"]: f["ip_address"] for f in port["fixed_ips"]}
    assert ips[v4["id"]] == "10.0.0.2"
    assert ips[v6["id"]] == "fd00:1::f816:3eff:fe11:2233"
    resp = await alice.post("/ports", {"port": {"network_id": net["id"], "fixed_ips": [
        {"subnet_id": v6["id"], "ip_address": "fd00:1::5"}]}}, expect=400)
    assert "automatic addresses" in resp.json()["NeutronError"]["message"]
    later = await alice.subnet(net["id"], "fd00:3::/64", ipv6_address_mode="slaac")
    got = (await alice.get(f"/ports/{port['id']}")).json()["port"]
    assert {"subnet_id": later["id"], "ip_address": "fd00:3::f816:3eff:fe11:2233"} \
        in got["fixed_ips"]
    await alice.delete(f"/subnets/{later['id']}")
    got = (await alice.get(f"/ports/{port['id']}")).json()["port"]
    assert later["id"] not in {f["subnet_id"] for f in got["fixed_ips"]}
    await alice.delete(f"/subnets/{v4['id']}", expect=409)
    resp = await alice.post("/subnets", {"subnet": {
        "network_id": net["id"], "ip_version": 6, "cidr": "fd00:2::/80",
        "ipv6_address_mode": "slaac"}}, expect=400)


async def test_subnet_pool_prefix_allocation(net_api):
    alice = net_api.as_("alice")
    pool = (await alice.post("/subnetpools", {"subnetpool": {
        "name": "p", "prefixes": ["10.10.0.0/16"], "default_prefixlen": 24}})).json()
    pool_id = pool["subnetpool"]["id"]
    net = await alice.network()
    a = await alice.subnet(net["id"], None, subnetpool_id=pool_id, prefixlen=26)
    b = await alice.subnet(net["id"], None, subnetpool_id=pool_id)
    assert a["cidr"] == "10.10.0.0/26" and a["subnetpool_id"] == pool_id
    assert b["cidr"] == "10.10.1.0/24"
    c = await alice.subnet(net["id"], None, subnetpool_id=pool_id, prefixlen=26)
    assert c["cidr"] == "10.10.0.64/26"
    await alice.post("/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                             "subnetpool_id": pool_id, "prefixlen": 4}},
                     expect=400)
    await alice.delete(f"/subnetpools/{pool_id}", expect=409)


async def test_port_fixed_ip_explicit_and_conflict(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    sn = await alice.subnet(net["id"], "10.0.0.0/24")
    port = await alice.port(net["id"], fixed_ips=[{"subnet_id": sn["id"],
                                                   "ip_address": "10.0.0.50"}])
    assert port["fixed_ips"] == [{"subnet_id": sn["id"], "ip_address": "10.0.0.50"}]
    assert port["status"] == "DOWN" and port["binding:vif_type"] == "unbound"
    assert port["mac_address"].startswith("fa:16:3e:")
    resp = await alice.post("/ports", {"port": {"network_id": net["id"], "fixed_ips": [
        {"ip_address": "10.0.0.50"}]}}, expect=409)
    assert error_type(resp) == "IpAddressAlreadyAllocated"
    await alice.post("/ports", {"port": {"network_id": net["id"], "fixed_ips": [
        {"ip_address": "10.9.0.50"}]}}, expect=400)
    await alice.post("/ports", {"port": {"network_id": net["id"], "fixed_ips": [
        {"ip_address": "10.0.0.1"}]}}, expect=409)
    await alice.delete(f"/ports/{port['id']}")
    again = await alice.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.50"}])
    assert again["fixed_ips"][0]["ip_address"] == "10.0.0.50"


async def test_port_mac_unique_per_network(net_api):
    alice = net_api.as_("alice")
    net, other = await alice.network(), await alice.network()
    await alice.port(net["id"], mac_address="fa:16:3e:00:00:01")
    resp = await alice.post("/ports", {"port": {"network_id": net["id"],
                                                "mac_address": "fa:16:3e:00:00:01"}},
                            expect=409)
    assert error_type(resp) == "MacAddressInUse"
    await alice.port(other["id"], mac_address="fa:16:3e:00:00:01")
    await alice.post("/ports", {"port": {"network_id": net["id"], "mac_address": "zz"}},
                     expect=400)


async def test_subnet_full_is_409_and_addresses_come_back(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    await alice.subnet(net["id"], "10.0.0.0/29")  # .2 - .6: five addresses
    ports = [await alice.port(net["id"]) for _ in range(5)]
    assert [p["fixed_ips"][0]["ip_address"] for p in ports] == [
        f"10.0.0.{i}" for i in range(2, 7)]
    resp = await alice.post("/ports", {"port": {"network_id": net["id"]}}, expect=409)
    assert error_type(resp) == "IpAddressGenerationFailure"
    await alice.delete(f"/ports/{ports[2]['id']}")
    back = await alice.port(net["id"])
    assert back["fixed_ips"][0]["ip_address"] == "10.0.0.4"


async def test_concurrent_ports_get_distinct_addresses(net_api):
    await net_api.put("/quotas/p1", {"quota": {"port": -1}})
    alice = net_api.as_("alice")
    net = await alice.network()
    sn = await alice.subnet(net["id"], "10.0.0.0/26")  # 61 addresses in the pool
    results = await asyncio.gather(*[
        alice.request("POST", "/ports", json={"port": {"network_id": net["id"]}})
        for _ in range(100)])
    created = [r.json()["port"] for r in results if r.status_code == 201]
    refused = [r for r in results if r.status_code != 201]
    assert len(created) == 61
    assert {r.status_code for r in refused} == {409}
    assert {error_type(r) for r in refused} == {"IpAddressGenerationFailure"}
    addrs = [p["fixed_ips"][0]["ip_address"] for p in created]
    assert len(set(addrs)) == 61
    pool = sn["allocation_pools"][0]
    lo, hi = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
    assert all(lo <= ipaddress.ip_address(a) <= hi for a in addrs)
    await asyncio.gather(*[alice.delete(f"/ports/{p['id']}") for p in created[:30]])
    again = await asyncio.gather(*[alice.port(net["id"]) for _ in range(30)])
    assert len({p["fixed_ips"][0]["ip_address"] for p in again} | set(addrs[30:])) == 61


async def test_port_binding_goes_active(net_api, svc):
    alice = net_api.as_("alice")
    net = await alice.network()
    await alice.subnet(net["id"])
    port = await alice.port(net["id"], device_id="vm-1", device_owner="compute:nova")
    assert port["status"] == "DOWN"
    bound = (await alice.put(f"/ports/{port['id']}", {"port": {
        "binding:host_id": "host-1"}})).json()["port"]
    assert bound["binding:host_id"] == "host-1" and bound["binding:vif_type"] == "tap"
    assert bound["status"] == "ACTIVE"
    assert ("bound", port["id"], "host-1") in svc.notifier.events
    await alice.delete(f"/ports/{port['id']}")
    assert ("removed", port["id"], "host-1") in svc.notifier.events


async def test_port_filters_fields_sorting_paging(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    sn = await alice.subnet(net["id"])
    ports = [await alice.port(net["id"], name=f"p{i}", device_id="vm-a" if i % 2 else "vm-b")
             for i in range(5)]
    by_dev = (await alice.get("/ports", params={"device_id": "vm-a"})).json()["ports"]
    assert {p["name"] for p in by_dev} == {"p1", "p3"}
    ip = ports[4]["fixed_ips"][0]["ip_address"]
    by_ip = (await alice.get("/ports", params={"fixed_ips": f"ip_address={ip}"})).json()
    assert [p["name"] for p in by_ip["ports"]] == ["p4"]
    by_sn = (await alice.get("/ports", params=[("fixed_ips", f"subnet_id={sn['id']}")]))
    assert len(by_sn.json()["ports"]) == 5
    only = (await alice.get("/ports", params=[("fields", "id"), ("fields", "name")])).json()
    assert set(only["ports"][0]) == {"id", "name"}
    desc = (await alice.get("/ports", params={"sort_key": "name", "sort_dir": "desc"})).json()
    assert [p["name"] for p in desc["ports"]] == ["p4", "p3", "p2", "p1", "p0"]
    page1 = (await alice.get("/ports", params={"sort_key": "name", "limit": 2})).json()
    assert [p["name"] for p in page1["ports"]] == ["p0", "p1"]
    nxt = next(link for link in page1["ports_links"] if link["rel"] == "next")["href"]
    marker = nxt.split("marker=")[1].split("&")[0]
    page2 = (await alice.get("/ports", params={"sort_key": "name", "limit": 2,
                                               "marker": marker})).json()
    assert [p["name"] for p in page2["ports"]] == ["p2", "p3"]
    await alice.get("/ports", params={"sort_key": "nope"}, expect=400)


async def test_tags(net_api):
    alice = net_api.as_("alice")
    a, b = await alice.network(name="a"), await alice.network(name="b")
    await alice.put(f"/networks/{a['id']}/tags", {"tags": ["red", "blue"]})
    await alice.request("PUT", f"/networks/{b['id']}/tags/red", expect=201)
    assert (await alice.get(f"/networks/{a['id']}/tags")).json()["tags"] == ["blue", "red"]
    red = (await alice.get("/networks", params={"tags": "red"})).json()["networks"]
    assert {n["name"] for n in red} == {"a", "b"}
    both = (await alice.get("/networks", params={"tags": "red,blue"})).json()["networks"]
    assert [n["name"] for n in both] == ["a"]
    not_blue = (await alice.get("/networks", params={"not-tags": "blue"})).json()
    assert [n["name"] for n in not_blue["networks"]] == ["b"]
    await alice.delete(f"/networks/{a['id']}/tags/red")
    await alice.delete(f"/networks/{a['id']}/tags/red", expect=404)
    await net_api.as_("bob").put(f"/networks/{a['id']}/tags", {"tags": ["x"]}, expect=404)


async def test_paging_backwards_and_allowed_address_pairs(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    await alice.subnet(net["id"])
    for i in range(4):
        await alice.port(net["id"], name=f"p{i}")
    p1 = (await alice.get("/ports", params={"name": "p1"})).json()["ports"][0]
    page2 = (await alice.get("/ports", params={"sort_key": "name", "limit": 2,
                                               "marker": p1["id"]})).json()
    assert [p["name"] for p in page2["ports"]] == ["p2", "p3"]
    prev = next(link for link in page2["ports_links"] if link["rel"] == "previous")["href"]
    assert "page_reverse=True" in prev
    marker = prev.split("marker=")[1].split("&")[0]
    back = (await alice.get("/ports", params={"sort_key": "name", "limit": 2,
                                              "marker": marker, "page_reverse": "True"})).json()
    assert [p["name"] for p in back["ports"]] == ["p0", "p1"]
    port = await alice.port(net["id"], allowed_address_pairs=[{"ip_address": "10.0.0.200/32"}])
    assert port["allowed_address_pairs"] == [{"ip_address": "10.0.0.200/32",
                                              "mac_address": port["mac_address"]}]
    resp = await alice.post("/ports", {"port": {
        "network_id": net["id"], "port_security_enabled": False,
        "allowed_address_pairs": [{"ip_address": "10.0.0.9"}]}}, expect=None)
    assert resp.status_code in (400, 409)
    plain = await alice.port(net["id"], port_security_enabled=False)
    assert plain["security_groups"] == [] and plain["port_security_enabled"] is False
