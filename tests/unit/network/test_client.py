"""The REST client the compute agent uses, against the real app."""

from __future__ import annotations

import pytest

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.network.client import NetworkClient

ALICE = RequestContext(user_id="u-alice", project_id="p1", roles=["member"], auth_token="alice")
BOB = RequestContext(user_id="u-bob", project_id="p2", roles=["member"], auth_token="bob")


async def test_compute_agent_port_lifecycle(net_api):
    alice = net_api.as_("alice")
    net = await alice.network(name="n")
    sn = await alice.subnet(net["id"], "10.0.0.0/24")
    client = NetworkClient(net_api.client, "http://net/")
    port = await client.create_port(ALICE, net["id"], device_id="vm-1")
    assert port["device_owner"] == "compute:nova" and port["status"] == "DOWN"
    bound = await client.bind_port(ALICE, port["id"], "host-1", "vm-1")
    assert bound["binding:host_id"] == "host-1" and bound["status"] == "ACTIVE"
    [info] = await client.instance_networks(ALICE, "vm-1")
    assert info["network"]["name"] == "n" and [s["id"] for s in info["subnets"]] == [sn["id"]]
    assert info["port"]["fixed_ips"][0]["ip_address"] == "10.0.0.2"
    assert [p["id"] for p in await client.list_ports(ALICE, device_id="vm-1")] == [port["id"]]
    with pytest.raises(exc.NotFound) as err:
        await client.get_port(BOB, port["id"])
    assert err.value.neutron_type == "PortNotFound"
    await client.delete_port(ALICE, port["id"])
    await client.delete_port(ALICE, port["id"])  # already gone: fine by default
    with pytest.raises(exc.NotFound):
        await client.delete_port(ALICE, port["id"], ignore_missing=False)


async def test_client_maps_conflicts(net_api):
    alice = net_api.as_("alice")
    net = await alice.network()
    await alice.subnet(net["id"], "10.0.0.0/30")  # one address: .2
    client = NetworkClient(net_api.client, "http://net")
    await client.create_port(ALICE, net["id"])
    with pytest.raises(exc.Conflict) as err:
        await client.create_port(ALICE, net["id"])
    assert err.value.neutron_type == "IpAddressGenerationFailure"


async def test_security_group_names_resolve_to_the_callers_ids(net_api):
    client = NetworkClient(net_api.client, "http://net")
    made = await net_api.as_("alice").post("/security-groups",
                                           {"security_group": {"name": "web"}})
    web = made.json()["security_group"]["id"]
    ids = await client.security_group_ids(ALICE, ["web", web])
    assert ids == [web, web]
    assert len(await client.security_group_ids(ALICE, ["default"])) == 1
    with pytest.raises(exc.BadRequest, match="Security group web not found"):
        await client.security_group_ids(BOB, ["web"])
