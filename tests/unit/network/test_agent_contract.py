"""What the agents depend on: a DHCP agent's port (device_owner network:dhcp)
never keeps its subnet or network from being deleted, as in Neutron (any other
port still does); changes to routers, floating IPs, security groups and ports
through the API are told to the agents."""


async def test_dhcp_port_goes_with_its_subnet_and_network(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    v4 = await alice.subnet(net["id"], "10.0.0.0/24")
    other = await alice.subnet(net["id"], "10.0.1.0/24")
    dhcp = await net_api.port(net["id"], device_owner="network:dhcp", device_id="dhcpX-n",
                              project_id="p1", fixed_ips=[{"subnet_id": v4["id"]},
                                                          {"subnet_id": other["id"]}])
    await alice.delete(f"/subnets/{v4['id']}")
    left = (await net_api.get(f"/ports/{dhcp['id']}")).json()["port"]["fixed_ips"]
    assert [f["subnet_id"] for f in left] == [other["id"]]
    await alice.delete(f"/networks/{net['id']}")
    await net_api.get(f"/ports/{dhcp['id']}", expect=404)


async def test_a_guest_port_still_keeps_its_network(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    await alice.subnet(net["id"])
    await alice.port(net["id"])
    resp = await alice.delete(f"/networks/{net['id']}", expect=409)
    assert resp.json()["NeutronError"]["type"] == "NetworkInUse"


async def test_the_agents_hear_of_data_plane_changes(net_api, svc):
    alice = net_api.as_("alice")
    group = (await alice.post("/security-groups", {"security_group": {"name": "web"}})
             ).json()["security_group"]
    await alice.post("/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
        "port_range_min": 80, "port_range_max": 80}})
    router = (await alice.post("/routers", {"router": {"name": "r"}})).json()["router"]
    await alice.delete(f"/routers/{router['id']}")
    told = [e[1] for e in svc.notifier.events if e[0] == "resources"]
    assert told == ["security-groups", "security-group-rules", "routers", "routers"]
