"""Security groups and rules, routers and floating IPs, quotas."""

from __future__ import annotations


def error_type(resp):
    return resp.json()["NeutronError"]["type"]


async def test_default_group_made_on_first_use(net_api):
    alice = net_api.as_("alice")
    groups = (await alice.get("/security-groups")).json()["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    rules = groups[0]["security_group_rules"]
    assert sorted((r["direction"], r["ethertype"], r["remote_group_id"] is not None)
                  for r in rules) == [("egress", "IPv4", False), ("egress", "IPv6", False),
                                      ("ingress", "IPv4", True), ("ingress", "IPv6", True)]
    again = (await alice.get("/security-groups")).json()["security_groups"]
    assert [g["id"] for g in again] == [groups[0]["id"]]
    resp = await alice.delete(f"/security-groups/{groups[0]['id']}", expect=409)
    assert error_type(resp) == "SecurityGroupCannotRemoveDefault"
    net = await alice.network()
    port = await alice.port(net["id"])
    assert port["security_groups"] == [groups[0]["id"]]
    bob_groups = (await net_api.as_("bob").get("/security-groups")).json()["security_groups"]
    assert [g["project_id"] for g in bob_groups] == ["p2"]


async def test_rules_validation_and_duplicates(net_api):
    alice = net_api.as_("alice")
    sg = (await alice.post("/security-groups", {"security_group": {"name": "web"}})).json()
    gid = sg["security_group"]["id"]
    rule = {"security_group_id": gid, "direction": "ingress", "protocol": "tcp",
            "port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "0.0.0.0/0"}
    made = (await alice.post("/security-group-rules", {"security_group_rule": rule})).json()
    assert made["security_group_rule"]["ethertype"] == "IPv4"
    resp = await alice.post("/security-group-rules", {"security_group_rule": rule}, expect=409)
    assert error_type(resp) == "SecurityGroupRuleExists"
    assert made["security_group_rule"]["id"] in resp.json()["NeutronError"]["message"]
    bad = [
        {"protocol": "tcp", "port_range_min": 90, "port_range_max": 80},
        {"protocol": "bogus"},
        {"protocol": None, "port_range_min": 80, "port_range_max": 80},
        {"protocol": "gre", "port_range_min": 80, "port_range_max": 80},
        {"remote_ip_prefix": "::/0"},
        {"direction": "sideways"},
        {"remote_group_id": gid, "remote_ip_prefix": "10.0.0.0/8"},
    ]
    for change in bad:
        resp = await alice.post("/security-group-rules",
                                {"security_group_rule": rule | change}, expect=400)
        assert "NeutronError" in resp.json()
    icmp = rule | {"protocol": "icmp", "port_range_min": 8, "port_range_max": 0}
    await alice.post("/security-group-rules", {"security_group_rule": icmp})
    listed = (await alice.get("/security-group-rules",
                              params={"security_group_id": gid})).json()
    assert len(listed["security_group_rules"]) == 4  # two egress + two made here
    await net_api.as_("bob").post("/security-group-rules", {"security_group_rule": rule},
                                  expect=404)
    await net_api.as_("reader").post("/security-group-rules", {"security_group_rule": rule},
                                     expect=403)


async def test_group_in_use_cannot_go(net_api):
    alice = net_api.as_("alice")
    sg = (await alice.post("/security-groups", {"security_group": {"name": "x"}})).json()
    gid = sg["security_group"]["id"]
    net = await alice.network()
    port = await alice.port(net["id"], security_groups=[gid])
    resp = await alice.delete(f"/security-groups/{gid}", expect=409)
    assert error_type(resp) == "SecurityGroupInUse"
    await alice.put(f"/ports/{port['id']}", {"port": {"security_groups": []}})
    await alice.delete(f"/security-groups/{gid}")


async def make_external(net_api) -> tuple[dict, dict]:
    ext = await net_api.network(name="public", **{"router:external": True})
    sub = await net_api.subnet(ext["id"], "172.24.4.0/24", enable_dhcp=False)
    return ext, sub


async def test_router_gateway_interfaces_and_floating_ips(net_api):
    ext, _ = await make_external(net_api)
    alice = net_api.as_("alice")
    net = await alice.network()
    sn = await alice.subnet(net["id"], "10.0.0.0/24")
    router = (await alice.post("/routers", {"router": {"name": "r"}})).json()["router"]
    assert router["external_gateway_info"] is None
    router = (await alice.put(f"/routers/{router['id']}", {"router": {
        "external_gateway_info": {"network_id": ext["id"]}}})).json()["router"]
    gw = router["external_gateway_info"]
    assert gw["network_id"] == ext["id"] and gw["enable_snat"] is True
    assert gw["external_fixed_ips"][0]["ip_address"] == "172.24.4.2"
    iface = (await alice.put(f"/routers/{router['id']}/add_router_interface",
                             {"subnet_id": sn["id"]})).json()
    assert iface["subnet_id"] == sn["id"] and iface["port_id"]
    rport = (await alice.get(f"/ports/{iface['port_id']}")).json()["port"]
    assert rport["fixed_ips"][0]["ip_address"] == "10.0.0.1"
    assert rport["device_owner"] == "network:router_interface"
    resp = await alice.delete(f"/ports/{iface['port_id']}", expect=409)
    assert error_type(resp) == "ServicePortInUse"
    await alice.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sn["id"]},
                    expect=400)

    vm = await alice.port(net["id"], device_id="vm")
    fip = (await alice.post("/floatingips", {"floatingip": {
        "floating_network_id": ext["id"]}})).json()["floatingip"]
    assert fip["status"] == "DOWN" and fip["port_id"] is None
    assert fip["floating_ip_address"].startswith("172.24.4.")
    fip = (await alice.put(f"/floatingips/{fip['id']}", {"floatingip": {
        "port_id": vm["id"]}})).json()["floatingip"]
    assert fip["router_id"] == router["id"] and fip["status"] == "ACTIVE"
    assert fip["fixed_ip_address"] == vm["fixed_ips"][0]["ip_address"]
    resp = await alice.put(f"/routers/{router['id']}/remove_router_interface",
                           {"subnet_id": sn["id"]}, expect=409)
    assert error_type(resp) == "RouterInterfaceInUseByFloatingIP"
    resp = await alice.put(f"/routers/{router['id']}", {"router": {
        "external_gateway_info": {}}}, expect=409)
    fip = (await alice.put(f"/floatingips/{fip['id']}", {"floatingip": {
        "port_id": None}})).json()["floatingip"]
    assert fip["port_id"] is None and fip["status"] == "DOWN"
    await alice.delete(f"/floatingips/{fip['id']}")

    await alice.delete(f"/routers/{router['id']}", expect=409)
    await alice.put(f"/routers/{router['id']}/remove_router_interface",
                    {"subnet_id": sn["id"]})
    await alice.delete(f"/routers/{router['id']}")
    ports = (await net_api.get("/ports", params={"network_id": ext["id"]})).json()["ports"]
    assert ports == []  # the gateway and floating IP ports went with them


