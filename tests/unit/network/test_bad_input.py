"""Garbage in gets a 4xx in Neutron's error format, never a 500."""

from __future__ import annotations

import pytest

GARBAGE = [None, 5, "x", [], [1, 2], {"a": 1}, {"name": 7}, {"network_id": ["x"]},
           {"fixed_ips": "10.0.0.1"}, {"fixed_ips": [{"ip_address": "999.1.1.1"}]},
           {"allocation_pools": [{"start": "a", "end": "b"}]}, {"cidr": "10.0.0.0/99"},
           {"external_gateway_info": "public"}, {"routes": [{"destination": "x"}]},
           {"protocol": {"x": 1}}, {"port_range_min": -5}, {"prefixes": ["nonsense"]},
           {"floating_network_id": None}, {"security_groups": "default"},
           {"mac_address": 12}, {"binding:host_id": ["h"]}, {"tags": "x"}]

COLLECTIONS = {"networks": "network", "subnets": "subnet", "ports": "port",
               "routers": "router", "floatingips": "floatingip",
               "security-groups": "security_group",
               "security-group-rules": "security_group_rule", "subnetpools": "subnetpool"}


def assert_neutron_4xx(resp) -> None:  # noqa: ANN001
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
    body = resp.json()
    assert set(body["NeutronError"]) == {"type", "message", "detail"}


@pytest.mark.parametrize("collection", sorted(COLLECTIONS))
async def test_create_with_garbage(net_api, collection):
    alice = net_api.as_("alice")
    member = COLLECTIONS[collection]
    for value in GARBAGE:
        resp = await alice.request("POST", f"/{collection}", json={member: value})
        assert_neutron_4xx(resp)
        resp = await alice.request("POST", f"/{collection}", json=value)
        assert_neutron_4xx(resp)


async def test_updates_and_actions_with_garbage(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    sn = await alice.subnet(net["id"])
    port = await alice.port(net["id"])
    router = (await alice.post("/routers", {"router": {}})).json()["router"]
    targets = [("networks", "network", net["id"]), ("subnets", "subnet", sn["id"]),
               ("ports", "port", port["id"]), ("routers", "router", router["id"])]
    for collection, member, id_ in targets:
        for value in GARBAGE:
            resp = await alice.request("PUT", f"/{collection}/{id_}", json={member: value})
            if resp.status_code != 200:
                assert_neutron_4xx(resp)
    for action in ("add_router_interface", "remove_router_interface"):
        for value in GARBAGE + [{"subnet_id": "nope"}, {"port_id": "nope"}]:
            resp = await alice.request("PUT", f"/routers/{router['id']}/{action}", json=value)
            assert_neutron_4xx(resp)
    for value in GARBAGE:
        resp = await net_api.request("PUT", "/quotas/p1", json=value)
        assert_neutron_4xx(resp)
        resp = await alice.request("PUT", f"/networks/{net['id']}/tags", json=value)
        assert_neutron_4xx(resp)


async def test_query_garbage(net_api):
    alice = net_api.as_("alice")
    for params in ({"limit": "abc"}, {"limit": "-1"}, {"marker": "nope"},
                   {"sort_key": "name", "sort_dir": "sideways"},
                   {"admin_state_up": "maybe"}, {"mtu": "big"},
                   {"fixed_ips": "color=red"}, {"page_reverse": "perhaps"}):
        resp = await alice.request("GET", "/ports" if "fixed_ips" in params else "/networks",
                                   params=params)
        assert_neutron_4xx(resp)
    resp = await alice.request("GET", "/bogus")
    assert_neutron_4xx(resp)
    resp = await alice.request("DELETE", "/networks")
    assert_neutron_4xx(resp)