async def test_floating_ip_needs_a_router_and_an_external_network(net_api):
    ext, _ = await make_external(net_api)
    alice = net_api.as_("alice")
    net = await alice.network()
    await alice.subnet(net["id"], "10.0.0.0/24")
    vm = await alice.port(net["id"])
    resp = await alice.post("/floatingips", {"floatingip": {
        "floating_network_id": ext["id"], "port_id": vm["id"]}}, expect=404)
    assert error_type(resp) == "ExternalGatewayForFloatingIPNotFound"
    await alice.post("/floatingips", {"floatingip": {"floating_network_id": net["id"]}},
                     expect=400)
    await alice.post("/floatingips", {"floatingip": {
        "floating_network_id": ext["id"], "floating_ip_address": "172.24.4.99"}}, expect=403)
    await alice.post("/routers", {"router": {"external_gateway_info": {
        "network_id": net["id"]}}}, expect=400)


async def test_router_routes(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    sn = await alice.subnet(net["id"], "10.0.0.0/24")
    router = (await alice.post("/routers", {"router": {"name": "r"}})).json()["router"]
    await alice.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sn["id"]})
    routes = [{"destination": "192.168.0.0/16", "nexthop": "10.0.0.9"}]
    got = (await alice.put(f"/routers/{router['id']}", {"router": {"routes": routes}})).json()
    assert got["router"]["routes"] == routes
    await alice.put(f"/routers/{router['id']}", {"router": {"routes": [
        {"destination": "192.168.0.0/16", "nexthop": "10.9.9.9"}]}}, expect=400)


async def test_quotas(net_api):
    alice = net_api.as_("alice")
    q = (await alice.get("/quotas/p1")).json()["quota"]
    assert q["network"] == 100 and q["port"] == 500 and q["security_group_rule"] == 100
    await alice.get("/quotas/p2", expect=403)
    await alice.put("/quotas/p1", {"quota": {"network": 1}}, expect=403)
    got = (await net_api.put("/quotas/p1", {"quota": {"network": 1}})).json()["quota"]
    assert got["network"] == 1
    await alice.network()
    resp = await alice.post("/networks", {"network": {}}, expect=409)
    assert error_type(resp) == "OverQuota"
    details = (await alice.get("/quotas/p1/details")).json()["quota"]
    assert details["network"] == {"limit": 1, "used": 1, "reserved": 0}
    default = (await alice.get("/quotas/p1/default")).json()["quota"]
    assert default["network"] == 100
    listed = (await net_api.get("/quotas")).json()["quotas"]
    assert [x["project_id"] for x in listed] == ["p1"]
    resp = await net_api.put("/quotas/p1", {"quota": {"network": 0, "check_limit": True}},
                             expect=400)
    assert "already used 1" in resp.json()["NeutronError"]["message"]
    await net_api.put("/quotas/p1", {"quota": {"network": 0, "check_limit": False}})
    await net_api.put("/quotas/p1", {"quota": {"bogus": 1}}, expect=400)
    await net_api.put("/quotas/p1", {"quota": {"network": "many"}}, expect=400)
    await net_api.delete("/quotas/p1")
    assert (await alice.get("/quotas/p1")).json()["quota"]["network"] == 100


async def test_gateway_fixed_ips_and_snat_are_admin_only(net_api):
    ext, sub = await make_external(net_api)
    alice = net_api.as_("alice")
    info = {"network_id": ext["id"], "enable_snat": False,
            "external_fixed_ips": [{"subnet_id": sub["id"], "ip_address": "172.24.4.100"}]}
    resp = await alice.post("/routers", {"router": {"external_gateway_info": info}},
                            expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    router = (await net_api.post("/routers", {"router": {
        "project_id": "p1", "external_gateway_info": info}})).json()["router"]
    gw = router["external_gateway_info"]
    assert gw["enable_snat"] is False
    assert gw["external_fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "172.24.4.100"}]
    mine = (await alice.get(f"/routers/{router['id']}")).json()["router"]
    assert mine["project_id"] == "p1"
